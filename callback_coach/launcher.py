"""Starts and stops the two servers; used by `make run`, `make serve`, the tests and the benchmark.

python -m callback_coach.launcher chat    # action server + chat in this terminal
python -m callback_coach.launcher serve   # action server + Rasa server, until Ctrl-C
"""

from __future__ import annotations

import argparse
import getpass
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from callback_coach import http_api
from callback_coach.credentials import write_enabled_credentials
from callback_coach.shared_secret import check_secret, is_placeholder
from callback_coach.terminal_chat import chat

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEFAULT_MODEL = PROJECT_ROOT / "models" / "callback-coach.tar.gz"
LOG_DIR = PROJECT_ROOT / "var" / "logs"
# Files and folders the servers create are for the account that runs them only.
OWNER_ONLY_UMASK = 0o077
# Every secret a server reads from the environment; each one that is set is checked
# before anything starts (a placeholder or a short value is refused).
SECRET_VARIABLES = (
    "ACTION_SERVER_TOKEN",
    "REMINDER_CHANNEL_SECRET",
    "RASA_API_TOKEN",
    "REST_CHANNEL_TOKEN",
    "WEB_SESSION_SECRET",
    "SLACK_SIGNING_SECRET",
    "TELEGRAM_SECRET_TOKEN",
)


class ServerError(RuntimeError):
    """A server did not come up; the message says which and where its log is."""


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    url: str
    log_path: Path
    channels: list[str] = field(default_factory=list)

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM the server's process group, then SIGKILL if it lingers."""
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=timeout)
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=timeout)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def default_environment() -> dict[str, str]:
    """The environment with the project's local defaults filled in where unset."""
    env = dict(os.environ)
    env.setdefault("DATABASE_URL", f"sqlite:///{PROJECT_ROOT / 'var' / 'callback_coach.db'}")
    env.setdefault("LOCK_STORE_TYPE", "in_memory")
    env.setdefault("REDIS_HOST", "127.0.0.1")
    env.setdefault("REDIS_PORT", "6379")
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # Shared secrets between our own servers (docs/security.md): random for each run
    # unless set; servers started separately must be given the same values.
    for name in (
        "ACTION_SERVER_TOKEN",
        "REMINDER_CHANNEL_SECRET",
        "REST_CHANNEL_TOKEN",
        "WEB_SESSION_SECRET",
    ):
        if not env.get(name):
            env[name] = random_secret()
    return env


def random_secret() -> str:
    """A new random secret that check_secret accepts."""
    while True:
        secret = secrets.token_urlsafe(24)
        # about one in a million starts like a placeholder ("todo-...")
        if not is_placeholder(secret):
            return secret


def secret_problems(env: Mapping[str, str]) -> list[str]:
    """What is wrong with each secret variable that is set (empty counts as unset)."""
    problems = []
    for name in SECRET_VARIABLES:
        if env.get(name):
            try:
                check_secret(name, env[name])
            except ValueError as error:
                problems.append(str(error))
    return problems


def spawn(
    name: str, command: list[str], env: Mapping[str, str], log_path: Path, url: str
) -> Server:
    """Starts `command` in the project, its output appended to log_path; not yet ready.

    The log, and whatever the server creates (the SQLite database and its -wal and -shm
    files, folders), can be read by this account only: they hold what people wrote."""
    make_private_dirs(log_path.parent)
    log = open_private_log(log_path)
    try:
        process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, so stop() reaches its children
            # set in the child only, before it runs (safe with threads, unlike preexec_fn)
            umask=OWNER_ONLY_UMASK,
        )
    finally:
        os.close(log)
    return Server(name, process, url, log_path)


