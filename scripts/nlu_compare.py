"""`make nlu-compare`: cross-validated intent F1 of our pipeline beside Rasa's default one.

Runs `rasa test nlu --cross-validation` for both configurations on the same data
(data/nlu) and prints accuracy and macro/weighted F1 over the test folds. Takes a
while: the default pipeline's transformer trains for 100 epochs per fold.

    .venv/bin/python -m scripts.nlu_compare [--folds 3]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time
from pathlib import Path

from callback_coach.launcher import BIN, PROJECT_ROOT, default_environment

CONFIGS = {
    "callback-coach (config.yml)": PROJECT_ROOT / "config.yml",
    "Rasa default pipeline": PROJECT_ROOT / "scripts" / "configs" / "rasa_default_pipeline.yml",
}


def cross_validate(config: Path, folds: int, out: Path) -> dict[str, float]:
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with open(out / "log.txt", "wb") as log:
        subprocess.run(
            [
                str(BIN / "rasa"),
                "test",
                "nlu",
                "--nlu",
                "data/nlu",
                "--config",
                str(config),
                "--cross-validation",
                "--folds",
                str(folds),
                "--out",
                str(out),
                "--no-plot",
            ],
            cwd=PROJECT_ROOT,
            env=default_environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
            check=True,
        )
    report = json.loads((out / "intent_report.json").read_text())
    return {
        "accuracy": report["accuracy"],
        "macro_f1": report["macro avg"]["f1-score"],
        "weighted_f1": report["weighted avg"]["f1-score"],
        "minutes": (time.monotonic() - started) / 60,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folds", type=int, default=3)
    args = parser.parse_args()
    results = {}
    for name, config in CONFIGS.items():
        slug = config.stem
        results[name] = cross_validate(
            config, args.folds, PROJECT_ROOT / "var" / "nlu-compare" / slug
        )
        print(name, json.dumps(results[name]), flush=True)
    print(f"\n{args.folds}-fold cross-validation on data/nlu (test folds):")
    print("| pipeline | accuracy | macro F1 | weighted F1 | minutes |\n|---|---|---|---|---|")
    for name, r in results.items():
        print(
            f"| {name} | {r['accuracy']:.3f} | {r['macro_f1']:.3f} | {r['weighted_f1']:.3f} "
            f"| {r['minutes']:.1f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
