"""Bad input to every webhook, against the real Rasa and action servers over HTTP:
each kind gets a clear 4xx or a polite reply, quickly, and nothing is stored that
should not be. Slack and Telegram go through the loopback fakes of their APIs.

The servers here run with a low rate limit (5 messages per sender per hour) so a flood
is cheap to provoke; every other test uses fresh senders and stays under it.
"""

from __future__ import annotations

import json
import time
import uuid
import zlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa
import yaml

from actions.settings import PROJECT_ROOT
from callback_coach.identity import channel_of, conversation_id
from tests.conftest import Assistant, rest_conversation
from tests.fake_apis import FakeApis
from tests.support.web_client import WidgetClient
from tests.test_channels import (
    BOT_NAME,
    SLACK_SECRET,
    TELEGRAM_SECRET,
    TELEGRAM_TOKEN,
    new_chat,
    slack_conversation,
    slack_event,
    slack_headers,
    telegram_update,
    to_channel,
    to_chat,
)

RATE_LIMIT = 5
WINDOW_SECONDS = 3600
MAX_CHARS = 2000  # the default
# Replies that skip the model come back well within this, even on a loaded machine.
QUICK_SECONDS = 5.0
RESPONSES = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]
TOO_LONG = RESPONSES["utter_message_too_long"][0]["text"]
EMPTY = RESPONSES["utter_empty_message"][0]["text"]
SLOW_DOWN = RESPONSES["utter_slow_down"][0]["text"]


@pytest.fixture(scope="module")
def guarded(
    model_path: Path, fakes: FakeApis, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Assistant]:
    directory = tmp_path_factory.mktemp("bad-input")
    running = Assistant(
        model_path,
        f"sqlite:///{directory / 'coach.db'}",
        directory,
        extra_env={
            "COACH_RATE_LIMIT_MESSAGES": str(RATE_LIMIT),
            "COACH_RATE_LIMIT_SECONDS": str(WINDOW_SECONDS),
            "SLACK_TOKEN": "xoxb-test-token",
            "SLACK_SIGNING_SECRET": SLACK_SECRET,
            "SLACK_API_URL": fakes.slack_url,
            "TELEGRAM_TOKEN": TELEGRAM_TOKEN,
            "TELEGRAM_BOT_NAME": BOT_NAME,
            "TELEGRAM_WEBHOOK_URL": "https://coach.example.org/webhooks/telegram/webhook",
            "TELEGRAM_SECRET_TOKEN": TELEGRAM_SECRET,
            "TELEGRAM_API_URL": fakes.telegram_url,
        },
    )
    running.start()
    yield running
    running.stop()


def new_sender() -> str:
    return f"bad-{uuid.uuid4().hex[:12]}"


def post_rest(
    assistant: Assistant,
    headers: dict[str, str] | None = None,
    authorised: bool = True,
    **request: Any,
) -> tuple[requests.Response, float]:
    """A POST to the REST webhook, as the trusted integration sends it (with the token)
    unless `authorised` is False."""
    sent = {**(assistant.rest_headers if authorised else {}), **(headers or {})}
    started = time.monotonic()
    answer = requests.post(
        f"{assistant.url}/webhooks/rest/webhook", headers=sent, timeout=60, **request
    )
    return answer, time.monotonic() - started


def texts(answer: requests.Response) -> list[str]:
    return [message.get("text", "") for message in answer.json()]


def user_texts(assistant: Assistant, sender: str) -> list[str]:
    """What the tracker (read through Rasa's API) holds of what the user said."""
    return [e["text"] for e in assistant.tracker(sender)["events"] if e["event"] == "user"]


def rows_by_conversation(assistant: Assistant) -> Counter[str]:
    """Rows in the tracker store for each conversation id, read from the database itself."""
    engine = sa.create_engine(assistant.database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT sender_id, COUNT(*) FROM events GROUP BY sender_id")
            ).all()
    finally:
        engine.dispose()
    return Counter({str(sender_id): int(count) for sender_id, count in rows})


