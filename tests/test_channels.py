"""Slack and Telegram end to end: the real Rasa and action servers with our connectors,
signed/secret-bearing webhooks in, and loopback fakes of Slack's and Telegram's APIs
recording what goes out."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from tests.conftest import Assistant
from tests.fake_apis import BOT_NAME, FakeApis

SLACK_SECRET = "slack-signing-secret"
SLACK_TEAM = "TCOACH01"
TELEGRAM_SECRET = "telegram-secret-token"
TELEGRAM_TOKEN = "123456:telegram-test-token"


def start_with_channels(model_path: Path, fakes: FakeApis, directory: Path) -> Assistant:
    """Both servers with Slack and Telegram on, talking to `fakes`."""
    running = Assistant(
        model_path,
        f"sqlite:///{directory / 'coach.db'}",
        directory,
        extra_env={
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
    return running


@pytest.fixture(scope="module")
def channels(
    model_path: Path, fakes: FakeApis, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Assistant]:
    running = start_with_channels(model_path, fakes, tmp_path_factory.mktemp("channels"))
    yield running
    running.stop()


# --- Slack -----------------------------------------------------------------------------


def slack_headers(body: bytes, secret: str = SLACK_SECRET, age: int = 0) -> dict[str, str]:
    stamp = str(int(time.time()) - age)
    signature = hmac.new(secret.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256)
    return {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": f"v0={signature.hexdigest()}",
    }


def slack_event(
    user: str,
    channel: str,
    text: str,
    thread_ts: str | None = None,
    team: str | None = SLACK_TEAM,
    mention: bool = False,
) -> dict[str, Any]:
    """A DM from `user`, or with `mention` a mention of the bot in a channel."""
    event = {
        "type": "message",
        "channel_type": "im",
        "user": user,
        "channel": channel,
        "text": text,
        "ts": f"{time.time():.6f}",
    }
    if mention:  # what Slack sends: no channel_type
        event = {**event, "type": "app_mention", "text": f"<@UBOT> {text}"}
        del event["channel_type"]
    if thread_ts:
        event["thread_ts"] = thread_ts
    body: dict[str, Any] = {
        "type": "event_callback",
        "event_id": f"Ev{uuid.uuid4().hex[:10]}",
        "authorizations": [{"user_id": "UBOT"}],
        "event": event,
    }
    if team:
        body["team_id"] = team
    return body


def slack_conversation(user: str) -> str:
    return f"slack:{SLACK_TEAM}:{user}"


def post_slack(
    assistant: Assistant,
    payload: dict[str, Any],
    headers: dict[str, str] | None = None,
    **sign: Any,
) -> requests.Response:
    body = json.dumps(payload).encode()
    return requests.post(
        f"{assistant.url}/webhooks/slack/webhook",
        data=body,
        headers={
            "Content-Type": "application/json",
            **slack_headers(body, **sign),
            **(headers or {}),
        },
        timeout=30,
    )


def to_channel(channel: str) -> Any:
    return lambda body: body.get("channel") == channel


def test_a_slack_message_gets_the_coaching_reply(channels: Assistant, fakes: FakeApis) -> None:
    channel = f"D{uuid.uuid4().hex[:8]}"
    answer = post_slack(channels, slack_event("U1", channel, "I was rejected by Acme Corp today"))
    assert answer.status_code == 200
    replies = fakes.wait_for("slack", "chat.postMessage", to_channel(channel), count=2)
    text = "\n".join(r.get("text", "") for r in replies)
    assert "ask" in text.lower() and "feedback" in text.lower()
    assert all("thread_ts" not in r for r in replies)  # not written in a thread
    for reply in replies:  # Slack drops a message with more than five buttons
        for block in reply.get("blocks") or []:
            assert len(block.get("elements", [])) <= 5


def test_a_reply_goes_into_the_thread_the_user_wrote_in(
    channels: Assistant, fakes: FakeApis
) -> None:
    channel = f"D{uuid.uuid4().hex[:8]}"
    post_slack(channels, slack_event("U2", channel, "hello there", thread_ts="1700000000.000100"))
    [reply, *_] = fakes.wait_for("slack", "chat.postMessage", to_channel(channel))
    assert reply["thread_ts"] == "1700000000.000100"


def test_slack_retries_never_bring_a_second_reply(channels: Assistant, fakes: FakeApis) -> None:
    channel = f"D{uuid.uuid4().hex[:8]}"
    event = slack_event("U3", channel, "hi")
    assert post_slack(channels, event).status_code == 200
    fakes.wait_for("slack", "chat.postMessage", to_channel(channel))
    for reason in ("http_timeout", "http_error"):
        retry = post_slack(
            channels, event, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": reason}
        )
        assert retry.status_code == 200 and retry.headers.get("X-Slack-No-Retry") == "1"
    time.sleep(3)
    assert len(fakes.recorded("slack", "chat.postMessage", to_channel(channel))) == 1


@pytest.mark.parametrize(
    "signing", [{"secret": "forged"}, {"age": 600}], ids=["wrong secret", "too old"]
)
def test_an_unsigned_slack_request_is_rejected(
    channels: Assistant, fakes: FakeApis, signing: dict[str, Any]
) -> None:
    channel = f"D{uuid.uuid4().hex[:8]}"
    answer = post_slack(channels, slack_event("U4", channel, "hi"), **signing)
    assert answer.status_code == 401
    time.sleep(2)
    assert fakes.recorded("slack", "chat.postMessage", to_channel(channel)) == []


def slack_click(
    user: str, channel: str, value: str, team: str | None = SLACK_TEAM
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user},
        "channel": {"id": channel},
        "message": {"ts": f"{time.time():.6f}"},
        "actions": [{"type": "button", "value": value}],
    }
    if team:
        payload["team"] = {"id": team}
    return payload


def post_slack_click(assistant: Assistant, payload: dict[str, Any]) -> requests.Response:
    body = f"payload={requests.utils.quote(json.dumps(payload))}".encode()
    return requests.post(
        f"{assistant.url}/webhooks/slack/webhook",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", **slack_headers(body)},
        timeout=30,
    )


def test_a_slack_button_click_is_answered(channels: Assistant, fakes: FakeApis) -> None:
    channel = f"D{uuid.uuid4().hex[:8]}"
    answer = post_slack_click(channels, slack_click("U5", channel, "/on_hold"))
    assert answer.status_code == 200
    replies = fakes.wait_for("slack", "chat.postMessage", to_channel(channel), count=2)
    assert "check back" in "\n".join(r.get("text", "") for r in replies).lower()


# --- Telegram --------------------------------------------------------------------------


# Telegram numbers its updates; the channel takes each number once.
UPDATE_IDS = itertools.count(int(time.time()))


def telegram_update(
    chat_id: int,
    text: str | None = None,
    callback: str | None = None,
    user_id: int | None = None,
    chat_type: str = "private",
) -> dict[str, Any]:
    """A message (or a button click) from `user_id` in chat `chat_id`; without
    `user_id` a private chat, where the chat id is the user's id."""
    user = {"id": user_id or chat_id, "is_bot": False, "first_name": "Ana"}
    message = {
        "message_id": 1,
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": chat_type},
        "from": user,
    }
    if callback is not None:
        # the message a button hangs on is the bot's own
        bot_message = {**message, "from": {"id": 42, "is_bot": True, "first_name": "Coach"}}
        return {
            "update_id": next(UPDATE_IDS),
            "callback_query": {
                "id": "cb1",
                "from": user,
                "message": bot_message,
                "data": callback,
            },
        }
    return {"update_id": next(UPDATE_IDS), "message": {**message, "text": text}}


