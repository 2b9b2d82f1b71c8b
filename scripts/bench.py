"""`make bench`: training time, model size, start-up time, memory and turn latency.

Load over REST with the custom action in the loop, 8-turn conversations at 1, 10 and
50 at once (p50/p95/p99, turns/s, replies missing), against one replica (SQLite, as
`make run`), one Rasa process with two Sanic workers, and two replicas with two action
servers behind nginx on PostgreSQL and Redis (callback_coach.cluster); plus CPU per
turn early and late in 50-turn (--long-turns) conversations, and, in the first run, the
Rasa server's memory as 1,000 (--new-conversations) more conversations arrive. Every
figure is the median over several runs (the machine is shared and noisy); the raw runs
are written to var/bench/latest.json.

    .venv/bin/python -m scripts.bench [--runs 3] [--conversations 30] [--levels 1,10,50]
        [--skip-training | --training-runs N] [--skip-replicas] [--long-turns 50]
        [--new-conversations 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
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
# The REST channel needs its token (docs/security.md); the servers started here get the
# same one through the environment.
os.environ.setdefault("REST_CHANNEL_TOKEN", secrets.token_urlsafe(24))
REST_HEADERS = {"Authorization": f"Bearer {os.environ['REST_CHANNEL_TOKEN']}"}

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


def conversation(url: str, turns: tuple[str, ...] = CONVERSATION) -> tuple[list[float], int]:
    """One conversation over REST: the latency of each answered turn, and how many
    turns got no reply (an error, a timeout or an empty answer)."""
    sender = f"bench-{uuid.uuid4().hex[:12]}"
    latencies, missing = [], 0
    with requests.Session() as session:
        for text in turns:
            started = time.perf_counter()
            try:
                response = session.post(
                    f"{url}/webhooks/rest/webhook",
                    json={"sender": sender, "message": text},
                    headers=REST_HEADERS,
                    timeout=60,
                )
                answered = response.status_code == 200 and bool(response.json())
            except (requests.RequestException, ValueError):
                answered = False
            if answered:
                latencies.append((time.perf_counter() - started) * 1000)
            else:
                missing += 1
    return latencies, missing


def load(url: str, concurrency: int, conversations: int, *servers: Server) -> dict[str, float]:
    """Turn latency, throughput and replies missing; with servers given, also their CPU
    time per turn, which the machine's other load disturbs far less than the clock.
    The load generator's own CPU per turn is recorded too: it shares the cores."""
    cpu_before = [cpu_seconds(server.process.pid) for server in servers]
    client_before = time.process_time()
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(lambda _: conversation(url), range(conversations)))
    elapsed = time.perf_counter() - started
    client_used = time.process_time() - client_before
    latencies = [ms for answered, _ in results for ms in answered]
    figures = {
        "p50_ms": statistics.median(latencies) if latencies else float("nan"),
        "p95_ms": percentile(latencies, 0.95) if latencies else float("nan"),
        "p99_ms": percentile(latencies, 0.99) if latencies else float("nan"),
        "turns_per_s": len(latencies) / elapsed,
        "missing": float(sum(missing for _, missing in results)),
    }
    turns = max(1, len(latencies))
    figures["load generator cpu_ms_per_turn"] = 1000 * client_used / turns
    for server, before in zip(servers, cpu_before, strict=True):
        used = cpu_seconds(server.process.pid) - before
        figures[f"{server.name} cpu_ms_per_turn"] = 1000 * used / turns
    return figures


LONG_TURNS = 50