def stored_rows(assistant: Assistant, conversation: str) -> int:
    """Rows in the tracker store for this conversation id (`rest:x`, `web:…`,
    `slack:T:U`, `telegram:n`: a bare sender id would match nothing)."""
    assert channel_of(conversation), f"{conversation!r} is not a conversation id"
    return rows_by_conversation(assistant)[conversation]


def rows_naming(assistant: Assistant, fragment: str) -> int:
    """Rows in the tracker store of every conversation whose id contains `fragment`."""
    assert fragment
    rows = rows_by_conversation(assistant)
    return sum(count for sender_id, count in rows.items() if fragment in sender_id)


# --- REST: the text ----------------------------------------------------------------------


@pytest.mark.parametrize("message", ["", "   ", "\n\t \r\n", "\x00\x01\x1b"])
def test_an_empty_message_gets_a_nudge_and_is_not_stored(guarded: Assistant, message: str) -> None:
    sender = new_sender()
    answer, took = post_rest(guarded, json={"sender": sender, "message": message})
    assert answer.status_code == 200 and texts(answer) == [EMPTY]
    assert took < QUICK_SECONDS
    assert stored_rows(guarded, rest_conversation(sender)) == 0


def test_an_overlong_message_gets_a_polite_reply_and_its_text_is_not_stored(
    guarded: Assistant,
) -> None:
    sender = new_sender()
    guarded.say(sender, "I was rejected by Acme Corp")
    overlong = "They never called me back. " * 100  # 2700 characters
    answer, took = post_rest(guarded, json={"sender": sender, "message": overlong})
    assert answer.status_code == 200 and texts(answer) == [TOO_LONG]
    assert took < QUICK_SECONDS
    assert user_texts(guarded, sender) == ["I was rejected by Acme Corp"]
    # exactly at the cap is still read
    at_cap = ("I interviewed at Acme Corp and heard nothing. " * 50)[: MAX_CHARS - 1] + "?"
    answer, _ = post_rest(guarded, json={"sender": sender, "message": at_cap})
    assert answer.status_code == 200 and TOO_LONG not in texts(answer)
    assert user_texts(guarded, sender)[-1] == at_cap