def post_telegram(
    assistant: Assistant, update: dict[str, Any], secret: str | None = TELEGRAM_SECRET
) -> requests.Response:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    return requests.post(
        f"{assistant.url}/webhooks/telegram/webhook", json=update, headers=headers, timeout=60
    )


def to_chat(chat_id: int) -> Any:
    return lambda body: body.get("chat_id") == str(chat_id)


def new_chat() -> int:
    return int(uuid.uuid4().int % 10**9)


def test_the_webhook_was_registered_with_the_secret(channels: Assistant, fakes: FakeApis) -> None:
    [registered] = fakes.recorded("telegram", "setWebhook")
    assert registered["secret_token"] == TELEGRAM_SECRET
    assert registered["url"].endswith("/webhooks/telegram/webhook")


def test_a_telegram_message_and_a_button_are_answered(channels: Assistant, fakes: FakeApis) -> None:
    chat = new_chat()
    assert (
        post_telegram(
            channels, telegram_update(chat, "no one called me back after my interview")
        ).status_code
        == 200
    )
    replies = fakes.wait_for("telegram", "sendMessage", to_chat(chat), count=2)
    keyboards = [json.loads(r["reply_markup"]) for r in replies if r.get("reply_markup")]
    assert keyboards, "buttons come as an inline keyboard"
    for keyboard in keyboards:
        for row in keyboard["inline_keyboard"]:
            for button in row:
                assert len(button["callback_data"].encode()) <= 64

    before = len(fakes.recorded("telegram", "sendMessage", to_chat(chat)))
    assert post_telegram(channels, telegram_update(chat, callback="/on_hold")).status_code == 200
    replies = fakes.wait_for("telegram", "sendMessage", to_chat(chat), count=before + 2)
    assert "check back" in "\n".join(r["text"] for r in replies[before:]).lower()


