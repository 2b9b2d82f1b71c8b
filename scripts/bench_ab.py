"""Before/after of our server-side speed-ups, interleaved on the same machine.

"stock" is the same model and data served the way Rasa does it by default: plain
`rasa run`, Rasa's DIETClassifier and SpacyEntityExtractor (config.yml with our two
components swapped back). "ours" is `make run`'s set-up. Runs alternate, so both see
the same machine load; medians are printed and the raw runs written to
var/bench/ab.json.

    .venv/bin/python -m scripts.bench_ab [--runs 3] [--conversations 15]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path

from callback_coach.launcher import (
    BIN,
    DEFAULT_MODEL,
    PROJECT_ROOT,
    default_environment,
)
from scripts.bench import load, rss_per_process_mb, start_both

OURS_TO_STOCK = {
    "callback_coach.nlu.quick_load_diet.QuickLoadDIETClassifier": "DIETClassifier",
    "callback_coach.nlu.shared_doc_entities.SharedDocSpacyEntityExtractor": "SpacyEntityExtractor",
}
OUT = PROJECT_ROOT / "var" / "bench"


def train_stock_model() -> Path:
    config = (PROJECT_ROOT / "config.yml").read_text()
    for ours, stock in OURS_TO_STOCK.items():
        config = config.replace(ours, stock)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "stock-config.yml").write_text(config)
    with open(OUT / "stock-train.log", "wb") as log:
        subprocess.run(
            [str(BIN / "rasa"), "train", "--config", str(OUT / "stock-config.yml")]
            + ["--out", str(OUT), "--fixed-model-name", "stock"],
            cwd=PROJECT_ROOT,
            env=default_environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
            check=True,
        )
    return OUT / "stock.tar.gz"


def measure(kind: str, stock_model: Path, conversations: int) -> dict[str, float]:
    workdir = Path(tempfile.mkdtemp(prefix="bench-ab-"))
    model = stock_model if kind == "stock" else DEFAULT_MODEL
    actions, rasa, start_s = start_both(model, workdir, stock_rasa=kind == "stock")
    try:
        figures = {"start_s": start_s, **load(rasa.url, 1, conversations, rasa, actions)}
        figures["rasa_rss_mb"] = max(rss_per_process_mb(rasa.process.pid))
        return figures
    finally:
        rasa.stop()
        actions.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--conversations", type=int, default=15)
    args = parser.parse_args()

    stock_model = train_stock_model()
    runs: dict[str, list[dict[str, float]]] = {"stock": [], "ours": []}
    for _ in range(args.runs):
        for kind in runs:
            runs[kind].append(measure(kind, stock_model, args.conversations))
    (OUT / "ab.json").write_text(json.dumps(runs, indent=1))

    keys = ("start_s", "rasa_rss_mb", "Rasa server cpu_ms_per_turn", "p50_ms", "p95_ms")
    print(f"medians of {args.runs} interleaved runs, one conversation at a time")
    print(f"  {'':32}{'stock':>10}{'ours':>10}")
    for key in keys:
        stock = statistics.median(run[key] for run in runs["stock"])
        ours = statistics.median(run[key] for run in runs["ours"])
        print(f"  {key:<32}{stock:10.1f}{ours:10.1f}")
    print(f"  raw runs: {OUT / 'ab.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
