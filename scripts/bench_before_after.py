"""Before/after of a change, interleaved: this checkout against an earlier commit.

The machine's speed drifts over a day, so two `make bench` runs hours apart do not
compare. This script checks the earlier commit out beside this one (a git worktree
under var/bench/, sharing this checkout's trained model, and its .venv too unless the
commit locks other dependencies, which then get a .venv of their own), then alternates
runs of the two: start-up, memory, CPU per turn and latency one conversation at a
time, throughput at 10 at once, and CPU per turn early and late in 50-turn
conversations. Medians are printed; raw runs go to var/bench/before-after.json.

    .venv/bin/python -m scripts.bench_before_after --before 5f17c6f [--runs 3] [--long-turns 50]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from callback_coach.launcher import DEFAULT_MODEL, PROJECT_ROOT

OUT = PROJECT_ROOT / "var" / "bench"

# Run inside each checkout, with that checkout's own code and scripts.bench.
DRIVER = r"""
import json, os, shutil, statistics, sys, tempfile, time, uuid
from pathlib import Path
import requests
from scripts.bench import CONVERSATION, cpu_seconds, load, rss_per_process_mb, start_both
# a checkout whose REST channel needs a token sets it when scripts.bench is imported
headers = {"Authorization": "Bearer " + os.environ.get("REST_CHANNEL_TOKEN", "")}

conversations, long_turns = int(sys.argv[1]), int(sys.argv[2])
workdir = Path(tempfile.mkdtemp(prefix="bench-before-after-"))
actions, rasa, start_s = start_both(Path("models/callback-coach.tar.gz"), workdir)
try:
    load(rasa.url, 1, 2)
    one = load(rasa.url, 1, conversations, rasa, actions)
    ten = load(rasa.url, 10, 2 * conversations)
    early, late = [], []
    for _ in range(2):
        sender = f"bench-long-{uuid.uuid4().hex[:12]}"
        per_turn = []
        with requests.Session() as session:
            for number in range(long_turns):
                before = cpu_seconds(rasa.process.pid) + cpu_seconds(actions.process.pid)
                session.post(f"{rasa.url}/webhooks/rest/webhook",
                             json={"sender": sender, "message": CONVERSATION[1 + number % 6]},
                             headers=headers,
                             timeout=60).raise_for_status()
                after = cpu_seconds(rasa.process.pid) + cpu_seconds(actions.process.pid)
                per_turn.append(1000 * (after - before))
        early.append(statistics.mean(per_turn[:10]))
        late.append(statistics.mean(per_turn[-10:]))
    print(json.dumps({
        "start_s": start_s,
        "rasa_mb": max(rss_per_process_mb(rasa.process.pid)),
        "actions_mb": max(rss_per_process_mb(actions.process.pid)),
        "rasa_cpu_ms": one["Rasa server cpu_ms_per_turn"],
        "actions_cpu_ms": one["action server cpu_ms_per_turn"],
        "p50_ms": one["p50_ms"], "p95_ms": one["p95_ms"],
        "ten_turns_per_s": ten["turns_per_s"],
        "cpu_first_10_ms": statistics.median(early),
        "cpu_last_10_ms": statistics.median(late),
    }))
finally:
    rasa.stop()
    actions.stop()
    shutil.rmtree(workdir, ignore_errors=True)
"""

FIGURES = (
    ("start_s", "start until it answers", "s"),
    ("rasa_mb", "Rasa server RSS", "MB"),
    ("actions_mb", "action server RSS", "MB"),
    ("rasa_cpu_ms", "Rasa server CPU per turn", "ms"),
    ("actions_cpu_ms", "action server CPU per turn", "ms"),
    ("p50_ms", "1 at a time, p50", "ms"),
    ("p95_ms", "1 at a time, p95", "ms"),
    ("ten_turns_per_s", "10 at once, throughput", "turns/s"),
    ("cpu_first_10_ms", "CPU per turn, turns 1-10 of {turns}", "ms"),
    ("cpu_last_10_ms", "CPU per turn, turns {last}-{turns} of {turns}", "ms"),
)


def checkout(revision: str) -> tuple[Path, Path]:
    """The earlier commit beside this checkout, sharing its trained model, and the Python
    to measure it with: this checkout's, or, when the commit's uv.lock differs, one of its
    own made as `make` makes it (so a dependency upgrade can be measured too)."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", revision],
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    place = OUT / f"before-{commit}"
    if not place.exists():
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(place), commit],
            cwd=PROJECT_ROOT,
            check=True,
            capture_output=True,
        )
    venv = place / ".venv"
    if (place / "uv.lock").read_bytes() == (PROJECT_ROOT / "uv.lock").read_bytes():
        if venv.is_symlink() or not venv.exists():
            venv.unlink(missing_ok=True)
            venv.symlink_to(PROJECT_ROOT / ".venv")
        python = Path(sys.executable)
    else:
        if venv.is_symlink():
            venv.unlink()
        with (OUT / f"venv-{commit}.log").open("w") as log:
            subprocess.run(
                ["make", "--no-print-directory", ".venv/.spacy-model"],
                cwd=place,
                check=True,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        python = venv / "bin" / "python"
    (place / "models").mkdir(exist_ok=True)
    (place / "models" / DEFAULT_MODEL.name).write_bytes(DEFAULT_MODEL.read_bytes())
    return place, python


def measure(root: Path, python: Path, conversations: int, long_turns: int) -> dict[str, float]:
    result = subprocess.run(
        [str(python), "-c", DRIVER, str(conversations), str(long_turns)],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--before", required=True, help="the earlier commit, e.g. 5f17c6f")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--conversations", type=int, default=15)
    parser.add_argument(
        "--long-turns", type=int, default=50, help="length of the long conversations (>= 20)"
    )
    args = parser.parse_args()
    if args.long_turns < 20:
        parser.error("--long-turns must be at least 20")

    before_root, before_python = checkout(args.before)
    after_python = Path(sys.executable)
    sizes = (args.conversations, args.long_turns)
    runs: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    for _ in range(args.runs):
        runs["before"].append(measure(before_root, before_python, *sizes))
        runs["after"].append(measure(PROJECT_ROOT, after_python, *sizes))
    OUT.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"before": args.before, "runs": runs}
    (OUT / "before-after.json").write_text(json.dumps(report, indent=1))

    print(f"Before ({args.before}) and after (this checkout), medians of {args.runs} runs")
    for key, label_template, unit in FIGURES:
        label = label_template.format(turns=args.long_turns, last=args.long_turns - 9)
        old = statistics.median(run[key] for run in runs["before"])
        new = statistics.median(run[key] for run in runs["after"])
        change = 100 * (new - old) / old if old else float("nan")
        print(f"  {label:<34} {old:9.1f} {new:9.1f} {unit:<8} {change:+6.0f} %")
    print(f"  raw runs: {OUT / 'before-after.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