def test_a_100_kb_body_gets_413_at_once_and_nothing_is_stored(guarded: Assistant) -> None:
    sender = new_sender()
    body = json.dumps({"sender": sender, "message": "a" * 100_000})
    answer, took = post_rest(guarded, data=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 413
    assert took < QUICK_SECONDS
    assert rows_naming(guarded, sender) == 0


def test_control_characters_and_lone_surrogates_are_removed_before_storing(
    guarded: Assistant,
) -> None:
    sender = new_sender()
    # json.dumps writes the lone surrogate as the escape \ud800, which JSON allows
    raw = "I was rejected\x00 by \x1b[31mAcme\x7f Corp\ud800 today\r\nWhat now?"
    answer, _ = post_rest(guarded, json={"sender": sender, "message": raw})
    assert answer.status_code == 200 and texts(answer)
    assert user_texts(guarded, sender) == ["I was rejected by [31mAcme Corp today\nWhat now?"]


@pytest.mark.parametrize(
    "message",
    [
        "😀🎉👍",
        "👩‍💻🙏🏽",
        "Ich hatte letzte Woche ein Vorstellungsgespräch und habe nichts gehört",
        "面接の後、まだ連絡がありません",
        "أجريت مقابلة ولم يتصل بي أحد",
        "Fui rechazada por la empresa después de la entrevista",
    ],
)
def test_emoji_and_other_languages_get_an_answer_and_are_stored_as_written(
    guarded: Assistant, message: str
) -> None:
    sender = new_sender()
    answer, _ = post_rest(guarded, json={"sender": sender, "message": message})
    assert answer.status_code == 200 and any(texts(answer))
    assert user_texts(guarded, sender) == [message]


@pytest.mark.parametrize(
    "message",
    [
        "'; DROP TABLE events; --",
        "Robert'); DELETE FROM reminders WHERE ('1'='1",
        "<script>alert('x')</script> rejected me",
        '<img src=x onerror="fetch(`/conversations`)"> never called back',
        "{{7*7}} ${jndi:ldap://x} %s%n",
    ],
)
def test_injection_strings_are_stored_as_plain_text_and_harm_nothing(
    guarded: Assistant, message: str
) -> None:
    sender = new_sender()
    answer, _ = post_rest(guarded, json={"sender": sender, "message": message})
    assert answer.status_code == 200 and any(texts(answer))
    assert user_texts(guarded, sender) == [message]
    assert guarded.say(new_sender(), "hello")  # the tables are all still there


# --- REST: the request -------------------------------------------------------------------

MALFORMED_REQUESTS = [
    (b"{not json", "application/json", 400),
    (b"", "application/json", 400),
    (b'{"sender": "x", "message": NaN}', "application/json", 400),
    (b"[" * 5000 + b"]" * 5000, "application/json", 400),
    (b'\xff\xfe{"sender"', "application/json", 400),
    (b'["sender", "message"]', "application/json", 400),
    (b'"just a string"', "application/json", 400),
    (b"null", "application/json", 400),
    (b'{"sender": "s"}', "application/json", 400),
    (b'{"sender": "s", "message": 42}', "application/json", 400),
    (b'{"sender": "s", "message": ["hi"]}', "application/json", 400),
    (b'{"sender": "s", "message": "hi", "metadata": "x"}', "application/json", 400),
    (b'{"sender": "s", "message": "hi"}', "text/plain", 415),
    (b"sender=s&message=hi", "application/x-www-form-urlencoded", 415),
    (b'{"sender": "s", "message": "hi"}', "", 415),
    (b"\x00\x01\x02binary", "application/octet-stream", 415),
]


@pytest.mark.parametrize(("body", "content_type", "status"), MALFORMED_REQUESTS)
def test_a_malformed_request_gets_a_clear_4xx(
    guarded: Assistant, body: bytes, content_type: str, status: int
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    answer, took = post_rest(guarded, data=body, headers=headers)
    assert answer.status_code == status
    assert answer.json()["error"]
    assert took < QUICK_SECONDS


# What a caller without the token might send: nothing, a wrong token, another scheme,
# the token without its scheme, the token with more after it. `{token}` is the real one.
WITHOUT_THE_TOKEN = [
    None,
    "Bearer not-the-rest-channel-token",
    "Basic YWxpY2U6c2VjcmV0",
    "Bearer ",
    "{token}",
    "Bearer {token}x",
]


def unauthorised_headers(assistant: Assistant, authorization: str | None) -> dict[str, str]:
    if authorization is None:
        return {}
    return {"Authorization": authorization.format(token=assistant.env["REST_CHANNEL_TOKEN"])}


@pytest.mark.parametrize("authorization", WITHOUT_THE_TOKEN)
@pytest.mark.parametrize(
    ("body", "content_type"),
    [(body, content_type) for body, content_type, _ in MALFORMED_REQUESTS]
    + [
        (b'{"sender": "../../etc/passwd", "message": "hello"}', "application/json"),
        (b'{"sender": "web:abcdef", "message": "hello"}', "application/json"),
        (b'{"sender": "s", "message": "   "}', "application/json"),
        (b'{"sender": "s", "message": "hello"}', "application/json"),
    ],
)
def test_without_the_token_every_request_gets_401_before_anything_else(
    guarded: Assistant, body: bytes, content_type: str, authorization: str | None
) -> None:
    sender = new_sender()
    # the well-formed bodies name a fresh sender, to see that nothing is stored for it
    body = body.replace(b'"sender": "s"', f'"sender": "{sender}"'.encode())
    headers = unauthorised_headers(guarded, authorization)
    if content_type:
        headers["Content-Type"] = content_type
    answer, took = post_rest(guarded, authorised=False, data=body, headers=headers)
    assert answer.status_code == 401
    assert answer.headers.get("WWW-Authenticate") == "Bearer"
    assert answer.json()["error"]
    assert took < QUICK_SECONDS
    assert rows_naming(guarded, sender) == 0


@pytest.mark.parametrize("authorization", WITHOUT_THE_TOKEN)
def test_requests_without_the_token_do_not_use_up_a_senders_rate_limit(
    guarded: Assistant, authorization: str | None
) -> None:
    sender = new_sender()
    wait_clear_of_window_end()
    for _ in range(RATE_LIMIT + 2):
        answer, _ = post_rest(
            guarded,
            authorised=False,
            json={"sender": sender, "message": "hello"},
            headers=unauthorised_headers(guarded, authorization),
        )
        assert answer.status_code == 401
    assert rows_naming(guarded, sender) == 0
    # had the refused requests been counted, this would be a 429
    answer, _ = post_rest(guarded, json={"sender": sender, "message": " "})
    assert answer.status_code == 200 and texts(answer) == [EMPTY]


@pytest.mark.parametrize(
    "sender",
    [
        "../../etc/passwd",
        "..",
        "a/../../b",
        "%2e%2e%2f",
        "x' OR '1'='1",
        "1; DROP TABLE events; --",
        "",
        "x" * 129,
        "Zoë",
        # a REST sender is the integration's own id, never a whole conversation id
        "rest:bad-colon",
        "web:abcdefghijklmnopqrstuvwx",
        "slack:TCOACH01:UCOLON01",
        "telegram:777000111",
        "terminal:root",
        ":",
        "bad-colon:",
        None,
        42,
        {"id": 1},
    ],
)
def test_a_tricky_sender_id_gets_400_and_creates_no_conversation(
    guarded: Assistant, sender: Any
) -> None:
    answer, _ = post_rest(guarded, json={"sender": sender, "message": "hello"})
    assert answer.status_code == 400 and "sender" in answer.json()["error"]
    if isinstance(sender, str):
        rows = rows_by_conversation(guarded)
        assert rows[sender] == 0 and rows[f"rest:{sender}"] == 0
        if sender and ":" not in sender:
            assert rows_naming(guarded, sender) == 0


def test_a_sender_id_of_128_characters_is_still_accepted(guarded: Assistant) -> None:
    sender = new_sender()[:16] * 8  # the longest a REST sender may be
    answer, _ = post_rest(guarded, json={"sender": sender, "message": "  "})
    assert answer.status_code == 200 and texts(answer) == [EMPTY]


def test_the_client_cannot_claim_another_input_channel(guarded: Assistant) -> None:
    sender = new_sender()
    answer, _ = post_rest(
        guarded, json={"sender": sender, "message": "hello", "input_channel": "slack"}
    )
    assert answer.status_code == 200
    tracker = guarded.tracker(sender)
    assert tracker["sender_id"] == rest_conversation(sender)
    [said] = [e for e in tracker["events"] if e["event"] == "user"]
    assert said["input_channel"] == "rest"
    # stored under the REST conversation only
    assert rows_naming(guarded, sender) == stored_rows(guarded, rest_conversation(sender)) > 0


def wait_clear_of_window_end(margin: float = 30) -> None:
    """The flood must not straddle two rate windows (they are aligned to the clock)."""
    left = WINDOW_SECONDS - time.time() % WINDOW_SECONDS
    if left < margin:
        time.sleep(left + 1)


def test_a_flood_from_one_sender_gets_429_and_another_sender_is_unaffected(
    guarded: Assistant,
) -> None:
    flooder, bystander = new_sender(), new_sender()
    wait_clear_of_window_end()
    guarded.say(flooder, "I was rejected by Initech")
    statuses = []
    for _ in range(RATE_LIMIT + 3):
        answer, took = post_rest(guarded, json={"sender": flooder, "message": "  "})
        statuses.append(answer.status_code)
        assert took < QUICK_SECONDS
    assert statuses == [200] * (RATE_LIMIT - 1) + [429] * 4
    assert 0 < int(answer.headers["Retry-After"]) <= WINDOW_SECONDS
    assert answer.json()["error"]
    assert user_texts(guarded, flooder) == ["I was rejected by Initech"]
    refused, _ = post_rest(guarded, json={"sender": flooder, "message": "hello again"})
    assert refused.status_code == 429
    assert any(texts(post_rest(guarded, json={"sender": bystander, "message": "hi"})[0]))


# --- the web page and the widget's socket.io ---------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("POST", "/webhooks/web/", 405),
        ("GET", "/webhooks/web/..%2f..%2fcredentials.yml", 404),
        ("GET", "/webhooks/web/%2e%2e/%2e%2e/endpoints.yml", 404),
        ("GET", "/webhooks/web/index.html%00.js", 404),
        ("GET", "/webhooks/rest/webhook", 405),
    ],
)
def test_the_web_page_serves_only_its_files(
    guarded: Assistant, method: str, path: str, status: int
) -> None:
    answer = requests.request(method, f"{guarded.url}{path}", timeout=30, data=b"x")
    assert answer.status_code == status