def make_private_dirs(folder: Path) -> None:
    """Creates `folder` and its missing parents for this account only; folders that
    already exist are left as they are."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        path.mkdir(mode=0o700, exist_ok=True)  # exist_ok: another server may be quicker


def open_private_log(path: Path) -> int:
    """A descriptor appending to `path`, which only this account can read."""
    log = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.fchmod(log, 0o600)  # a log made before this may be readable by others
    return log


def wait_until_ready(server: Server, path: str, timeout: float) -> None:
    """Polls `path` until it answers 200.

    A server that fails, times out or is interrupted while starting is stopped, so
    nothing is left running behind the caller's back.
    """
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise ServerError(
                    f"{server.name} exited with code {server.process.returncode}; "
                    f"log {server.log_path}:\n{server.log_tail()}"
                )
            try:
                with urllib.request.urlopen(server.url + path, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        raise ServerError(
            f"{server.name} did not answer within {timeout:.0f} s; log {server.log_path}"
        )
    except BaseException:
        server.stop()
        raise


def start_action_server(
    port: int, env: Mapping[str, str], log_path: Path, timeout: float = 60.0
) -> Server:
    command = [str(BIN / "python"), "-m", "callback_coach.action_server", "--port", str(port)]
    server = spawn("action server", command, env, log_path, f"http://127.0.0.1:{port}")
    wait_until_ready(server, "/health", timeout)
    return server


def rasa_command(
    model: Path,
    port: int,
    stock_rasa: bool = False,
    credentials: Path = PROJECT_ROOT / "credentials.yml",
    host: str = "127.0.0.1",
) -> list[str]:
    """Our `rasa run` wrapper (callback_coach.rasa_server), or with `stock_rasa` the
    plain `rasa run`, which the benchmark compares against.

    Neither gets Rasa's HTTP API from here: the wrapper switches it on itself when
    RASA_ENABLE_API asks (callback_coach.http_api)."""
    runner = (
        [str(BIN / "rasa")] if stock_rasa else [sys.executable, "-m", "callback_coach.rasa_server"]
    )
    command = [
        *runner,
        "run",
        "--model",
        str(model),
        "--endpoints",
        "endpoints.yml",
        "--credentials",
        str(credentials),
        "--interface",
        host,
        "--port",
        str(port),
    ]
    return command


def start_rasa_server(
    model: Path,
    port: int,
    env: Mapping[str, str],
    log_path: Path,
    timeout: float = 180.0,
    stock_rasa: bool = False,
) -> Server:
    # Only the channels whose variables are set (Rasa stops at an unset one).
    credentials = log_path.parent / f"credentials-{port}.yml"
    channels = write_enabled_credentials(PROJECT_ROOT / "credentials.yml", credentials, env)
    host = env.get("RASA_HOST", "127.0.0.1")
    command = rasa_command(model, port, stock_rasa, credentials, host)
    server = spawn("Rasa server", command, env, log_path, f"http://127.0.0.1:{port}")
    # The REST channel's health route answers only once the model is loaded.
    wait_until_ready(server, "/webhooks/rest/", timeout)
    server.channels = channels
    return server


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("mode", choices=["chat", "serve"])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    args = parser.parse_args(argv)

    env = default_environment()
    rasa_port = int(env.get("RASA_PORT", "5005"))
    action_port = int(env.get("ACTION_PORT", "5055"))
    env.setdefault("ACTION_ENDPOINT_URL", f"http://127.0.0.1:{action_port}/webhook")
    env.setdefault("RASA_URL", f"http://127.0.0.1:{rasa_port}")
    problems = secret_problems(env)
    try:
        http_api.api_arguments(env)  # refuse an API without a token before starting anything
    except ValueError as error:
        problems.append(str(error))
    if problems:
        for problem in dict.fromkeys(problems):  # RASA_API_TOKEN's may come twice
            print(f"error: {problem}", file=sys.stderr)
        return 2
    make_private_dirs(PROJECT_ROOT / "var")

    # A hang-up or kill of the launcher must still stop both servers.
    signal.signal(signal.SIGHUP, raise_interrupt)
    signal.signal(signal.SIGTERM, raise_interrupt)
    print("Starting Callback Coach… (about half a minute)", flush=True)
    servers: list[Server] = []
    try:
        servers.append(start_action_server(action_port, env, LOG_DIR / "actions.log"))
        rasa = start_rasa_server(args.model, rasa_port, env, LOG_DIR / "rasa.log")
        servers.append(rasa)
        if args.mode == "serve":
            print(
                f"Rasa server: {rasa.url}/webhooks/rest/webhook  (log {rasa.log_path})\n"
                f"Channels: {', '.join(name.rsplit('.', 1)[-1] for name in rasa.channels)}\n"
                f"Web chat: {rasa.url}/webhooks/web/\n"
                f"Action server: {servers[0].url}  (log {servers[0].log_path})\n"
                "Ctrl-C stops both.",
                flush=True,
            )
            rasa.process.wait()
            return 0
        # The same conversation each time (terminal:<login>), so the coach remembers you
        # between runs.
        login = env.get("CHAT_CONVERSATION_ID") or _login_id(getpass.getuser())
        print(
            f"Web chat: {rasa.url}/webhooks/web/  (the same coach in your browser)\n"
            "Callback Coach is ready. Tell it what happened after your interview.\n"
            "Type a number to pick a suggestion; /stop or Ctrl-C ends the chat.\n",
            flush=True,
        )
        chat(rasa.url, login, env["REST_CHANNEL_TOKEN"], env["REMINDER_CHANNEL_SECRET"])
        return 0
    except KeyboardInterrupt:
        print()
        return 0
    except ServerError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        for server in reversed(servers):
            server.stop()


def _login_id(login: str) -> str:
    """A login as the plain characters a conversation id may hold."""
    return re.sub(r"[^A-Za-z0-9_@+-]", "-", login)[:128] or "user"


def raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(_main())
