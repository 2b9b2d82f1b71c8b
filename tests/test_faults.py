"""Faults, with the real processes: the action server down, hung or killed; the
database out of reach at start and mid-conversation; kill -9 of both servers under load.

The servers reach a PostgreSQL database of their own through two loopback proxies
(tests/tcp_proxy.py), one for Rasa's conversations and one for the action server's
records, so either side can lose the database alone while PostgreSQL itself runs on.
The servers start once for the module; the tests stop, kill and restart them in turn
and leave them running for the next one. The first tests need no server.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecutionRejected, BotUttered, FollowupAction
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig
from rasa_sdk import Action
from rasa_sdk.executor import ActionExecutor

from actions.runtime import settings
from callback_coach import action_fallback, rasa_server, records_outage
from callback_coach.launcher import (
    PROJECT_ROOT,
    Server,
    default_environment,
    free_port,
    start_action_server,
    start_rasa_server,
)
from callback_coach.reminder_scheduler import ReminderScheduler
from tests.conftest import Assistant
from tests.tcp_proxy import TcpProxy

ACTION_DOWN = "couldn't fetch the details"  # utter_action_unavailable
NOTES_DOWN = "can't reach my notes"  # utter_notes_unavailable
SITUATION = "I interviewed at Acme Corp three weeks ago and they never called me back"
FOLLOWED_UP = "I emailed them last week and still nothing"
REPLY_WITHIN_SECONDS = 2.0


def new_sender(prefix: str = "faults") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def texts(replies: list[dict[str, Any]]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


# --- The pieces, in-process -------------------------------------------------------


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


def counting(run: Any) -> tuple[Any, list[int]]:
    calls: list[int] = []

    async def counted(*args: Any) -> Any:
        calls.append(1)
        return await run(*args)

    return counted, calls


async def fallback_for(domain: Domain, url: str, timeout: float) -> tuple[list[Any], int, float]:
    action = RemoteAction("action_coach", EndpointConfig(url))
    run, calls = counting(RemoteAction.run)
    started = time.monotonic()
    events = await action_fallback.run_with_fallback(
        run,
        timeout,
        action,
        CollectingOutputChannel(),
        TemplatedNaturalLanguageGenerator(domain.responses),
        DialogueStateTracker("someone", domain.slots),
        domain,
    )
    return events, len(calls), time.monotonic() - started


def assert_is_fallback(events: list[Any]) -> None:
    rejected, said, listen = events
    assert rejected == ActionExecutionRejected("action_coach")
    assert isinstance(said, BotUttered) and ACTION_DOWN in (said.text or "")
    assert listen == FollowupAction("action_listen")


async def test_a_refused_connection_is_tried_once_more_then_answered(domain: Domain) -> None:
    url = f"http://127.0.0.1:{free_port()}/webhook"  # nothing listens there
    events, calls, _ = await fallback_for(domain, url, timeout=1.0)
    assert_is_fallback(events)
    assert calls == 2  # nothing reached the server, so a second try is safe


async def test_a_silent_action_server_times_out_and_is_not_retried(domain: Domain) -> None:
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/webhook"
        events, calls, elapsed = await fallback_for(domain, url, timeout=0.5)
    assert_is_fallback(events)
    assert calls == 1  # the action may have run: never twice
    assert 0.5 <= elapsed < 1.5


def test_the_action_timeout_setting_is_checked() -> None:
    assert action_fallback.action_timeout({}) == action_fallback.DEFAULT_TIMEOUT_SECONDS
    assert action_fallback.action_timeout({"ACTION_TIMEOUT_SECONDS": "0.8"}) == 0.8
    for bad in ("0", "-1", "soon", "301"):
        with pytest.raises(ValueError, match="ACTION_TIMEOUT_SECONDS"):
            action_fallback.action_timeout({"ACTION_TIMEOUT_SECONDS": bad})
    with pytest.raises(ValueError, match="DATABASE_RETRY_SECONDS"):
        records_outage.retry_seconds({"DATABASE_RETRY_SECONDS": "never"})


class BrokenRecords(Action):
    def name(self) -> str:
        return "action_list_applications"

    async def run(self, dispatcher: Any, tracker: Any, domain: Any) -> list[Any]:
        with sa.create_engine(f"postgresql://nobody@127.0.0.1:{free_port()}/none").connect():
            return []


async def test_an_action_without_its_database_apologises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ActionExecutor, "run", ActionExecutor.run)  # undone after the test
    records_outage.install()
    executor = ActionExecutor()
    executor.register_action(BrokenRecords())
    tracker = DialogueStateTracker("someone", []).current_state()
    answer = await executor.run({"next_action": "action_list_applications", "tracker": tracker})
    assert answer == records_outage.apology("action_list_applications")
    # Rasa accepts it as an action server's answer.
    assert rasa_server.validate_action_result(RemoteAction("x", None), answer)
    assert answer["responses"] == [{"response": "utter_notes_unavailable"}]


async def test_reminders_wait_quietly_for_the_database(caplog: pytest.LogCaptureFixture) -> None:
    unreachable = f"postgresql://nobody@127.0.0.1:{free_port()}/none"
    config = replace(
        settings(),
        database_url=unreachable,
        reminder_channel_secret="secret",
        reminder_poll_seconds=0.2,
    )
    with caplog.at_level(logging.WARNING), pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(ReminderScheduler(config).run_forever(), timeout=1)
    waits = [r for r in caplog.records if "records database is unreachable" in r.getMessage()]
    assert len(waits) >= 2  # it kept polling
    assert all(r.exc_info is None for r in waits)


# --- The real servers ---------------------------------------------------------------


@dataclass
class SplitAssistant(Assistant):
    """Rasa's conversations and the action server's records in one database, reached
    through separate proxies. Ports stay the same across restarts."""

    records_url: str = ""
    action_port: int = field(default_factory=free_port)
    rasa_port: int = field(default_factory=free_port)
    # made once, so both servers (and every restart) share the same secrets
    base_env: dict[str, str] = field(default_factory=default_environment)

    def environment(self, database_url: str) -> dict[str, str]:
        env = dict(self.base_env)
        env["DATABASE_URL"] = database_url
        env["ACTION_ENDPOINT_URL"] = f"http://127.0.0.1:{self.action_port}/webhook"
        env["RASA_URL"] = f"http://127.0.0.1:{self.rasa_port}"
        env["RASA_ENABLE_API"] = "true"  # the tests read trackers through it
        env["RASA_API_TOKEN"] = self.token
        env["COACH_REMINDER_POLL_SECONDS"] = "5"
        env["DATABASE_RETRY_SECONDS"] = "1"
        return env

    def start_actions(self) -> None:
        self.actions = start_action_server(
            self.action_port, self.environment(self.records_url), self.log_dir / "actions.log"
        )

    def start_rasa(self) -> None:
        # what `rest_headers` reads the REST channel's token from, as Assistant.start sets it
        self.env = self.environment(self.database_url)
        self.rasa = start_rasa_server(
            self.model, self.rasa_port, self.env, self.log_dir / "rasa.log"
        )

    def start(self) -> None:
        self.start_actions()
        try:
            self.start_rasa()
        except BaseException:
            self.stop()
            raise

    def timed_say(self, sender: str, text: str) -> tuple[list[dict[str, Any]], float]:
        started = time.monotonic()
        replies = self.say(sender, text)
        return replies, time.monotonic() - started

    def user_texts(self, sender: str) -> list[str]:
        return [e["text"] for e in self.tracker(sender)["events"] if e["event"] == "user"]


@dataclass
class Proxies:
    conversations: TcpProxy
    records: TcpProxy


def kill_9(server: Server) -> None:
    os.killpg(server.process.pid, signal.SIGKILL)
    server.process.wait(timeout=30)


def log_size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def log_since(path: Path, offset: int) -> str:
    with path.open("rb") as log:
        log.seek(offset)
        return log.read().decode(errors="replace")


def wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.3)
    pytest.fail(f"{what} did not happen within {timeout:.0f} s")


@pytest.fixture(scope="module")
def fault_database(postgres_url: str) -> Iterator[sa.engine.URL]:
    """A database of this module's own, dropped at the end."""
    import psycopg2

    name = f"faults_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(postgres_url)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    yield sa.engine.make_url(postgres_url).set(database=name)
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture(scope="module")
def proxies(fault_database: sa.engine.URL) -> Iterator[Proxies]:
    target = (fault_database.host or "127.0.0.1", fault_database.port or 5432)
    both = Proxies(TcpProxy(*target), TcpProxy(*target))
    both.conversations.start()
    both.records.start()
    yield both
    both.conversations.close()
    both.records.close()


