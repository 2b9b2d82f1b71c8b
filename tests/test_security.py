"""What is exposed, against the real servers (docs/security.md): Rasa's HTTP API off by
default and token-protected when on, the action server and the reminders channel only
with their shared secrets, loopback-only listening, and no secret in logs or on a
command line. Reminders still reach the user with the API off."""

from __future__ import annotations

import ipaddress
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

from actions.runtime import knowledge_cache
from callback_coach.cors_origins import check_cors_origins, cors_values
from callback_coach.launcher import (
    BIN,
    PROJECT_ROOT,
    default_environment,
    free_port,
    rasa_command,
    spawn,
    wait_until_ready,
)
from callback_coach.terminal_chat import fetch_reminders
from tests.conftest import Assistant
from tests.test_end_to_end_records import (
    COMPANY,
    move_due,
    reminder_rows,
    texts,
    wait_for_delivery,
)

WRONG_SECRETS = [None, "Bearer not-the-secret-at-all", "Basic c2VjcmV0", "Bearer "]


def auth(value: str | None) -> dict[str, str]:
    return {} if value is None else {"Authorization": value}


def listening_addresses(port: int) -> set[str]:
    """The addresses a TCP socket listens on at `port`, read from /proc/net/tcp{,6}."""
    found: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port_hex = local.split(":")
            if state != "0A" or int(port_hex, 16) != port:  # 0A: LISTEN
                continue
            raw = bytes.fromhex(address)
            # the kernel prints each 32-bit word in host (little-endian) order
            words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            found.add(str(ipaddress.ip_address(words)))
    return found


@pytest.fixture(scope="module")
def locked_down(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Assistant]:
    """Both servers as `make run` starts them: Rasa's HTTP API off."""
    directory = tmp_path_factory.mktemp("security")
    running = Assistant(model_path, f"sqlite:///{directory / 'coach.db'}", directory, api=False)
    running.start()
    yield running
    running.stop()


# --- Rasa's HTTP API ---------------------------------------------------------------------


def test_the_http_api_is_off_by_default(locked_down: Assistant) -> None:
    sender = f"sec-{uuid.uuid4().hex[:12]}"
    assert "I'm Callback Coach" in texts(locked_down.say(sender, "hello"))  # the chat works
    for method, path in [
        ("GET", f"/conversations/{sender}/tracker"),
        ("POST", f"/conversations/{sender}/trigger_intent"),
        ("POST", f"/conversations/{sender}/messages"),
        ("GET", "/status"),
        ("POST", "/model/parse"),
    ]:
        answer = requests.request(
            method,
            locked_down.url + path,
            params={"token": locked_down.token},
            json={"name": "reminder_due", "text": "hi"},
            timeout=30,
        )
        assert answer.status_code == 404, (method, path, answer.status_code)


def test_when_on_the_api_answers_only_with_its_token(assistant: Assistant) -> None:
    sender = f"sec-{uuid.uuid4().hex[:12]}"
    assistant.say(sender, "hello")
    tracker = f"{assistant.url}/conversations/{sender}/tracker"
    assert requests.get(tracker, timeout=30).status_code == 401
    assert requests.get(tracker, params={"token": "wrong-token"}, timeout=30).status_code == 401
    answer = requests.get(tracker, params={"token": assistant.token}, timeout=30)
    assert answer.status_code == 200 and answer.json()["sender_id"] == sender


def test_the_api_token_is_not_on_the_command_line_nor_in_the_logs(assistant: Assistant) -> None:
    assert assistant.rasa is not None
    command_line = Path(f"/proc/{assistant.rasa.process.pid}/cmdline").read_bytes()
    assert b"--enable-api" not in command_line  # added inside the wrapper's process
    assert assistant.token.encode() not in command_line
    assert assistant.token not in assistant.rasa.log_path.read_text(errors="replace")


def run_module(module: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        stdin=subprocess.DEVNULL,
    )


def test_the_api_without_a_token_refuses_to_start(model_path: Path, tmp_path: Path) -> None:
    env = {**default_environment(), "RASA_ENABLE_API": "true", "RASA_API_TOKEN": ""}
    port = str(free_port())
    launcher = run_module(
        "callback_coach.launcher",
        {**env, "RASA_PORT": port, "ACTION_PORT": str(free_port())},
        "serve",
        "--model",
        str(model_path),
    )
    assert launcher.returncode == 2
    assert "RASA_ENABLE_API=true but RASA_API_TOKEN is not set" in launcher.stderr
    # Rasa's own flag without a token is refused too, instead of an open API (a short
    # token and the other cases: test_secrets.py, without starting anything)
    bare = run_module(
        "callback_coach.rasa_server",
        {**env, "RASA_ENABLE_API": "false"},
        "run",
        "--enable-api",
        "--model",
        str(model_path),
        "--port",
        port,
    )
    assert bare.returncode != 0 and "--enable-api without --auth-token" in bare.stderr


