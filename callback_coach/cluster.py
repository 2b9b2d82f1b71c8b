"""Several Rasa replicas and action servers behind nginx, on one machine.

The production shape (docs/production.md) in miniature: every Rasa replica and action
server shares one PostgreSQL database (conversations and our records) and Rasa's lock
store is Redis, so any replica can take any turn of any conversation. nginx balances
the public routes over the replicas (sticky for socket.io) and, on an internal port,
the replicas' action calls over the action servers.

    from callback_coach.cluster import start_cluster
    cluster = start_cluster(database_url="postgresql://...", replicas=2)
    try:
        ...  # cluster.nginx_url, cluster.rasa_urls, cluster.api_token
    finally:
        cluster.stop()

`python -m callback_coach.cluster` (`make scale-demo`) runs it until Ctrl-C.
"""

from __future__ import annotations

import argparse
import functools
import os
import secrets
import signal
import socket
import string
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from callback_coach.launcher import (
    DEFAULT_MODEL,
    LOG_DIR,
    PROJECT_ROOT,
    Server,
    ServerError,
    default_environment,
    free_port,
    raise_interrupt,
    spawn,
    start_action_server,
    start_rasa_server,
)

NGINX = Path("/usr/sbin/nginx")
NGINX_TEMPLATE = PROJECT_ROOT / "deploy" / "nginx" / "callback-coach.conf.template"
# The demo's database when DATABASE_URL is unset; created on first use.
DEFAULT_DEMO_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/callback_coach"


@dataclass
class Cluster:
    """What start_cluster() started; stop() ends all of it."""

    rasa: list[Server]
    actions: list[Server]
    nginx: Server
    nginx_url: str
    internal_url: str
    api_token: str
    database_url: str
    # what REST clients send as `Authorization: Bearer …` (REST_CHANNEL_TOKEN)
    rest_token: str = ""
    stopped: bool = field(default=False, init=False)

    @property
    def rasa_urls(self) -> list[str]:
        """Each replica's own address (with the HTTP API on, behind `api_token`)."""
        return [server.url for server in self.rasa]

    @property
    def action_urls(self) -> list[str]:
        return [server.url for server in self.actions]

    def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        _stop_all([self.nginx, *self.rasa, *self.actions])


def start_cluster(
    database_url: str,
    replicas: int = 2,
    model: Path = DEFAULT_MODEL,
    log_dir: Path = LOG_DIR / "cluster",
    env: Mapping[str, str] | None = None,
    nginx_port: int | None = None,
    api_token: str | None = None,
    listen_host: str = "127.0.0.1",
    enable_api: bool = False,
) -> Cluster:
    """Starts `replicas` action servers, then nginx, then `replicas` Rasa servers.

    database_url: PostgreSQL shared by all of them (it must exist).
    env: extra environment for the servers (e.g. channel credentials); REDIS_HOST and
        REDIS_PORT, when given here or in os.environ, say where Redis is.
    nginx_port: the public port (a free one when None); the internal port is free.
    listen_host: where nginx's public side listens; 127.0.0.1 unless you mean otherwise.
    Returns once every server answers; on failure, whatever started is stopped and
    ServerError says which server failed and where its log is.
    """
    if replicas < 1:
        raise ValueError("replicas must be at least 1")
    if not NGINX.exists():
        raise ServerError(f"{NGINX} is missing: `make scale-demo` or `make test` installs it")
    log_dir.mkdir(parents=True, exist_ok=True)
    token = api_token or secrets.token_urlsafe(24)
    ports = distinct_free_ports(2 * replicas + 2, taken={nginx_port} if nginx_port else set())
    public_port = nginx_port or ports.pop()
    internal_port = ports.pop()
    internal_url = f"http://127.0.0.1:{internal_port}"
    action_ports = [ports.pop() for _ in range(replicas)]
    rasa_ports = [ports.pop() for _ in range(replicas)]

    shared = default_environment()
    shared.update(env or {})
    shared.update(
        DATABASE_URL=database_url,
        LOCK_STORE_TYPE="redis",
        # the replicas reach the action servers through nginx's internal side
        ACTION_ENDPOINT_URL=f"{internal_url}/webhook",
        # the reminder schedulers reach any replica's reminders channel the same way
        RASA_URL=internal_url,
    )
    if enable_api:
        # Rasa's HTTP API stays off unless asked for, and then needs the token
        shared.update(RASA_ENABLE_API="true", RASA_API_TOKEN=token)
    else:
        shared.pop("RASA_ENABLE_API", None)

    started: list[Server] = []
    try:
        # Started together: they also race for the database migration, which
        # actions.records.database.migrate() serializes.
        started += _start_together(
            [
                functools.partial(
                    start_action_server,
                    port,
                    shared,
                    log_dir / f"actions-{index}.log",
                    timeout=180.0,
                )
                for index, port in enumerate(action_ports)
            ]
        )
        actions = list(started)
        nginx = start_nginx(
            log_dir,
            rasa_ports,
            action_ports,
            public_port,
            internal_port,
            listen_host=listen_host,
        )
        started.append(nginx)
        rasa = _start_together(
            [
                functools.partial(
                    start_rasa_server,
                    model,
                    port,
                    shared,
                    log_dir / f"rasa-{index}.log",
                )
                for index, port in enumerate(rasa_ports)
            ]
        )
        started += rasa
    except BaseException:
        _stop_all(started)
        raise
    return Cluster(
        rasa=rasa,
        actions=actions,
        nginx=nginx,
        nginx_url=f"http://{_url_host(listen_host)}:{public_port}",
        internal_url=internal_url,
        api_token=token,
        database_url=database_url,
        rest_token=shared["REST_CHANNEL_TOKEN"],
    )