@pytest.fixture
def widget(guarded: Assistant) -> Iterator[WidgetClient]:
    """A browser on the widget, with the session the server issued it."""
    client = WidgetClient(guarded.url)
    assert channel_of(client.conversation) == "web"
    yield client
    client.close()


def widget_texts(replies: list[dict[str, Any]]) -> Counter[str]:
    # the widget renders markdown, so the replies come escaped: compare the words
    return Counter(str(r.get("text", "")).replace("\\", "") for r in replies)


def test_the_widget_gets_the_same_polite_replies(guarded: Assistant, widget: WidgetClient) -> None:
    widget.say("x" * (MAX_CHARS + 1))
    widget.say({"not": "text"})  # type: ignore[arg-type]
    widget.say(" \t ")
    widget.wait_for(2)
    time.sleep(1)  # nothing more is coming for the message that is not text
    assert widget_texts(widget.replies) == Counter([TOO_LONG, EMPTY])
    assert stored_rows(guarded, widget.conversation) == 0
    # the conversation the check looked at is this browser's: a real message lands there
    widget.say("hello")
    deadline = time.monotonic() + 30
    while stored_rows(guarded, widget.conversation) == 0 and time.monotonic() < deadline:
        time.sleep(0.3)
    assert stored_rows(guarded, widget.conversation) > 0