# --- CORS: exact origins only (sanic-cors matches patterns unanchored, CVE-2026-37737) -----


def test_cors_values_are_read_from_every_form_of_the_option() -> None:
    argv = ["rasa", "run", "--cors", "https://a.example", "https://b.example", "--port", "1"]
    assert cors_values(argv) == ["https://a.example", "https://b.example"]
    assert cors_values(["rasa", "run", "--cors=https://c.example", "x"]) == ["https://c.example"]
    assert cors_values(["rasa", "run", "--port", "5005"]) == []


@pytest.mark.parametrize(
    "origin", ["https://coach.example.org", "*", r"https://(www\.)?coach\.example\.org$"]
)
def test_exact_origins_allow_all_and_anchored_patterns_are_accepted(origin: str) -> None:
    check_cors_origins(["rasa", "run", "--cors", origin])


@pytest.mark.parametrize("origin", [r"https://coach\.example\.org", "https://*.example.org"])
def test_an_unanchored_origin_pattern_is_refused(origin: str) -> None:
    with pytest.raises(ValueError, match="end the pattern with \\$"):
        check_cors_origins(["rasa", "run", "--cors", "https://ok.example", origin])


def test_the_rasa_server_allows_its_exact_origin_and_refuses_an_open_pattern(
    model_path: Path, tmp_path: Path
) -> None:
    origin = "https://coach.example.org"
    port = free_port()
    env = {
        **default_environment(),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cors.db'}",
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}/webhook",
    }
    credentials = tmp_path / "credentials.yml"
    credentials.write_text("rest:\n")
    log_path = tmp_path / "rasa.log"
    command = [*rasa_command(model_path, port, credentials=credentials), "--cors", origin]
    server = spawn("Rasa server", command, env, log_path, f"http://127.0.0.1:{port}")
    try:
        wait_until_ready(server, "/webhooks/rest/", timeout=180)

        def allowed_origin(sent: str) -> str | None:
            reply = requests.get(f"{server.url}/", headers={"Origin": sent}, timeout=30)
            assert reply.status_code == 200
            return reply.headers.get("Access-Control-Allow-Origin")

        assert allowed_origin(origin) == origin
        assert allowed_origin(origin + ".evil.test") is None
        assert allowed_origin("https://evil.test") is None
    finally:
        server.stop()

    refused = run_module(
        "callback_coach.rasa_server",
        env,
        "run",
        "--model",
        str(model_path),
        "--port",
        str(free_port()),
        "--cors",
        r"https://coach\.example\.org",
    )
    assert refused.returncode != 0
    assert "is a pattern" in refused.stderr and "end the pattern with $" in refused.stderr


# --- the reminders channel ----------------------------------------------------------------


@pytest.mark.parametrize("authorization", WRONG_SECRETS)
def test_the_reminders_channel_needs_its_secret(
    locked_down: Assistant, authorization: str | None
) -> None:
    sender = f"sec-{uuid.uuid4().hex[:12]}"
    deliver = requests.post(
        f"{locked_down.url}/webhooks/reminders/deliver",
        json={"sender": sender, "reminder_id": 1, "channel": "latest"},
        headers=auth(authorization),
        timeout=30,
    )
    delivered = requests.get(
        f"{locked_down.url}/webhooks/reminders/delivered",
        params={"sender": sender},
        headers=auth(authorization),
        timeout=30,
    )
    assert (deliver.status_code, delivered.status_code) == (401, 401)


def test_the_reminders_channel_answers_bad_requests_clearly(locked_down: Assistant) -> None:
    secret = auth(f"Bearer {locked_down.env['REMINDER_CHANNEL_SECRET']}")
    url = f"{locked_down.url}/webhooks/reminders"
    for body in [{}, {"sender": "x"}, {"sender": "", "reminder_id": 1}, ["not", "a", "dict"]]:
        answer = requests.post(f"{url}/deliver", json=body, headers=secret, timeout=30)
        assert answer.status_code == 400, body
    bad_time = requests.get(
        f"{url}/delivered", params={"sender": "x", "after": "soon"}, headers=secret, timeout=30
    )
    assert bad_time.status_code == 400
    nobody = requests.get(
        f"{url}/delivered", params={"sender": "nobody"}, headers=secret, timeout=30
    )
    assert nobody.json()["messages"] == []