def render_nginx_config(
    prefix: Path,
    rasa_ports: list[int],
    action_ports: list[int],
    public_port: int,
    internal_port: int,
    listen_host: str = "127.0.0.1",
) -> str:
    """deploy/nginx/callback-coach.conf.template with this machine's addresses."""
    template = string.Template(NGINX_TEMPLATE.read_text(encoding="utf-8"))
    return template.substitute(
        pid_path=prefix / "nginx.pid",
        error_log=prefix / "error.log",
        access_log=prefix / "access.log",
        temp_dir=prefix / "tmp",
        rasa_servers=_server_lines(rasa_ports),
        action_servers=_server_lines(action_ports),
        listen_host=listen_host,
        public_port=public_port,
        internal_host="127.0.0.1",
        internal_port=internal_port,
    )


def start_nginx(
    log_dir: Path,
    rasa_ports: list[int],
    action_ports: list[int],
    public_port: int,
    internal_port: int,
    listen_host: str = "127.0.0.1",
    timeout: float = 30.0,
) -> Server:
    """nginx in the foreground with its config, pid, logs and temp files in `log_dir`/nginx."""
    prefix = (log_dir / "nginx").resolve()
    (prefix / "tmp").mkdir(parents=True, exist_ok=True)
    config = prefix / "nginx.conf"
    config.write_text(
        render_nginx_config(
            prefix, rasa_ports, action_ports, public_port, internal_port, listen_host
        ),
        encoding="utf-8",
    )
    # -e: the error log before the config is read (the default is under /var/log)
    check = subprocess.run(
        [
            str(NGINX),
            "-t",
            "-q",
            "-p",
            str(prefix),
            "-e",
            str(prefix / "error.log"),
            "-c",
            str(config),
        ],
        capture_output=True,
        text=True,
    )
    if check.returncode != 0:
        raise ServerError(f"nginx rejected {config}:\n{check.stderr}")
    command = [str(NGINX), "-p", str(prefix), "-e", str(prefix / "error.log"), "-c", str(config)]
    server = spawn(
        "nginx",
        command,
        default_environment(),
        log_dir / "nginx.log",
        f"http://127.0.0.1:{internal_port}",
    )
    # The internal side answers 502 until a replica is up; the port being open is enough.
    wait_until_listening(server, internal_port, timeout)
    return server


