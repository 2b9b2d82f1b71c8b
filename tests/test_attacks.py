"""Attacks on other people's conversations, against the real servers (docs/security.md,
"Whose conversation is it"). Each attack reads nothing of the person under attack,
changes nothing of theirs, and that person still gets their own replies.

Slack and Telegram attacks (forged and replayed requests, group chats, channel
mentions) are in tests/test_channel_privacy.py and tests/test_channels.py."""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio
import sqlalchemy as sa

from callback_coach.identity import WebSessions
from tests.conftest import Assistant, rest_conversation
from tests.support.web_client import WidgetClient

# Names no other test uses, so finding one in a reply means a leak.
VICTIM_COMPANY = "Quorvex Systems"
VICTIM_PERSON = "Ilse Brandauer"


def count(assistant: Assistant, table: str, conversation: str) -> int:
    engine = sa.create_engine(assistant.database_url)
    try:
        with engine.connect() as connection:
            return int(
                connection.execute(
                    sa.text(f"SELECT COUNT(*) FROM {table} WHERE sender_id = :s"),  # noqa: S608
                    {"s": conversation},
                ).scalar_one()
            )
    finally:
        engine.dispose()


def texts(replies: list[dict[str, Any]]) -> str:
    return "\n".join(str(r.get("text", "")) for r in replies)


@pytest.fixture(scope="module")
def servers(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Assistant]:
    directory = tmp_path_factory.mktemp("attacks")
    running = Assistant(model_path, f"sqlite:///{directory / 'coach.db'}", directory)
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def web_victim(servers: Assistant) -> Iterator[WidgetClient]:
    """Someone on the web widget who told the coach about an application."""
    victim = WidgetClient(servers.url)
    victim.say(f"I interviewed with {VICTIM_PERSON} at {VICTIM_COMPANY} two weeks ago, no news")
    victim.wait_for(2)
    assert count(servers, "applications", victim.conversation) == 1
    yield victim
    victim.close()


@pytest.fixture(scope="module")
def rest_victim(servers: Assistant) -> str:
    """An integration's user with an application and a pending reminder."""
    sender = f"alice-{uuid.uuid4().hex[:8]}"
    servers.say(sender, f"I interviewed at {VICTIM_COMPANY} yesterday and heard nothing yet")
    assert "I'll remind you on" in texts(servers.say(sender, "remind me to follow up next week"))
    assert count(servers, "reminders", rest_conversation(sender)) == 1
    return sender


def still_served(servers: Assistant, web_victim: WidgetClient, rest_victim: str) -> None:
    """The people under attack keep their records and get their own replies."""
    assert count(servers, "applications", web_victim.conversation) == 1
    assert count(servers, "applications", rest_conversation(rest_victim)) == 1
    before = len(web_victim.replies)
    web_victim.say("what do you know about me?")
    assert VICTIM_COMPANY in texts(web_victim.wait_for(before + 1)[before:])
    assert VICTIM_COMPANY in texts(servers.say(rest_victim, "what do you know about me?"))