def test_a_100_kb_widget_message_is_refused_and_not_stored(
    guarded: Assistant, widget: WidgetClient
) -> None:
    widget.say("a" * 100_000)
    time.sleep(3)
    assert widget.replies == [] and stored_rows(guarded, widget.conversation) == 0


def test_a_widget_flood_gets_one_slow_down_then_silence(
    guarded: Assistant, widget: WidgetClient
) -> None:
    wait_clear_of_window_end()
    for _ in range(RATE_LIMIT + 3):
        widget.say("")
    widget.wait_for(RATE_LIMIT + 1)
    time.sleep(2)
    assert widget_texts(widget.replies) == Counter([EMPTY] * RATE_LIMIT + [SLOW_DOWN])
    assert stored_rows(guarded, widget.conversation) == 0


# --- Slack -------------------------------------------------------------------------------


def post_slack_raw(assistant: Assistant, body: bytes, content_type: str) -> requests.Response:
    return requests.post(
        f"{assistant.url}/webhooks/slack/webhook",
        data=body,
        headers={"Content-Type": content_type, **slack_headers(body)},
        timeout=30,
    )


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b'{"type": "event_callback", "event": ["text"]}', "application/json", 400),
        (b'{"type": "event_callback", "event": {"text": 5}}', "application/json", 400),
        (b'{"authorizations": "UBOT"}', "application/json", 400),
        (b"hello", "text/plain", 415),
        (b"no_payload=1", "application/x-www-form-urlencoded", 400),
        (b"payload=%7Bnot%20json", "application/x-www-form-urlencoded", 400),
        (b"payload=%5B%5D", "application/x-www-form-urlencoded", 400),
        (b"payload=%7B%22actions%22%3A%5B1%5D%7D", "application/x-www-form-urlencoded", 400),
    ],
)
def test_a_signed_slack_request_with_a_bad_body_gets_a_4xx(
    guarded: Assistant, body: bytes, content_type: str, status: int
) -> None:
    answer = post_slack_raw(guarded, body, content_type)
    assert answer.status_code == status


