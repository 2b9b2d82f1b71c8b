"""Each person's conversation is theirs alone, in Slack and Telegram: ids name the person
(never the chat or channel), replies in shared places reach only that person (Slack) or
the place they wrote in (Telegram), and the metadata marks the place. Against the real
servers with the loopback fakes of both APIs (tests/test_channels.py)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa
import yaml
from rasa.shared.constants import ASSISTANT_ID_KEY
from rasa.shared.nlu.constants import METADATA_MODEL_ID

from callback_coach.channels.slack import CoachSlackInput
from callback_coach.channels.telegram import CoachTelegramInput
from callback_coach.identity import PLACE_KEY, PRIVATE, SHARED
from tests.conftest import Assistant
from tests.fake_apis import BOT_NAME, FakeApis
from tests.test_channels import (
    SLACK_SECRET,
    TELEGRAM_SECRET,
    new_chat,
    post_slack,
    post_slack_click,
    post_telegram,
    slack_click,
    slack_conversation,
    slack_event,
    start_with_channels,
    telegram_update,
    to_channel,
    to_chat,
)

PROJECT = Path(__file__).resolve().parents[1]
RESPONSES = yaml.safe_load((PROJECT / "domain.yml").read_text(encoding="utf-8"))["responses"]
PRIVATE_ELSEWHERE = {
    variant.get("channel"): variant["text"] for variant in RESPONSES["utter_private_elsewhere"]
}
# What Rasa itself adds to every event's metadata.
RASA_METADATA = {METADATA_MODEL_ID, ASSISTANT_ID_KEY}


@pytest.fixture(scope="module")
def channels(
    model_path: Path, fakes: FakeApis, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Assistant]:
    running = start_with_channels(model_path, fakes, tmp_path_factory.mktemp("privacy"))
    yield running
    running.stop()


def user_turns(assistant: Assistant, conversation: str) -> list[dict[str, Any]]:
    return [e for e in assistant.tracker(conversation)["events"] if e["event"] == "user"]


def wait_for_turns(
    assistant: Assistant, conversation: str, count: int, timeout: float = 30
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        turns = user_turns(assistant, conversation)
        if len(turns) >= count or time.monotonic() > deadline:
            return turns
        time.sleep(0.5)


def new_slack_user() -> str:
    return f"U{uuid.uuid4().hex[:8].upper()}"


def new_slack_channel(kind: str = "C") -> str:
    return f"{kind}{uuid.uuid4().hex[:8].upper()}"


def to_user(user: str) -> Any:
    return lambda body: body.get("user") == user


# --- Slack -------------------------------------------------------------------------------


def test_a_slack_dm_is_the_persons_conversation_in_their_team(
    channels: Assistant, fakes: FakeApis
) -> None:
    user, dm = new_slack_user(), new_slack_channel("D")
    assert post_slack(channels, slack_event(user, dm, "hello there")).status_code == 200
    fakes.wait_for("slack", "chat.postMessage", to_channel(dm))
    [turn] = wait_for_turns(channels, slack_conversation(user), 1)
    assert turn["text"] == "hello there"
    # only what replies need, and the place
    assert set(turn["metadata"]) - RASA_METADATA == {"out_channel", "thread_id", "users", PLACE_KEY}
    assert turn["metadata"][PLACE_KEY] == PRIVATE
    assert turn["metadata"]["out_channel"] == dm
    assert fakes.recorded("slack", "chat.postEphemeral", to_channel(dm)) == []


def test_two_people_in_one_slack_channel_have_their_own_conversations(
    channels: Assistant, fakes: FakeApis
) -> None:
    channel = new_slack_channel()
    ana, ben = new_slack_user(), new_slack_user()
    for user, text in ((ana, "hello there"), (ben, "good morning")):
        answer = post_slack(channels, slack_event(user, channel, text, mention=True))
        assert answer.status_code == 200
    for user, text in ((ana, "hello there"), (ben, "good morning")):
        fakes.wait_for("slack", "chat.postEphemeral", to_user(user))
        [turn] = wait_for_turns(channels, slack_conversation(user), 1)
        assert turn["text"] == text  # the mention of the bot is cut out, as in Rasa
        assert turn["metadata"][PLACE_KEY] == SHARED


def test_a_reply_in_a_slack_channel_is_seen_only_by_the_person(
    channels: Assistant, fakes: FakeApis
) -> None:
    user, channel = new_slack_user(), new_slack_channel()
    thread = "1700000000.000200"
    event = slack_event(user, channel, "I was rejected by Acme Corp today", thread, mention=True)
    assert post_slack(channels, event).status_code == 200
    replies = fakes.wait_for("slack", "chat.postEphemeral", to_channel(channel), count=2)
    time.sleep(3)  # any late reply would have gone out by now
    replies = fakes.recorded("slack", "chat.postEphemeral", to_channel(channel))
    assert {r["user"] for r in replies} == {user}
    assert {r.get("thread_ts") for r in replies} == {thread}
    assert fakes.recorded("slack", "chat.postMessage", to_channel(channel)) == []
    assert fakes.recorded("slack", "chat.postMessage", lambda b: b.get("channel") == user) == []


def test_a_button_clicked_in_a_slack_channel_is_answered_to_the_clicker_alone(
    channels: Assistant, fakes: FakeApis
) -> None:
    user, channel = new_slack_user(), new_slack_channel()
    assert post_slack_click(channels, slack_click(user, channel, "/on_hold")).status_code == 200
    replies = fakes.wait_for("slack", "chat.postEphemeral", to_channel(channel), count=2)
    assert {r["user"] for r in replies} == {user}
    assert fakes.recorded("slack", "chat.postMessage", to_channel(channel)) == []
    [turn] = wait_for_turns(channels, slack_conversation(user), 1)
    assert turn["metadata"][PLACE_KEY] == SHARED


def test_a_personal_request_in_a_slack_channel_is_sent_to_a_dm(
    channels: Assistant, fakes: FakeApis
) -> None:
    user, channel = new_slack_user(), new_slack_channel()
    event = slack_event(user, channel, "what do you know about me", mention=True)
    assert post_slack(channels, event).status_code == 200
    fakes.wait_for(
        "slack",
        "chat.postEphemeral",
        lambda b: to_channel(channel)(b) and b.get("text") == PRIVATE_ELSEWHERE["slack"],
    )


@pytest.mark.parametrize(
    "payload",
    [
        slack_event("UNOTEAM1", "DNOTEAM1", "hello", team=None),
        slack_event("U1", "DNOTEAM1", "hello", team=""),
        slack_event("U1/../x", "DNOTEAM1", "hello"),
        slack_event("", "DNOTEAM1", "hello"),
        slack_event("U1", "DNOTEAM1", "hello", team="T:1"),
    ],
    ids=["no team", "empty team", "user not an id", "no user", "team not an id"],
)
def test_a_slack_message_without_a_team_or_a_valid_user_gets_400(
    channels: Assistant, fakes: FakeApis, payload: dict[str, Any]
) -> None:
    answer = post_slack(channels, payload)
    assert answer.status_code == 400
    time.sleep(1)
    assert fakes.recorded("slack", "chat.postMessage", to_channel("DNOTEAM1")) == []


def test_a_slack_click_without_a_team_gets_400(channels: Assistant, fakes: FakeApis) -> None:
    user, channel = new_slack_user(), new_slack_channel("D")
    answer = post_slack_click(channels, slack_click(user, channel, "/on_hold", team=None))
    assert answer.status_code == 400
    time.sleep(1)
    assert fakes.recorded("slack", "chat.postMessage", to_channel(channel)) == []


# --- Telegram ----------------------------------------------------------------------------


def new_group() -> int:
    return -(10**12) - new_chat()  # what supergroup ids look like


def test_a_telegram_group_message_is_the_senders_and_answered_in_the_group(
    channels: Assistant, fakes: FakeApis
) -> None:
    group, ana = new_group(), new_chat()
    update = telegram_update(group, "hello there", user_id=ana, chat_type="supergroup")
    assert post_telegram(channels, update).status_code == 200
    fakes.wait_for("telegram", "sendMessage", to_chat(group))
    assert fakes.recorded("telegram", "sendMessage", to_chat(ana)) == []
    [turn] = user_turns(channels, f"telegram:{ana}")
    assert turn["text"] == "hello there"
    assert set(turn["metadata"]) - RASA_METADATA == {PLACE_KEY}
    assert turn["metadata"][PLACE_KEY] == SHARED
    assert user_turns(channels, f"telegram:{group}") == []


def test_two_members_of_a_telegram_group_have_their_own_conversations(
    channels: Assistant, fakes: FakeApis
) -> None:
    group, ana, ben = new_group(), new_chat(), new_chat()
    post_telegram(channels, telegram_update(group, "hello there", user_id=ana, chat_type="group"))
    post_telegram(channels, telegram_update(group, "good morning", user_id=ben, chat_type="group"))
    # a click on a button in the group is the clicker's
    post_telegram(
        channels, telegram_update(group, callback="/on_hold", user_id=ben, chat_type="group")
    )
    assert [t["text"] for t in user_turns(channels, f"telegram:{ana}")] == ["hello there"]
    assert [t["text"] for t in user_turns(channels, f"telegram:{ben}")] == [
        "good morning",
        "/on_hold",
    ]
    replies = fakes.recorded("telegram", "sendMessage", to_chat(group))
    assert "check back" in "\n".join(r["text"] for r in replies).lower()


def test_a_personal_request_in_a_telegram_group_is_sent_to_a_private_chat(
    channels: Assistant, fakes: FakeApis
) -> None:
    group, ana = new_group(), new_chat()
    for text in ("I interviewed at Quantix Labs yesterday, no news", "remind me next week"):
        update = telegram_update(group, text, user_id=ana, chat_type="supergroup")
        assert post_telegram(channels, update).status_code == 200
    post_telegram(
        channels,
        telegram_update(group, "what do you know about me", user_id=ana, chat_type="supergroup"),
    )
    replies = fakes.recorded("telegram", "sendMessage", to_chat(group))
    assert PRIVATE_ELSEWHERE["telegram"] in [r["text"] for r in replies]
    with sa.create_engine(channels.database_url).begin() as connection:
        reminders = connection.execute(
            sa.text("SELECT id FROM reminders WHERE sender_id = :s"), {"s": f"telegram:{ana}"}
        ).all()
    assert reminders == []


def test_an_edited_telegram_message_is_not_a_new_message(
    channels: Assistant, fakes: FakeApis
) -> None:
    chat = new_chat()
    post_telegram(channels, telegram_update(chat, "hello there"))
    before = len(fakes.recorded("telegram", "sendMessage", to_chat(chat)))
    assert before > 0
    edited = telegram_update(chat, "hello again")
    edited["edited_message"] = {**edited.pop("message"), "edit_date": int(time.time())}
    assert post_telegram(channels, edited).status_code == 200
    time.sleep(2)
    assert len(fakes.recorded("telegram", "sendMessage", to_chat(chat))) == before
    assert [t["text"] for t in user_turns(channels, f"telegram:{chat}")] == ["hello there"]


def test_a_telegram_message_with_no_sender_is_acknowledged_and_dropped(
    channels: Assistant, fakes: FakeApis
) -> None:
    chat = new_group()
    update = telegram_update(chat, "hello there", chat_type="channel")
    del update["message"]["from"]
    assert post_telegram(channels, update).status_code == 200
    time.sleep(2)
    assert fakes.recorded("telegram", "sendMessage", to_chat(chat)) == []


# --- secrets -----------------------------------------------------------------------------


SLACK_CREDENTIALS = {"slack_token": "xoxb-test-token", "slack_signing_secret": SLACK_SECRET}
TELEGRAM_CREDENTIALS = {
    "access_token": "123456:telegram-test-token",
    "verify": BOT_NAME,
    "webhook_url": "https://coach.example.org/webhooks/telegram/webhook",
    "secret_token": TELEGRAM_SECRET,
}


@pytest.mark.parametrize("secret", [None, "", "CHANGE-ME", "fifteen-chars-x"])
def test_a_weak_slack_signing_secret_stops_the_channel(secret: str | None) -> None:
    with pytest.raises(ValueError, match="SLACK_SIGNING_SECRET"):
        CoachSlackInput.from_credentials({**SLACK_CREDENTIALS, "slack_signing_secret": secret})


@pytest.mark.parametrize(
    "secret", [None, "", "CHANGE-ME", "fifteen-chars-x", "sixteen chars ok?", "x" * 257]
)
def test_a_weak_or_malformed_telegram_secret_stops_the_channel(secret: str | None) -> None:
    with pytest.raises(ValueError, match="TELEGRAM_SECRET_TOKEN"):
        CoachTelegramInput.from_credentials({**TELEGRAM_CREDENTIALS, "secret_token": secret})


def test_strong_secrets_are_taken() -> None:
    slack = CoachSlackInput.from_credentials(SLACK_CREDENTIALS)
    assert isinstance(slack, CoachSlackInput)
    assert slack.slack_signing_secret == SLACK_SECRET
    assert slack.conversation_granularity == "sender"
    telegram = CoachTelegramInput.from_credentials(TELEGRAM_CREDENTIALS)
    assert isinstance(telegram, CoachTelegramInput)
    assert telegram.secret_token == TELEGRAM_SECRET


def test_slack_conversations_are_per_person_whatever_the_settings_say() -> None:
    slack = CoachSlackInput.from_credentials(
        {**SLACK_CREDENTIALS, "conversation_granularity": "channel"}
    )
    assert isinstance(slack, CoachSlackInput)
    assert slack.conversation_granularity == "sender"


# --- ids of one channel through another ---------------------------------------------------


def test_slack_and_telegram_ids_cannot_be_claimed_through_rest(
    channels: Assistant, fakes: FakeApis
) -> None:
    """A Slack member id is visible to the whole workspace and a Telegram id to a group:
    naming one on REST reaches a REST conversation of that name, never theirs."""
    user, dm, chat = new_slack_user(), new_slack_channel("D"), new_chat()
    company = "Quantix Labs"
    post_slack(channels, slack_event(user, dm, f"I interviewed at {company} yesterday, no news"))
    post_telegram(channels, telegram_update(chat, f"I interviewed at {company} yesterday"))
    victims = {slack_conversation(user): user, f"telegram:{chat}": str(chat)}
    for conversation in victims:
        wait_for_turns(channels, conversation, 1)
    before = {c: len(channels.tracker(c)["events"]) for c in victims}
    for conversation, bare in victims.items():
        for claimed in (bare, conversation):
            answer = requests.post(
                f"{channels.url}/webhooks/rest/webhook",
                json={"sender": claimed, "message": "what do you know about me?"},
                headers=channels.rest_headers,
                timeout=30,
            )
            if ":" in claimed:
                assert answer.status_code == 400  # a REST sender names no channel
            else:
                assert answer.status_code == 200
                assert company not in str(answer.json())
    assert {c: len(channels.tracker(c)["events"]) for c in victims} == before
    # and they still get their own answers
    post_slack(channels, slack_event(user, dm, "what do you know about me?"))
    sent = fakes.wait_for(
        "slack", "chat.postMessage", lambda b: b.get("channel") == dm and company in b["text"]
    )
    assert sent