@pytest.fixture(scope="module")
def faulty(
    model_path: Path,
    fault_database: sa.engine.URL,
    proxies: Proxies,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[SplitAssistant]:
    def through(proxy: TcpProxy) -> str:
        url = fault_database.set(host="127.0.0.1", port=proxy.port)
        return url.render_as_string(hide_password=False)

    running = SplitAssistant(
        model_path,
        through(proxies.conversations),
        tmp_path_factory.mktemp("faults"),
        records_url=through(proxies.records),
    )
    running.start()
    yield running
    running.stop()


@pytest.fixture
def healthy(faulty: SplitAssistant, proxies: Proxies) -> Iterator[SplitAssistant]:
    """The servers as a test found them: after it, both proxies open again and a
    server the test left stopped (say, because it failed half-way) running again."""
    yield faulty
    proxies.conversations.restore()
    proxies.records.restore()
    for server, start in ((faulty.actions, faulty.start_actions), (faulty.rasa, faulty.start_rasa)):
        if server is None or server.process.poll() is not None:
            start()


@pytest.mark.e2e
@pytest.mark.postgres
def test_action_server_down_gets_a_reply_in_time_then_full_coaching(
    healthy: SplitAssistant,
) -> None:
    sender = new_sender()
    healthy.say(sender, SITUATION)
    before = healthy.slots(sender)
    assert before["next_step"] == "follow_up"

    assert healthy.actions is not None
    healthy.actions.stop()
    replies, elapsed = healthy.timed_say(sender, FOLLOWED_UP)
    assert ACTION_DOWN in texts(replies)
    assert elapsed < REPLY_WITHIN_SECONDS
    assert healthy.slots(sender) == before  # nothing half-done
    events = healthy.tracker(sender)["events"]
    assert {"event": "action_execution_rejected", "name": "action_coach"}.items() <= next(
        e for e in reversed(events) if e["event"] == "action_execution_rejected"
    ).items()

    healthy.start_actions()
    replies = healthy.say(sender, FOLLOWED_UP)
    assert ACTION_DOWN not in texts(replies)
    slots = healthy.slots(sender)
    assert slots["follow_ups_done"] == 1.0
    assert slots["next_step"] == "follow_up_again"


@pytest.mark.e2e
@pytest.mark.postgres
def test_a_hung_action_server_times_out_into_a_reply(healthy: SplitAssistant) -> None:
    assert healthy.actions is not None
    sender = new_sender()
    os.killpg(healthy.actions.process.pid, signal.SIGSTOP)
    try:
        replies, elapsed = healthy.timed_say(sender, SITUATION)
    finally:
        os.killpg(healthy.actions.process.pid, signal.SIGCONT)
    assert ACTION_DOWN in texts(replies)
    assert elapsed < REPLY_WITHIN_SECONDS
    assert healthy.slots(sender)["situation"] is None

    replies = healthy.say(sender, SITUATION)
    assert ACTION_DOWN not in texts(replies)
    assert healthy.slots(sender)["next_step"] == "follow_up"


@pytest.mark.e2e
@pytest.mark.postgres
def test_conversation_database_lost_mid_conversation(
    healthy: SplitAssistant, proxies: Proxies
) -> None:
    assert healthy.rasa is not None
    sender = new_sender()
    healthy.say(sender, SITUATION)
    log_start = log_size(healthy.rasa.log_path)

    proxies.conversations.cut()
    for text in (FOLLOWED_UP, "hello"):
        replies = healthy.say(sender, text)
        assert [NOTES_DOWN in r.get("text", "") for r in replies] == [True]
    assert healthy.rasa.process.poll() is None
    assert "The conversation database is unreachable" in log_since(healthy.rasa.log_path, log_start)

    proxies.conversations.restore()
    replies = healthy.say(sender, FOLLOWED_UP)
    assert NOTES_DOWN not in texts(replies)
    assert healthy.slots(sender)["follow_ups_done"] == 1.0
    # the turns the database missed are not half-stored
    assert healthy.user_texts(sender) == [SITUATION, FOLLOWED_UP]


@pytest.mark.e2e
@pytest.mark.postgres
def test_records_database_lost_mid_conversation_and_at_action_server_start(
    healthy: SplitAssistant, proxies: Proxies
) -> None:
    assert healthy.actions is not None
    sender = new_sender()
    healthy.say(sender, SITUATION)
    before = healthy.slots(sender)

    proxies.records.cut()
    replies = healthy.say(sender, FOLLOWED_UP)
    assert NOTES_DOWN in texts(replies)
    assert healthy.slots(sender) == before

    healthy.actions.stop()
    log_start = log_size(healthy.actions.log_path)
    healthy.start_actions()  # no database: starts anyway, no crash loop
    assert "The records database is unreachable" in log_since(healthy.actions.log_path, log_start)
    replies = healthy.say(sender, "what applications do I have pending?")
    assert NOTES_DOWN in texts(replies)

    proxies.records.restore()
    wait_for(
        lambda: "schema up to date" in log_since(healthy.actions.log_path, log_start),
        timeout=30,
        what="the background migration",
    )
    replies = healthy.say(sender, FOLLOWED_UP)
    assert NOTES_DOWN not in texts(replies)
    assert healthy.slots(sender)["follow_ups_done"] == 1.0


@dataclass
class Turn:
    text: str
    replies: list[dict[str, Any]] | None  # None: no answer (the server was gone)


@dataclass
class Conversation:
    sender: str
    turns: list[Turn] = field(default_factory=list)

    def answered(self) -> list[Turn]:
        return [turn for turn in self.turns if turn.replies]

    def talk(self, url: str, headers: dict[str, str], stop: threading.Event) -> None:
        """Message after message, each different, until the server is gone (or stopped).
        `headers` carry the REST channel's token."""
        companies = ["Acme Corp", "Initech", "Globex", "Hooli", "Umbrella", "Vandelay"]
        number = 0
        while not stop.is_set():
            number += 1
            company = companies[number % len(companies)]
            text = f"I interviewed at {company} {number + 1} days ago and they never called back"
            try:
                response = requests.post(
                    f"{url}/webhooks/rest/webhook",
                    json={"sender": self.sender, "message": text},
                    headers=headers,
                    timeout=60,
                )
                response.raise_for_status()
            except requests.RequestException:
                self.turns.append(Turn(text, None))
                return
            self.turns.append(Turn(text, response.json()))


def stored_turns(tracker: dict[str, Any]) -> list[tuple[str, str]]:
    """(user text, everything the bot said until the next user message)."""
    turns: list[tuple[str, list[str]]] = []
    for event in tracker["events"]:
        if event["event"] == "user":
            turns.append((event["text"], []))
        elif event["event"] == "bot" and turns:
            turns[-1][1].append(event.get("text") or "")
    return [(text, " ".join(" ".join(said).split())) for text, said in turns]


def said(replies: list[dict[str, Any]]) -> str:
    return " ".join(" ".join(r.get("text", "") for r in replies).split())


@pytest.mark.e2e
@pytest.mark.postgres
def test_kill_9_under_load_keeps_every_answered_turn(
    healthy: SplitAssistant, proxies: Proxies
) -> None:
    assert healthy.actions is not None and healthy.rasa is not None
    conversations = [Conversation(new_sender("load")) for _ in range(6)]
    stop = threading.Event()
    threads = [
        threading.Thread(target=c.talk, args=(healthy.url, healthy.rest_headers, stop), daemon=True)
        for c in conversations
    ]
    for thread in threads:
        thread.start()
    try:
        wait_for(
            lambda: all(len(c.answered()) >= 2 for c in conversations),
            timeout=240,
            what="two answered turns in every conversation",
        )
        kill_9(healthy.actions)
        wait_for(
            lambda: any(
                ACTION_DOWN in said(t.replies or []) for c in conversations for t in c.turns
            ),
            timeout=60,
            what="a reply while the action server was dead",
        )
        kill_9(healthy.rasa)  # each conversation stops at its first unanswered message
    except BaseException:
        stop.set()
        raise
    finally:
        for thread in threads:
            thread.join(timeout=90)
    for conversation in conversations:
        # every request got an answer, never an empty one, until the server died
        assert all(turn.replies for turn in conversation.turns[:-1])
        assert conversation.turns[-1].replies is None

    # The database is away while Rasa starts again: it must come up all the same.
    proxies.conversations.cut()
    log_start = log_size(healthy.rasa.log_path)
    healthy.start_actions()
    healthy.start_rasa()
    assert "conversation database is unreachable at start" in log_since(
        healthy.rasa.log_path, log_start
    )
    assert NOTES_DOWN in texts(healthy.say(new_sender(), "hello"))
    proxies.conversations.restore()

    for conversation in conversations:
        stored = stored_turns(healthy.tracker(conversation.sender))
        sent = [turn.text for turn in conversation.turns]
        assert [text for text, _ in stored] == sent[: len(stored)], "stored in the order sent"
        answered = len(conversation.turns) - 1
        assert len(stored) >= answered, "every answered turn is stored"
        for turn, (_, bot_said) in zip(conversation.turns[:answered], stored, strict=False):
            assert bot_said == said(turn.replies or [])

        replies = healthy.say(conversation.sender, SITUATION)
        assert ACTION_DOWN not in texts(replies) and NOTES_DOWN not in texts(replies)
        assert healthy.slots(conversation.sender)["days_since_interview"] == 21.0
        assert healthy.user_texts(conversation.sender)[-1] == SITUATION