def test_a_reminder_reaches_the_terminal_chat_with_the_api_off(locked_down: Assistant) -> None:
    login = f"sec-{uuid.uuid4().hex[:12]}"
    sender = f"terminal:{login}"  # the terminal chat's conversation

    def terminal_says(text: str) -> str:
        answer = requests.post(
            f"{locked_down.url}/webhooks/terminal/webhook",
            json={"sender": login, "message": text},
            headers=locked_down.rest_headers,
            timeout=30,
        )
        answer.raise_for_status()
        return texts(answer.json())

    started = time.time()
    terminal_says(f"I interviewed at {COMPANY} yesterday and heard nothing yet")
    assert "I'll remind you on" in terminal_says("remind me to follow up on that next week")
    [reminder] = reminder_rows(locked_down, sender)
    move_due(locked_down, reminder.id, datetime.now(timezone.utc) - timedelta(minutes=1))
    wait_for_delivery(locked_down, sender)
    # what the terminal chat's watcher fetches while you chat
    with requests.Session() as session:
        messages, newest = fetch_reminders(
            session, locked_down.url, sender, locked_down.env["REMINDER_CHANNEL_SECRET"], started
        )
        assert any(COMPANY in str(message["text"]) for message in messages), messages
        assert newest > started
        assert fetch_reminders(
            session, locked_down.url, sender, locked_down.env["REMINDER_CHANNEL_SECRET"], newest
        ) == ([], newest)


# --- the action server --------------------------------------------------------------------


@pytest.mark.parametrize("authorization", WRONG_SECRETS)
def test_the_action_server_refuses_requests_without_its_secret(
    locked_down: Assistant, authorization: str | None
) -> None:
    assert locked_down.actions is not None
    url = locked_down.actions.url
    call = {"next_action": "action_show_my_data", "sender_id": "x", "tracker": {}}
    webhook = requests.post(f"{url}/webhook", json=call, headers=auth(authorization), timeout=30)
    actions = requests.get(f"{url}/actions", headers=auth(authorization), timeout=30)
    assert (webhook.status_code, actions.status_code) == (401, 401)
    assert requests.get(f"{url}/health", timeout=30).status_code == 200  # probes stay open


def test_the_action_server_answers_rasa_with_the_secret(locked_down: Assistant) -> None:
    assert locked_down.actions is not None
    secret = auth(f"Bearer {locked_down.env['ACTION_SERVER_TOKEN']}")
    actions = requests.get(f"{locked_down.actions.url}/actions", headers=secret, timeout=30)
    assert actions.status_code == 200
    assert {"name": "action_coach"} in actions.json()
    # Rasa sends the secret (endpoints.yml): the custom action behind this reply ran
    sender = f"sec-{uuid.uuid4().hex[:12]}"
    no_reminders = knowledge_cache().get().reminders.none
    assert no_reminders in texts(locked_down.say(sender, "what reminders do I have?"))


def test_the_action_server_does_not_start_without_its_secret(tmp_path: Path) -> None:
    env = {**default_environment(), "DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}"}
    env["ACTION_SERVER_TOKEN"] = ""
    result = run_module("callback_coach.action_server", env, "--port", str(free_port()))
    assert result.returncode == 2
    assert "ACTION_SERVER_TOKEN is not set" in result.stderr


# --- where things listen, and what the logs hold ------------------------------------------


def test_both_servers_listen_on_loopback_only(locked_down: Assistant) -> None:
    assert locked_down.rasa is not None and locked_down.actions is not None
    for server in (locked_down.rasa, locked_down.actions):
        port = int(server.url.rsplit(":", 1)[1])
        assert listening_addresses(port) == {"127.0.0.1"}, server.name


def test_action_server_host_moves_the_action_server(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **default_environment(),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}",
        "ACTION_SERVER_HOST": "127.0.0.2",  # still loopback: nothing leaves the machine
    }
    command = [str(BIN / "python"), "-m", "callback_coach.action_server", "--port", str(port)]
    server = spawn(
        "action server", command, env, tmp_path / "actions.log", f"http://127.0.0.2:{port}"
    )
    try:
        wait_until_ready(server, "/health", timeout=120)
        assert listening_addresses(port) == {"127.0.0.2"}
    finally:
        server.stop()


def test_no_shared_secret_reaches_the_logs(locked_down: Assistant) -> None:
    assert locked_down.rasa is not None and locked_down.actions is not None
    locked_down.say(f"sec-{uuid.uuid4().hex[:12]}", "hello")
    logs = locked_down.rasa.log_path.read_text(errors="replace")
    logs += locked_down.actions.log_path.read_text(errors="replace")
    assert logs  # the servers did write their logs
    for name in ("ACTION_SERVER_TOKEN", "REMINDER_CHANNEL_SECRET"):
        assert locked_down.env[name] not in logs, name