def wait_until_listening(server: Server, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise ServerError(
                f"nginx exited with code {server.process.returncode}; log {server.log_path}:\n"
                f"{server.log_tail()}"
            )
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    server.stop()
    raise ServerError(f"nginx did not listen on {port} within {timeout:.0f} s")


def ensure_database(url: str) -> bool:
    """Creates the PostgreSQL database named in `url` when missing; True if it did."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql" or not parsed.database:
        raise ValueError(f"the replicas share a PostgreSQL database; {url!r} is not one")
    maintenance = sa.create_engine(
        parsed.set(database="postgres"), isolation_level="AUTOCOMMIT", future=True
    )
    try:
        with maintenance.connect() as connection:
            exists = connection.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": parsed.database},
            ).first()
            if exists:
                return False
            quoted = connection.dialect.identifier_preparer.quote(parsed.database)
            connection.execute(sa.text(f"CREATE DATABASE {quoted}"))
            return True
    finally:
        maintenance.dispose()


def distinct_free_ports(count: int, taken: set[int] | None = None) -> list[int]:
    """`count` free ports, no two alike (the OS may hand the same one out twice)."""
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports and port not in (taken or set()):
            ports.append(port)
    return ports


def _server_lines(ports: list[int]) -> str:
    # max_fails=0: a replica still loading its model is tried again at once when it is up
    return "\n".join(f"        server 127.0.0.1:{port} max_fails=0;" for port in ports)


def _url_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "") else host


def _start_together(starters: list[Callable[[], Server]]) -> list[Server]:
    """Runs the start functions at once; if one fails, stops the others and re-raises."""
    with ThreadPoolExecutor(max_workers=len(starters)) as pool:
        futures = [pool.submit(starter) for starter in starters]
        servers: list[Server] = []
        failure: BaseException | None = None
        for future in futures:
            try:
                servers.append(future.result())
            except BaseException as error:  # re-raised below, after the others stop
                failure = failure or error
    if failure is not None:
        _stop_all(servers)
        raise failure
    return servers


def _stop_all(servers: list[Server]) -> None:
    for server in reversed(servers):
        server.stop()


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="make scale-demo: " + __doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--port", type=int, default=None, help="nginx's public port")
    args = parser.parse_args(argv)

    env = default_environment()
    url = os.environ.get("DATABASE_URL")
    if not url:
        url = DEFAULT_DEMO_DATABASE_URL
        try:
            created = ensure_database(url)
        except sa.exc.OperationalError as error:
            print(f"error: PostgreSQL is not reachable at {url}: {error}", file=sys.stderr)
            return 1
        state = "created now" if created else "existing"
        print(f"Database: {url} ({state}; set DATABASE_URL to use another)")
    elif make_url(url).get_backend_name() != "postgresql":
        # SQLite cannot be shared by several servers
        print("error: the replicas need a PostgreSQL DATABASE_URL", file=sys.stderr)
        return 2
    else:
        print("Database: DATABASE_URL from the environment")
    print(
        f"Redis: {env['REDIS_HOST']}:{env['REDIS_PORT']}. Starting {args.replicas} action servers, "
        f"nginx and {args.replicas} Rasa replicas… (a minute or two)",
        flush=True,
    )
    # Also SIGINT: a shell that starts the demo in the background would leave it ignored.
    for stop_signal in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
        signal.signal(stop_signal, raise_interrupt)
    cluster: Cluster | None = None
    token = os.environ.get("RASA_API_TOKEN")
    enable_api = os.environ.get("RASA_ENABLE_API", "").lower() == "true"
    try:
        cluster = start_cluster(
            url,
            replicas=args.replicas,
            model=args.model,
            nginx_port=args.port,
            api_token=token,
            enable_api=enable_api,
        )
        # a token of your own is not printed; a made-up one is, for trying the demo
        rest_token = (
            "$REST_CHANNEL_TOKEN" if os.environ.get("REST_CHANNEL_TOKEN") else cluster.rest_token
        )
        print(
            f"Web chat:  {cluster.nginx_url}/webhooks/web/\n"
            f"REST:      {cluster.nginx_url}/webhooks/rest/webhook\n"
            f"           with Authorization: Bearer {rest_token}\n"
            f"Replicas:  {', '.join(cluster.rasa_urls)}\n"
            + (
                f"API token: {'$RASA_API_TOKEN' if token else cluster.api_token} (replicas' API)\n"
                if enable_api
                else "Rasa's HTTP API: off (RASA_ENABLE_API=true and RASA_API_TOKEN turn it on)\n"
            )
            + f"Actions:   {', '.join(cluster.action_urls)}\n"
            f"Internal:  {cluster.internal_url} (actions at /webhook, replicas elsewhere)\n"
            f"Logs:      {LOG_DIR / 'cluster'}\n"
            "Ctrl-C stops everything.",
            flush=True,
        )
        while all(
            s.process.poll() is None for s in [cluster.nginx, *cluster.rasa, *cluster.actions]
        ):
            time.sleep(1)
        print("error: a server stopped; see the logs above", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print()
        return 0
    except ServerError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    sys.exit(_main())
