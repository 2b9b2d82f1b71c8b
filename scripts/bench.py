"""`make bench`: training time, model size, start-up time, memory and turn latency.

Every figure is the median over several runs (the machine is shared and noisy); the
raw runs are written to var/bench/latest.json.

    .venv/bin/python -m scripts.bench [--runs 3] [--conversations 30] [--skip-training]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

from callback_coach.launcher import (
    BIN,
    DEFAULT_MODEL,
    PROJECT_ROOT,
    Server,
    default_environment,
    free_port,
    start_action_server,
    start_rasa_server,
)

# Eight turns, most of them through the custom action.
CONVERSATION = (
    "hi",
    "I interviewed at Acme Corp for the data analyst job and nobody called me back",
    "it was 9 days ago",
    "/ask_contact_recruiter",
    "they just rejected me by email",
    "another company put their vacancy on hold",
    "thanks, that helps",
    "bye",
)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def rss_per_process_mb(pid: int) -> list[float]:
    """Resident memory of a process and of each of its descendants, in MB."""
    sizes = []
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            with open(f"/proc/{current}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        sizes.append(int(line.split()[1]) / 1024)
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        pids += [int(child) for child in children]
    return sizes


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its descendants so far."""
    total = 0.0
    pids = [pid]
    tick = os.sysconf("SC_CLK_TCK")
    while pids:
        current = pids.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
        pids += [int(child) for child in children]
    return total


def redis_reachable(env: dict[str, str]) -> bool:
    try:
        with socket.create_connection((env["REDIS_HOST"], int(env["REDIS_PORT"])), timeout=1):
            return True
    except OSError:
        return False


def measure_training(runs: int) -> list[float]:
    """Cold training (empty Rasa cache) into a throw-away folder."""
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as scratch:
            env = {**default_environment(), "RASA_CACHE_DIRECTORY": str(Path(scratch) / "cache")}
            started = time.monotonic()
            with open(Path(scratch) / "train.log", "wb") as log:
                subprocess.run(
                    [str(BIN / "rasa"), "train", "--out", str(Path(scratch) / "models")],
                    cwd=PROJECT_ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    check=True,
                )
            times.append(time.monotonic() - started)
    return times


def conversation(url: str) -> list[float]:
    sender = f"bench-{uuid.uuid4().hex[:12]}"
    latencies = []
    with requests.Session() as session:
        for text in CONVERSATION:
            started = time.perf_counter()
            response = session.post(
                f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60
            )
            response.raise_for_status()
            if not response.json():
                raise RuntimeError(f"no reply to {text!r}")
            latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def load(url: str, concurrency: int, conversations: int, *servers: Server) -> dict[str, float]:
    """Turn latency and throughput; with servers given, also their CPU time per turn,
    which the machine's other load disturbs far less than the clock."""
    cpu_before = [cpu_seconds(server.process.pid) for server in servers]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(lambda _: conversation(url), range(conversations)))
    elapsed = time.perf_counter() - started
    latencies = [ms for result in results for ms in result]
    figures = {
        "p50_ms": statistics.median(latencies),
        "p95_ms": percentile(latencies, 0.95),
        "turns_per_s": len(latencies) / elapsed,
    }
    for server, before in zip(servers, cpu_before, strict=True):
        used = cpu_seconds(server.process.pid) - before
        figures[f"{server.name} cpu_ms_per_turn"] = 1000 * used / len(latencies)
    return figures


def start_both(
    model: Path, workdir: Path, workers: int = 1, stock_rasa: bool = False
) -> tuple[Server, Server, float]:
    env = default_environment()
    env["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.db'}"
    if workers > 1:
        # Rasa runs several Sanic workers only with a lock store they can share.
        env.update(SANIC_WORKERS=str(workers), LOCK_STORE_TYPE="redis")
    action_port, rasa_port = free_port(), free_port()
    env["ACTION_ENDPOINT_URL"] = f"http://127.0.0.1:{action_port}/webhook"
    actions = start_action_server(action_port, env, workdir / "actions.log")
    started = time.monotonic()
    rasa = start_rasa_server(model, rasa_port, env, workdir / "rasa.log", stock_rasa=stock_rasa)
    # Start-up ends with the first reply to a user message.
    requests.post(
        f"{rasa.url}/webhooks/rest/webhook",
        json={"sender": "bench-start", "message": "hi"},
        timeout=60,
    ).raise_for_status()
    return actions, rasa, time.monotonic() - started


def median_of(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--conversations", type=int, default=30)
    parser.add_argument("--skip-training", action="store_true")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    args = parser.parse_args()

    report: dict[str, Any] = {"runs": args.runs, "conversation_turns": len(CONVERSATION)}
    if not args.skip_training:
        report["training_s"] = measure_training(args.runs)
    report["model_mb"] = args.model.stat().st_size / 1e6

    starts, memory, single, ten = [], [], [], []
    for _ in range(args.runs):
        workdir = Path(tempfile.mkdtemp(prefix="bench-"))
        actions, rasa, start_s = start_both(args.model, workdir)
        try:
            starts.append(start_s)
            single.append(load(rasa.url, 1, args.conversations, rasa, actions))
            ten.append(load(rasa.url, 10, args.conversations))
            memory.append(
                {
                    "rasa_mb": max(rss_per_process_mb(rasa.process.pid)),
                    "actions_mb": max(rss_per_process_mb(actions.process.pid)),
                }
            )
        finally:
            rasa.stop()
            actions.stop()
            shutil.rmtree(workdir, ignore_errors=True)
    report.update(start_s=starts, memory=memory, one_at_a_time=single, ten_at_once=ten)

    two_workers = []
    if redis_reachable(default_environment()):
        for _ in range(args.runs):
            workdir = Path(tempfile.mkdtemp(prefix="bench-"))
            actions, rasa, _ = start_both(args.model, workdir, workers=2)
            try:
                load(rasa.url, 10, 10)  # both workers past their first, slower, turns
                two_workers.append(load(rasa.url, 10, args.conversations))
            finally:
                rasa.stop()
                actions.stop()
                shutil.rmtree(workdir, ignore_errors=True)
        report["ten_at_once_two_workers"] = two_workers

    out = PROJECT_ROOT / "var" / "bench" / "latest.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1))

    print(f"Callback Coach benchmark: medians of {args.runs} runs on {os.cpu_count()} cores")
    if "training_s" in report:
        print(f"  training (cold cache)      {statistics.median(report['training_s']):8.1f} s")
    print(f"  model size                 {report['model_mb']:8.1f} MB")
    print(f"  server start to answer     {statistics.median(starts):8.1f} s")
    print(f"  Rasa server RSS, per proc. {median_of(memory, 'rasa_mb'):8.0f} MB")
    print(f"  action server RSS          {median_of(memory, 'actions_mb'):8.0f} MB")
    for server in ("Rasa server", "action server"):
        cpu = median_of(single, f"{server} cpu_ms_per_turn")
        print(f"  {server + ' CPU per turn':<26} {cpu:8.1f} ms")
    loads = [("1 at a time", single), ("10 at once", ten)]
    if two_workers:
        loads.append(("10 at once, 2 workers + Redis locks", two_workers))
    else:
        print("  (no Redis at REDIS_HOST:REDIS_PORT: the two-worker run was left out)")
    for label, runs in loads:
        p50, p95 = median_of(runs, "p50_ms"), median_of(runs, "p95_ms")
        print(f"  {label}")
        print(
            f"      p50 {p50:6.1f} ms  p95 {p95:6.1f} ms"
            f"  {median_of(runs, 'turns_per_s'):6.1f} turns/s"
        )
    print(f"  raw runs: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