def post_slack_event(assistant: Assistant, user: str, channel: str, text: str) -> int:
    body = json.dumps(slack_event(user, channel, text)).encode()
    return post_slack_raw(assistant, body, "application/json").status_code


def test_slack_gets_polite_replies_and_a_flood_is_cut_off(
    guarded: Assistant, fakes: FakeApis
) -> None:
    user, channel = f"U{uuid.uuid4().hex[:8]}", f"D{uuid.uuid4().hex[:8]}"
    wait_clear_of_window_end()
    assert post_slack_event(guarded, user, channel, "x" * (MAX_CHARS + 1)) == 200
    [reply] = fakes.wait_for("slack", "chat.postMessage", to_channel(channel))
    assert reply["text"] == TOO_LONG
    for _ in range(RATE_LIMIT + 2):  # the over-long message was the first of the window
        assert post_slack_event(guarded, user, channel, "   ") == 200
    fakes.wait_for("slack", "chat.postMessage", to_channel(channel), count=RATE_LIMIT + 1)
    time.sleep(2)
    posted = fakes.recorded("slack", "chat.postMessage", to_channel(channel))
    # each Slack message is handled in its own task, so replies may cross on the way out
    assert Counter(p["text"] for p in posted) == Counter(
        [TOO_LONG] + [EMPTY] * (RATE_LIMIT - 1) + [SLOW_DOWN]
    )
    assert stored_rows(guarded, slack_conversation(user)) == 0


# --- Telegram ----------------------------------------------------------------------------