def test_a_replayed_telegram_update_is_answered_once(channels: Assistant, fakes: FakeApis) -> None:
    chat = new_chat()
    update = telegram_update(chat, "I was rejected after the final round")
    assert post_telegram(channels, update).status_code == 200
    fakes.wait_for("telegram", "sendMessage", to_chat(chat), count=1)
    time.sleep(2)  # the rest of the reply
    sent = len(fakes.recorded("telegram", "sendMessage", to_chat(chat)))
    events = len(channels.tracker(f"telegram:{chat}")["events"])
    for _ in range(2):  # Telegram's own retry, or a recorded request sent again
        assert post_telegram(channels, update).status_code == 200
    time.sleep(2)
    assert len(channels.tracker(f"telegram:{chat}")["events"]) == events
    assert len(fakes.recorded("telegram", "sendMessage", to_chat(chat))) == sent


@pytest.mark.parametrize("secret", [None, "wrong"], ids=["no secret", "wrong secret"])
def test_a_telegram_request_without_the_secret_is_refused(
    channels: Assistant, fakes: FakeApis, secret: str | None
) -> None:
    chat = new_chat()
    answer = post_telegram(channels, telegram_update(chat, "hello"), secret=secret)
    assert answer.status_code == 403
    time.sleep(2)
    assert fakes.recorded("telegram", "sendMessage", to_chat(chat)) == []
    # Rasa's route to register the webhook again (without the secret) is gone
    refused = requests.post(f"{channels.url}/webhooks/telegram/set_webhook", timeout=10)
    assert refused.status_code == 404


def test_a_reminder_reaches_the_telegram_chat_it_was_set_from(
    channels: Assistant, fakes: FakeApis
) -> None:
    chat = new_chat()
    post_telegram(
        channels, telegram_update(chat, "I interviewed at Quantix Labs yesterday, no news")
    )
    post_telegram(channels, telegram_update(chat, "remind me to follow up next week"))
    engine = sa.create_engine(channels.database_url)
    with engine.begin() as connection:
        [(reminder_id, channel)] = connection.execute(
            sa.text("SELECT id, channel FROM reminders WHERE sender_id = :s"),
            {"s": f"telegram:{chat}"},
        ).all()
        assert channel == "telegram"
        due = (datetime.now(timezone.utc) - timedelta(seconds=1)).replace(tzinfo=None)
        connection.execute(
            sa.text("UPDATE reminders SET due_at = :d WHERE id = :i"), {"d": due, "i": reminder_id}
        )
    [reminder] = fakes.wait_for(
        "telegram", "sendMessage", lambda b: to_chat(chat)(b) and "Reminder" in b.get("text", "")
    )
    assert "Quantix Labs" in reminder["text"]


def test_a_reminder_reaches_the_slack_user_it_was_set_by(
    channels: Assistant, fakes: FakeApis
) -> None:
    user, channel = f"U{uuid.uuid4().hex[:8]}", f"D{uuid.uuid4().hex[:8]}"
    post_slack(
        channels, slack_event(user, channel, "I interviewed at Quantix Labs yesterday, no news")
    )
    fakes.wait_for("slack", "chat.postMessage", to_channel(channel), count=2)
    post_slack(channels, slack_event(user, channel, "remind me to follow up next week"))
    fakes.wait_for(
        "slack",
        "chat.postMessage",
        lambda b: to_channel(channel)(b) and "remind you" in b.get("text", ""),
    )
    engine = sa.create_engine(channels.database_url)
    with engine.begin() as connection:
        [(reminder_id, stored_channel)] = connection.execute(
            sa.text("SELECT id, channel FROM reminders WHERE sender_id = :s"),
            {"s": slack_conversation(user)},
        ).all()
        assert stored_channel == "slack"
        due = (datetime.now(timezone.utc) - timedelta(seconds=1)).replace(tzinfo=None)
        connection.execute(
            sa.text("UPDATE reminders SET due_at = :d WHERE id = :i"), {"d": due, "i": reminder_id}
        )
    # posted to the user's id (not their conversation id): Slack delivers it as a direct
    # message from the app
    [reminder] = fakes.wait_for(
        "slack",
        "chat.postMessage",
        lambda b: b.get("channel") == user and "Reminder" in b.get("text", ""),
    )
    assert "Quantix Labs" in reminder["text"]
    assert fakes.recorded("slack", "chat.postMessage", lambda b: ":" in b.get("channel", "")) == []
