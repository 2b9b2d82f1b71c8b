"""`make run`'s chat: both servers start, the chat answers, and nothing is left running."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

from callback_coach.launcher import (
    PROJECT_ROOT,
    default_environment,
    free_port,
    start_action_server,
)


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def launcher_env(tmp_path: Path, rasa_port: int, action_port: int) -> dict[str, str]:
    return {
        **os.environ,
        "RASA_PORT": str(rasa_port),
        "ACTION_PORT": str(action_port),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'chat.db'}",
        "CHAT_CONVERSATION_ID": "launcher-test",
    }


def test_terminal_chat_answers_and_stops_both_servers(model_path: Path, tmp_path: Path) -> None:
    rasa_port, action_port = free_port(), free_port()
    result = subprocess.run(
        [sys.executable, "-m", "callback_coach.launcher", "chat", "--model", str(model_path)],
        input="hello\n1\n/stop\n",
        env=launcher_env(tmp_path, rasa_port, action_port),
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "I'm Callback Coach" in result.stdout
    assert "[1] They haven't called me back" in result.stdout
    assert "(you picked: They haven't called me back)" in result.stdout
    # the coaching reply to the button (the terminal wraps long lines)
    assert "Tell me when your interview was" in " ".join(result.stdout.split())
    assert not port_open(rasa_port) and not port_open(action_port)


def test_ctrl_c_stops_everything_the_launcher_started(model_path: Path, tmp_path: Path) -> None:
    rasa_port, action_port = free_port(), free_port()
    launcher = subprocess.Popen(
        [sys.executable, "-m", "callback_coach.launcher", "serve", "--model", str(model_path)],
        env=launcher_env(tmp_path, rasa_port, action_port),
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 240
        while not (port_open(rasa_port) and port_open(action_port)):
            assert launcher.poll() is None, launcher.stdout.read() if launcher.stdout else ""
            assert time.monotonic() < deadline, "the servers did not come up"
            time.sleep(0.5)
        launcher.send_signal(signal.SIGINT)
        assert launcher.wait(timeout=60) == 0
    finally:
        if launcher.poll() is None:
            launcher.kill()
    assert not port_open(rasa_port) and not port_open(action_port)


def test_a_placeholder_secret_stops_the_launcher_before_anything_starts(tmp_path: Path) -> None:
    rasa_port, action_port = free_port(), free_port()
    env = {
        **launcher_env(tmp_path, rasa_port, action_port),
        "ACTION_SERVER_TOKEN": "CHANGE-ME",  # as in deploy/helm/secrets.example.yaml
        "SLACK_SIGNING_SECRET": "x" * 32,
        "TELEGRAM_SECRET_TOKEN": "",  # unset: not checked
    }
    result = subprocess.run(
        [sys.executable, "-m", "callback_coach.launcher", "serve"],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    errors = result.stderr.strip().splitlines()
    assert [line.split(" is ")[0] for line in errors] == [
        "error: ACTION_SERVER_TOKEN",
        "error: SLACK_SIGNING_SECRET",
    ]
    assert all("is a placeholder, not a secret" in line for line in errors)
    assert "Starting" not in result.stdout
    # nothing started: no server made the database or listens
    assert not (tmp_path / "chat.db").exists()
    assert not port_open(rasa_port) and not port_open(action_port)


def test_what_a_server_creates_is_readable_by_its_account_only(tmp_path: Path) -> None:
    """The action server's SQLite database (with its -wal and -shm files) and its log,
    in folders that did not exist, are created without group or other permissions,
    even when the launcher's own umask would allow them."""
    database = tmp_path / "data" / "records.db"
    log = tmp_path / "logs" / "deeper" / "actions.log"
    env = {**default_environment(), "DATABASE_URL": f"sqlite:///{database}"}
    permissive = os.umask(0o022)
    try:
        server = start_action_server(free_port(), env, log, timeout=120)
    finally:
        os.umask(permissive)
    try:
        created = [
            database,
            database.with_name("records.db-wal"),
            database.with_name("records.db-shm"),
            database.parent,
            log,
            log.parent,
            log.parent.parent,
        ]
        modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in created}
        assert modes == {
            "records.db": 0o600,
            "records.db-wal": 0o600,
            "records.db-shm": 0o600,
            "data": 0o700,
            "actions.log": 0o600,
            "deeper": 0o700,
            "logs": 0o700,
        }
    finally:
        server.stop()


# The installed packages' modules the two servers import, and those whose compiled
# bytecode is not on disk (printed as JSON by a fresh interpreter).
IMPORTED_WITHOUT_BYTECODE = """
import importlib.util, json, os, sys, sysconfig
import callback_coach.action_server, callback_coach.rasa_server, rasa.core.run, rasa.server
site = os.path.realpath(sysconfig.get_paths()["purelib"])
installed = [
    module.__spec__
    for module in list(sys.modules.values())
    if getattr(module, "__spec__", None) is not None
    and (module.__spec__.origin or "").endswith(".py")
    and os.path.realpath(module.__spec__.origin).startswith(site)
]
missing = [
    spec.name
    for spec in installed
    if not os.path.exists(importlib.util.cache_from_source(spec.origin))
]
print(json.dumps({"installed": len(installed), "missing": missing}))
"""


def test_the_servers_import_installed_packages_from_compiled_bytecode() -> None:
    """`make setup` compiles the packages' bytecode as it installs them: where
    PYTHONDONTWRITEBYTECODE is set, Python would otherwise compile Rasa and TensorFlow
    from source again at every server start, and never keep the result."""
    result = subprocess.run(
        [sys.executable, "-c", IMPORTED_WITHOUT_BYTECODE],
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "TF_CPP_MIN_LOG_LEVEL": "3"},
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["installed"] > 3000  # Rasa, TensorFlow, spaCy, SQLAlchemy...
    assert found["missing"] == [], "no bytecode for these: `make setup` compiles it"