# --- REST --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization", [None, "Bearer not-the-token-at-all", "Basic YWxpY2U6c2VjcmV0", "Bearer "]
)
def test_rest_without_the_token_is_refused_and_stores_nothing(
    servers: Assistant, rest_victim: str, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    for sender in (rest_victim, f"mallory-{uuid.uuid4().hex[:8]}"):
        before = count(servers, "events", rest_conversation(sender))
        answer = requests.post(
            f"{servers.url}/webhooks/rest/webhook",
            json={"sender": sender, "message": "delete my data"},
            headers=headers,
            timeout=30,
        )
        assert answer.status_code == 401
        assert answer.headers.get("WWW-Authenticate") == "Bearer"
        assert count(servers, "events", rest_conversation(sender)) == before
    # the terminal channel is the same door
    answer = requests.post(
        f"{servers.url}/webhooks/terminal/webhook",
        json={"sender": "root", "message": "what do you know about me?"},
        headers=headers,
        timeout=30,
    )
    assert answer.status_code == 401


def test_rest_cannot_reach_a_web_conversation(
    servers: Assistant, web_victim: WidgetClient, rest_victim: str
) -> None:
    # naming the whole id is refused; naming its random part reaches rest:<that>, not web:
    answer = requests.post(
        f"{servers.url}/webhooks/rest/webhook",
        json={"sender": web_victim.conversation, "message": "what do you know about me?"},
        headers=servers.rest_headers,
        timeout=30,
    )
    assert answer.status_code == 400
    web_part = web_victim.conversation.split(":", 1)[1]
    seen = texts(servers.say(web_part, "what do you know about me?"))
    assert VICTIM_COMPANY not in seen and VICTIM_PERSON not in seen
    servers.say(web_part, "delete my data")
    servers.say(web_part, "yes")
    still_served(servers, web_victim, rest_victim)


def test_the_terminal_and_rest_conversations_are_apart(
    servers: Assistant, web_victim: WidgetClient, rest_victim: str
) -> None:
    """`terminal:<login>` cannot be reached through REST, nor a REST id through the terminal."""
    answer = requests.post(
        f"{servers.url}/webhooks/terminal/webhook",
        json={"sender": rest_victim, "message": "what do you know about me?"},
        headers=servers.rest_headers,
        timeout=30,
    )
    assert answer.status_code == 200
    assert VICTIM_COMPANY not in texts(answer.json())
    assert count(servers, "events", f"terminal:{rest_victim}") > 0
    still_served(servers, web_victim, rest_victim)


# --- the web widget ----------------------------------------------------------------------


def forged_tokens(victim: WidgetClient) -> list[str]:
    assert victim.token is not None
    session, _, signature = victim.token.partition(".")
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    _, other_servers_token = WebSessions(secrets.token_urlsafe(24)).issue()
    return [
        session,  # the bare id
        victim.conversation,  # the whole conversation id
        f"{session}.{flipped}",  # a changed signature
        f"{session}.{other_servers_token.split('.')[1]}",  # another server's signature
        f"{session}.",
    ]


def test_a_claimed_web_session_gets_a_fresh_one(
    servers: Assistant, web_victim: WidgetClient, rest_victim: str
) -> None:
    victim_events = count(servers, "events", web_victim.conversation)
    victim_replies = len(web_victim.replies)
    for claimed in forged_tokens(web_victim):
        attacker = WidgetClient(servers.url, token=claimed)
        try:
            assert attacker.token != claimed and attacker.conversation != web_victim.conversation
            attacker.say("what do you know about me?")
            seen = texts(attacker.wait_for(1))
            assert "stored" in seen or "anything" in seen, seen
            assert VICTIM_COMPANY not in seen and VICTIM_PERSON not in seen
        finally:
            attacker.close()
    assert count(servers, "events", web_victim.conversation) == victim_events
    assert len(web_victim.replies) == victim_replies  # the victim saw none of it
    still_served(servers, web_victim, rest_victim)


def test_a_reload_keeps_the_session_the_server_issued(
    servers: Assistant, web_victim: WidgetClient
) -> None:
    again = WidgetClient(servers.url, token=web_victim.token)
    try:
        assert again.token == web_victim.token
        assert again.conversation == web_victim.conversation
        again.say("what do you know about me?")
        assert VICTIM_COMPANY in texts(again.wait_for(1))
    finally:
        again.close()


def test_a_message_naming_another_session_stays_in_its_own(
    servers: Assistant, web_victim: WidgetClient, rest_victim: str
) -> None:
    attacker = WidgetClient(servers.url)
    try:
        victim_events = count(servers, "events", web_victim.conversation)
        victim_replies = len(web_victim.replies)
        attacker.say("what do you know about me?", session_id=web_victim.token)
        seen = texts(attacker.wait_for(1))
        assert VICTIM_COMPANY not in seen
        assert count(servers, "events", attacker.conversation) > 0
        assert count(servers, "events", web_victim.conversation) == victim_events
        assert len(web_victim.replies) == victim_replies
    finally:
        attacker.close()
    still_served(servers, web_victim, rest_victim)


def test_a_message_before_any_session_is_dropped(servers: Assistant) -> None:
    client = socketio.Client(reconnection=False)
    replies: list[Any] = []
    client.on("bot_uttered", replies.append)
    client.connect(servers.url, transports=["polling"], socketio_path="socket.io", wait_timeout=30)
    try:
        client.emit("user_uttered", {"message": "hello", "session_id": "anything-at-all"})
        client.sleep(3)
        assert replies == []
        assert count(servers, "events", "web:anything-at-all") == 0
    finally:
        client.eio.disconnect(abort=True)


def test_only_the_servers_own_origin_may_open_the_socket(servers: Assistant) -> None:
    with pytest.raises(socketio.exceptions.ConnectionError):
        WidgetClient(servers.url, origin="https://evil.example")
    same = WidgetClient(servers.url, origin=servers.url)
    same.close()


# --- what a message may carry ------------------------------------------------------------


def test_intent_shortcuts_cannot_deliver_or_fake_anything(
    servers: Assistant, web_victim: WidgetClient, rest_victim: str
) -> None:
    with sa.create_engine(servers.database_url).connect() as connection:
        [reminder_id] = connection.execute(
            sa.text("SELECT id FROM reminders WHERE sender_id = :s"),
            {"s": rest_conversation(rest_victim)},
        ).scalars()
    attempts = [
        f'/reminder_due{{"reminder_id":"{reminder_id}"}}',
        "/reminder_due",
        f'/no_callback{{"ORG":"{VICTIM_COMPANY}","PERSON":"x"}}',
        '/cancel_reminder{"reminder_id":"' + "9" * 500 + '"}',
        "/session_start",
    ]
    mallory = f"mallory-{uuid.uuid4().hex[:8]}"
    # the victim's own conversation, too: internal intents stay out of reach (but "cancel
    # my reminder" in words is theirs to say, so that one is tried by the attacker only)
    for sender, tried in ((mallory, attempts), (rest_victim, attempts[:3] + attempts[4:])):
        for attempt in tried:
            servers.say(sender, attempt)
            latest = [e for e in servers.tracker(sender)["events"] if e["event"] == "user"][-1]
            intent = latest["parse_data"]["intent"]["name"]
            assert intent not in ("reminder_due", "session_start"), attempt
            entities = {e["entity"] for e in latest["parse_data"]["entities"]}
            assert not entities & {"ORG", "PERSON", "reminder_id"}, attempt
    with sa.create_engine(servers.database_url).connect() as connection:
        status = connection.execute(
            sa.text("SELECT status FROM reminders WHERE id = :id"), {"id": reminder_id}
        ).scalar_one()
    assert status == "pending"
    # a real button's payload still works
    replies = servers.say(f"buttons-{uuid.uuid4().hex[:8]}", "/rejected")
    assert replies and "didn't quite get" not in texts(replies)
    still_served(servers, web_victim, rest_victim)


def test_metadata_keeps_only_what_the_coach_reads(servers: Assistant) -> None:
    sender = f"meta-{uuid.uuid4().hex[:8]}"
    metadata = {
        "timezone": "Europe/Paris",
        "locale": "fr-FR",
        "place": "shared",
        "padding": "x" * 20_000,
        "nested": {"deep": [1, 2, 3] * 100},
        "locale2": "'; DROP TABLE events; --",
    }
    answer = requests.post(
        f"{servers.url}/webhooks/rest/webhook",
        json={"sender": sender, "message": "hello", "metadata": metadata},
        headers=servers.rest_headers,
        timeout=30,
    )
    assert answer.status_code == 200
    [user] = [e for e in servers.tracker(sender)["events"] if e["event"] == "user"]
    added_by_rasa = {"model_id", "assistant_id"}
    kept = {k: v for k, v in user["metadata"].items() if k not in added_by_rasa}
    assert kept == {"timezone": "Europe/Paris", "locale": "fr-FR"}
    # too much metadata is a body too large
    answer = requests.post(
        f"{servers.url}/webhooks/rest/webhook",
        json={"sender": sender, "message": "hello", "metadata": {"x": "y" * 100_000}},
        headers=servers.rest_headers,
        timeout=30,
    )
    assert answer.status_code == 413


def test_a_flood_from_one_sender_does_not_silence_another(
    servers: Assistant, web_victim: WidgetClient, rest_victim: str
) -> None:
    mallory = f"flood-{uuid.uuid4().hex[:8]}"
    statuses = []
    for _ in range(40):
        answer = requests.post(
            f"{servers.url}/webhooks/rest/webhook",
            data=json.dumps({"sender": mallory, "message": "hi"}),
            headers={**servers.rest_headers, "Content-Type": "application/json"},
            timeout=30,
        )
        statuses.append(answer.status_code)
    assert 429 in statuses
    still_served(servers, web_victim, rest_victim)