def cost_as_conversations_grow(
    rasa: Server, actions: Server, turns: int = LONG_TURNS, conversations: int = 3
) -> dict:
    """CPU time per turn (both servers) in the first and last 10 turns of long
    conversations."""
    windows: dict[str, list[float]] = {"first 10 turns": [], "last 10 turns": []}
    for _ in range(conversations):
        sender = f"bench-long-{uuid.uuid4().hex[:12]}"
        per_turn = []
        with requests.Session() as session:
            for number in range(turns):
                before = cpu_seconds(rasa.process.pid) + cpu_seconds(actions.process.pid)
                session.post(
                    f"{rasa.url}/webhooks/rest/webhook",
                    json={"sender": sender, "message": CONVERSATION[1 + number % 6]},
                    headers=REST_HEADERS,
                    timeout=60,
                ).raise_for_status()
                after = cpu_seconds(rasa.process.pid) + cpu_seconds(actions.process.pid)
                per_turn.append(1000 * (after - before))
        windows["first 10 turns"].append(statistics.mean(per_turn[:10]))
        windows["last 10 turns"].append(statistics.mean(per_turn[-10:]))
    return {window: statistics.median(values) for window, values in windows.items()}


SOAK_BLOCK = 250


def memory_as_conversations_arrive(rasa: Server, conversations: int) -> list[list[float]]:
    """The Rasa server's RSS after each block of new conversations, 10 at once: a cache
    that never stops growing shows here long before a day of real traffic would."""
    points = [[0, max(rss_per_process_mb(rasa.process.pid))]]
    done = 0
    while done < conversations:
        block = min(SOAK_BLOCK, conversations - done)
        load(rasa.url, 10, block)
        done += block
        points.append([done, max(rss_per_process_mb(rasa.process.pid))])
    return points


def memory_mb(*servers: Server) -> dict[str, float]:
    """Resident memory of the largest process of each server (a worker, or the server)."""
    return {
        f"{server.name} {index}": max(rss_per_process_mb(server.process.pid))
        for index, server in enumerate(servers)
    }


# A benchmark's senders type far faster than people: the per-sender rate limit (which
# still runs on every message) is raised so that it refuses nothing.
UNLIMITED = {"COACH_RATE_LIMIT_MESSAGES": "1000000"}


def start_both(
    model: Path, workdir: Path, workers: int = 1, stock_rasa: bool = False
) -> tuple[Server, Server, float]:
    env = default_environment()
    env.update(UNLIMITED)
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
        headers=REST_HEADERS,
        timeout=60,
    ).raise_for_status()
    return actions, rasa, time.monotonic() - started


