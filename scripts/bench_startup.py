"""Start-up with and without the installed packages' compiled bytecode, alternated.

`make setup` compiles the bytecode when it installs the packages (uv --compile-bytecode).
Without it, and with PYTHONDONTWRITEBYTECODE set (our machines, most Docker images),
Python compiles every module from source at each start and keeps nothing. This script
hides the bytecode from the servers by pointing PYTHONPYCACHEPREFIX at an empty folder,
runs both ways in turn, and prints the medians: seconds until the first answer, and the
Rasa server's CPU seconds by then.

    .venv/bin/python -m scripts.bench_startup [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
from pathlib import Path

from callback_coach.launcher import DEFAULT_MODEL
from scripts.bench import cpu_seconds, start_both


def one_start(hide_bytecode: bool) -> tuple[float, float]:
    workdir = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    saved = dict(os.environ)
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"  # nothing written: each start is alike
    if hide_bytecode:
        os.environ["PYTHONPYCACHEPREFIX"] = str(workdir / "no-bytecode")
    else:
        os.environ.pop("PYTHONPYCACHEPREFIX", None)
    try:
        actions, rasa, start_s = start_both(DEFAULT_MODEL, workdir)
        try:
            return start_s, cpu_seconds(rasa.process.pid)
        finally:
            rasa.stop()
            actions.stop()
    finally:
        os.environ.clear()
        os.environ.update(saved)
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, list[tuple[float, float]]] = {"from source": [], "bytecode": []}
    for _ in range(args.runs):
        for name, hide in (("from source", True), ("bytecode", False)):
            start_s, cpu_s = one_start(hide)
            results[name].append((start_s, cpu_s))
            print(f"  {name:12} start {start_s:5.1f} s, Rasa server CPU {cpu_s:5.1f} s", flush=True)
    print(f"Medians of {args.runs} alternated runs")
    for name, runs in results.items():
        start = statistics.median(start_s for start_s, _ in runs)
        cpu = statistics.median(cpu_s for _, cpu_s in runs)
        print(f"  {name:12} start until it answers {start:5.1f} s, Rasa server CPU {cpu:5.1f} s")


if __name__ == "__main__":
    main()