def post_telegram_raw(
    assistant: Assistant, body: bytes, content_type: str = "application/json"
) -> requests.Response:
    return requests.post(
        f"{assistant.url}/webhooks/telegram/webhook",
        data=body,
        headers={"Content-Type": content_type, "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
        timeout=30,
    )


@pytest.mark.parametrize(
    ("update", "status"),
    [
        (b"{not json", 400),
        (b"[]", 400),
        (b'{"update_id": 1, "message": "hi"}', 400),
        (b'{"update_id": 1, "message": {"text": "hi"}}', 400),  # no chat
        (b'{"update_id": 1, "message": {"text": "hi", "chat": {"id": "7"}}}', 400),
        (b'{"update_id": 1, "message": {"text": ["hi"], "chat": {"id": 7}}}', 400),
        (b'{"update_id": 1, "message": {"chat": {"id": 7}, "location": {"latitude": "n"}}}', 400),
        (b'{"update_id": 1, "callback_query": {"data": "/greet"}}', 400),
        (b'{"update_id": 1, "edited_message": {"chat": {"id": true}}}', 400),
    ],
)
def test_a_telegram_update_in_a_bad_shape_gets_400(
    guarded: Assistant, update: bytes, status: int
) -> None:
    assert post_telegram_raw(guarded, update).status_code == status


def test_telegram_updates_we_do_not_handle_are_acknowledged_not_retried(
    guarded: Assistant, fakes: FakeApis
) -> None:
    chat = new_chat()
    for update in (
        {"update_id": 1, "my_chat_member": {"chat": {"id": chat}}},
        {"update_id": 2},
        {"update_id": 3, "edited_message": {"message_id": 1, "chat": {"id": chat}}},
    ):
        assert post_telegram_raw(guarded, json.dumps(update).encode()).status_code == 200
    assert post_telegram_raw(guarded, b'{"update_id": 4}', "text/plain").status_code == 415
    time.sleep(2)
    assert fakes.recorded("telegram", "sendMessage", to_chat(chat)) == []


def test_telegram_gets_the_polite_replies(guarded: Assistant, fakes: FakeApis) -> None:
    chat = new_chat()
    for text in ("x" * (MAX_CHARS + 1), "\x00\x00"):
        update = json.dumps(telegram_update(chat, text)).encode()
        assert post_telegram_raw(guarded, update).status_code == 200
    replies = fakes.wait_for("telegram", "sendMessage", to_chat(chat), count=2)
    assert [r["text"] for r in replies] == [TOO_LONG, EMPTY]
    # a private chat: the chat id is the person's id
    assert stored_rows(guarded, conversation_id("telegram", str(chat))) == 0


# --- the action server's /webhook --------------------------------------------------------


def post_action(
    assistant: Assistant, body: bytes, headers: dict[str, str] | None = None
) -> requests.Response:
    assert assistant.actions is not None
    return requests.post(
        f"{assistant.actions.url}/webhook",
        data=body,
        headers={
            "Content-Type": "application/json",
            # what Rasa sends (docs/security.md); without it every call gets 401
            "Authorization": f"Bearer {assistant.env['ACTION_SERVER_TOKEN']}",
            **(headers or {}),
        },
        timeout=30,
    )


def deflate_bomb(megabytes: int) -> bytes:
    """A small deflate body (about 1 KB per MB) that inflates to `megabytes` of spaces,
    more than the action server accepts."""
    compressor = zlib.compressobj()
    chunk = b" " * 1_000_000
    return b"".join(compressor.compress(chunk) for _ in range(megabytes)) + compressor.flush()


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (b"{not json", {}, 400),
        (b"", {}, 400),
        (b"[]", {}, 400),
        (b'{"next_action": "action_coach"}', {}, 400),
        (b'{"next_action": "action_coach", "tracker": {"sender_id": 5}}', {}, 400),
        (b'{"next_action": "action_coach", "tracker": []}', {}, 400),
        (b'{"next_action": 7, "tracker": {"sender_id": "s"}}', {}, 400),
        (b'{"next_action": "action_coach"}', {"Content-Type": "text/plain"}, 415),
        (b"not deflate at all", {"Content-Encoding": "deflate"}, 400),
        (zlib.compress(b"[1]"), {"Content-Encoding": "deflate"}, 400),
        (b"bomb", {"Content-Encoding": "deflate"}, 413),
    ],
)
def test_a_malformed_action_call_gets_a_clear_4xx(
    guarded: Assistant, body: bytes, headers: dict[str, str], status: int
) -> None:
    if body == b"bomb":
        body = deflate_bomb(150)
    started = time.monotonic()
    answer = post_action(guarded, body, headers)
    assert answer.status_code == status
    assert answer.json()["error"] and "Traceback" not in answer.text
    assert time.monotonic() - started < QUICK_SECONDS


def test_an_unknown_action_is_still_rasa_sdks_404(guarded: Assistant) -> None:
    call = {"next_action": "action_nope", "tracker": {"sender_id": "s", "events": []}}
    assert post_action(guarded, json.dumps(call).encode()).status_code == 404


def test_a_well_formed_action_call_still_runs(guarded: Assistant) -> None:
    call = {
        "next_action": "action_list_reminders",
        "sender_id": new_sender(),
        "version": "3.6.21",
        "domain": {},
        "tracker": {
            "sender_id": new_sender(),
            "slots": {},
            "latest_message": {"text": "what reminders do I have?", "entities": []},
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
    }
    for body, headers in (
        (json.dumps(call).encode(), {}),
        (zlib.compress(json.dumps(call).encode()), {"Content-Encoding": "deflate"}),
    ):
        answer = post_action(guarded, body, headers)
        assert answer.status_code == 200 and answer.json()["responses"]