def median_of(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def two_replica_runs(args: argparse.Namespace) -> list[dict[str, Any]] | str:
    """The load levels through nginx in front of two Rasa replicas and two action
    servers on PostgreSQL and Redis (callback_coach.cluster), or why they were left out."""
    try:
        from callback_coach.cluster import NGINX, start_cluster
    except ImportError:
        return "callback_coach.cluster is missing"
    env = default_environment()
    if not NGINX.exists() or not redis_reachable(env):
        return f"needs {NGINX} and Redis at REDIS_HOST:REDIS_PORT"
    import sqlalchemy as sa

    admin_url = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    name = f"callback_coach_bench_{uuid.uuid4().hex[:8]}"
    try:
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE {name}")
    except sa.exc.SQLAlchemyError as error:
        return f"no PostgreSQL at {admin_url} (BENCH_POSTGRES_URL): {error}"
    url = str(sa.engine.make_url(admin_url).set(database=name))
    runs = []
    try:
        for _ in range(args.runs):
            workdir = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
            cluster = start_cluster(
                url, replicas=2, model=args.model, log_dir=workdir, env=UNLIMITED
            )
            try:
                load(cluster.nginx_url, 10, 10)  # every replica past its first turns
                run: dict[str, Any] = {
                    f"{level} at once": load(
                        cluster.nginx_url, level, max(args.conversations, 2 * level)
                    )
                    for level in args.levels
                }
                run["memory"] = memory_mb(*cluster.rasa, *cluster.actions)
                runs.append(run)
            finally:
                cluster.stop()
                shutil.rmtree(workdir, ignore_errors=True)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    return runs


def print_load(label: str, runs: list[dict[str, float]]) -> None:
    print(
        f"  {label:<34} p50 {median_of(runs, 'p50_ms'):6.1f}  p95 {median_of(runs, 'p95_ms'):6.1f}"
        f"  p99 {median_of(runs, 'p99_ms'):6.1f} ms  {median_of(runs, 'turns_per_s'):5.1f} turns/s"
        f"  missing {max(run['missing'] for run in runs):.0f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--conversations", type=int, default=30)
    parser.add_argument(
        "--levels",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[1, 10, 50],
        help="concurrent conversations, e.g. 1,10,50",
    )
    parser.add_argument("--skip-training", action="store_true")
    parser.add_argument("--training-runs", type=int, help="cold trainings (default: --runs)")
    parser.add_argument("--skip-replicas", action="store_true")
    parser.add_argument(
        "--long-turns",
        type=int,
        default=LONG_TURNS,
        help="length of the conversations whose first and last 10 turns are compared",
    )
    parser.add_argument(
        "--new-conversations",
        type=int,
        default=1000,
        help="new conversations for the memory-over-time measure, in the first run (0: none)",
    )
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    args = parser.parse_args()

    report: dict[str, Any] = {"runs": args.runs, "conversation_turns": len(CONVERSATION)}
    if not args.skip_training:
        report["training_s"] = measure_training(args.training_runs or args.runs)
    report["model_mb"] = args.model.stat().st_size / 1e6

    starts, memory, growth = [], [], []
    arriving: list[list[float]] = []
    levels: dict[int, list[dict[str, float]]] = {level: [] for level in args.levels}
    for _ in range(args.runs):
        workdir = Path(tempfile.mkdtemp(prefix="bench-"))
        actions, rasa, start_s = start_both(args.model, workdir)
        try:
            starts.append(start_s)
            for level in args.levels:
                conversations = max(args.conversations, 2 * level)
                levels[level].append(load(rasa.url, level, conversations, rasa, actions))
            growth.append(cost_as_conversations_grow(rasa, actions, args.long_turns))
            memory.append(
                {
                    "rasa_mb": max(rss_per_process_mb(rasa.process.pid)),
                    "actions_mb": max(rss_per_process_mb(actions.process.pid)),
                }
            )
            if not arriving and args.new_conversations > 0:
                arriving = memory_as_conversations_arrive(rasa, args.new_conversations)
        finally:
            rasa.stop()
            actions.stop()
            shutil.rmtree(workdir, ignore_errors=True)
    report.update(start_s=starts, memory=memory, growth=growth)
    report["memory_as_conversations_arrive"] = arriving
    report["one_replica"] = {f"{level} at once": runs for level, runs in levels.items()}

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
    replicas = "left out (--skip-replicas)" if args.skip_replicas else two_replica_runs(args)
    report["two_replicas"] = replicas

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
    if arriving:
        print(
            "  Rasa server RSS after N new conversations (first run): "
            + ", ".join(f"{count:.0f}: {mb:.0f} MB" for count, mb in arriving)
        )
    first = levels[args.levels[0]]
    for server in ("Rasa server", "action server"):
        cpu = median_of(first, f"{server} cpu_ms_per_turn")
        print(f"  {server + ' CPU per turn':<26} {cpu:8.1f} ms")
    early, late = median_of(growth, "first 10 turns"), median_of(growth, "last 10 turns")
    last = args.long_turns
    print(
        f"  CPU per turn, both servers, {last}-turn talks: "
        f"turns 1-10 {early:.1f}, {last - 9}-{last} {late:.1f} ms"
    )
    print("  one replica (SQLite, the `make run` set-up)")
    for level, runs in levels.items():
        print_load(f"  {level} at once", runs)
    if two_workers:
        print_load("10 at once, 2 workers + Redis locks", two_workers)
    else:
        print("  (no Redis at REDIS_HOST:REDIS_PORT: the two-worker run was left out)")
    if isinstance(replicas, str):
        print(f"  two replicas: {replicas}")
    else:
        print("  two replicas + two action servers behind nginx (PostgreSQL, Redis)")
        for level in args.levels:
            print_load(f"  {level} at once", [run[f"{level} at once"] for run in replicas])
        sizes = [size for run in replicas for size in run["memory"].values()]
        print(f"    largest process RSS {max(sizes):.0f} MB")
    print(f"  raw runs: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
