"""Application memory, drafts, reminders and "forget me" through the real servers over HTTP.

Reminders: the real scheduler (in the action server, polling every second here) calls
the real Rasa server's reminders channel; we see them arrive in the conversation's events.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from callback_coach.identity import channel_of
from tests.conftest import Assistant, rest_conversation

# A name no other test uses, so finding it anywhere in the database means a leak.
COMPANY = "Quantix Labs"


def new_sender(prefix: str = "records") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def texts(replies: list[dict[str, Any]]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def reminder_rows(assistant: Assistant, sender: str) -> list[Any]:
    """The reminders of REST sender `sender` (or of a whole conversation id)."""
    conversation = sender if channel_of(sender) else rest_conversation(sender)
    with sa.create_engine(assistant.database_url).connect() as connection:
        return connection.execute(
            sa.text("SELECT id, status, due_at FROM reminders WHERE sender_id = :s ORDER BY id"),
            {"s": conversation},
        ).all()


def move_due(assistant: Assistant, reminder_id: int, due_at: datetime) -> None:
    """Time passes: the reminder falls due at `due_at` (stored as UTC, like the app does)."""
    value: Any = due_at
    if assistant.database_url.startswith("sqlite"):
        value = due_at.astimezone(timezone.utc).replace(tzinfo=None)
    with sa.create_engine(assistant.database_url).begin() as connection:
        connection.execute(
            sa.text("UPDATE reminders SET due_at = :due WHERE id = :id"),
            {"due": value, "id": reminder_id},
        )


def delivered_reminders(assistant: Assistant, sender: str) -> list[dict[str, Any]]:
    """The reminder turns in the conversation: the triggered intent and what the bot said."""
    events = assistant.tracker(sender)["events"]
    turns = []
    for index, event in enumerate(events):
        if event["event"] == "user" and event["parse_data"]["intent"]["name"] == "reminder_due":
            said = next((e.get("text") for e in events[index + 1 :] if e["event"] == "bot"), None)
            turns.append({"said": said})
    return turns


def wait_for_delivery(assistant: Assistant, sender: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if [row.status for row in reminder_rows(assistant, sender)] == ["delivered"]:
            return
        time.sleep(0.5)
    pytest.fail(f"the reminder was not delivered within {timeout:.0f} s")


def set_a_reminder(assistant: Assistant, sender: str) -> int:
    assistant.say(sender, f"I interviewed at {COMPANY} yesterday and heard nothing yet")
    replies = assistant.say(sender, "remind me to follow up on that next week")
    assert "I'll remind you on" in texts(replies), replies
    [row] = reminder_rows(assistant, sender)
    assert row.status == "pending"
    return int(row.id)


def test_pending_list_and_a_rejection_update_it(assistant: Assistant) -> None:
    sender = new_sender()
    assistant.say(sender, "I interviewed at Acme Corp two weeks ago and they never called back")
    assistant.say(sender, "Vandelay Industries put the hiring on hold last week")
    replies = assistant.say(sender, "what's pending?")
    listing = texts(replies)
    assert "Acme Corp: waiting to hear back" in listing
    assert "Vandelay Industries: on hold" in listing

    assistant.say(sender, "Acme Corp rejected me today")
    listing = texts(assistant.say(sender, "what's pending?"))
    assert "Acme Corp: turned down. Next: ask for feedback" in listing
    assert "Vandelay Industries: on hold" in listing
    # someone else sees none of it
    stranger = texts(assistant.say(new_sender(), "what's pending?"))
    assert "Acme Corp:" not in stranger and "Vandelay" not in stranger
    assert stranger.startswith("I'm not tracking any applications")


def test_a_draft_carries_the_names_from_the_conversation(assistant: Assistant) -> None:
    sender = new_sender()
    assistant.say(
        sender,
        "I had an interview at Acme Corp with Sarah Miller 10 days ago for the "
        "data analyst role and nothing since",
    )
    replies = assistant.say(sender, "can you write the follow-up email for me?")
    draft = next(r["text"] for r in replies if r.get("text", "").startswith("Subject:"))
    assert "Sarah Miller" in draft and "Acme Corp" in draft and "data analyst" in draft
    assert "[recruiter's name]" not in draft and "[company]" not in draft


def test_reminders_are_set_listed_and_cancelled_in_conversation(assistant: Assistant) -> None:
    sender = new_sender()
    set_a_reminder(assistant, sender)
    listing = assistant.say(sender, "what reminders do I have?")
    assert f"with {COMPANY}" in texts(listing)
    cancel = listing[0]["buttons"][0]["payload"]
    replies = assistant.say(sender, cancel)
    assert "Cancelled" in texts(replies)
    assert [row.status for row in reminder_rows(assistant, sender)] == ["cancelled"]


def test_a_reminder_survives_a_restart_and_fires_once(assistant: Assistant) -> None:
    sender = new_sender()
    reminder_id = set_a_reminder(assistant, sender)

    assistant.restart()
    assert [row.status for row in reminder_rows(assistant, sender)] == ["pending"]
    move_due(assistant, reminder_id, datetime.now(timezone.utc) + timedelta(seconds=2))
    wait_for_delivery(assistant, sender)
    time.sleep(3)  # several more polls: nothing is sent again
    turns = delivered_reminders(assistant, sender)
    assert len(turns) == 1
    assert f"follow up with {COMPANY}" in (turns[0]["said"] or "")


def test_a_reminder_that_fell_due_while_down_fires_once_on_start(assistant: Assistant) -> None:
    sender = new_sender()
    reminder_id = set_a_reminder(assistant, sender)

    assistant.stop()
    move_due(assistant, reminder_id, datetime.now(timezone.utc) - timedelta(hours=1))
    assistant.start()
    wait_for_delivery(assistant, sender)
    time.sleep(3)
    assert len(delivered_reminders(assistant, sender)) == 1


def check_forget_me(assistant: Assistant) -> None:
    sender = new_sender("forget")
    bystander = new_sender("forget")
    for who in (sender, bystander):
        set_a_reminder(assistant, who)
    shown = texts(assistant.say(sender, "what do you know about me?"))
    assert COMPANY in shown and "Reminder on" in shown

    replies = assistant.say(sender, "delete my data")
    assert "can't be undone" in texts(replies)
    replies = assistant.say(sender, "yes")
    assert "deleted 1 application(s), 1 reminder(s)" in texts(replies)

    # Straight from the database, before anything else touches the conversation.
    with sa.create_engine(assistant.database_url).connect() as connection:
        inspector = sa.inspect(connection)
        for table in inspector.get_table_names():
            columns = [c["name"] for c in inspector.get_columns(table)]
            rows = connection.execute(sa.text(f'SELECT * FROM "{table}"')).all()
            for row in rows:
                record = dict(zip(columns, row, strict=True))
                assert record.get("sender_id") != rest_conversation(sender), (
                    f"{table} still holds {record}"
                )
                assert sender not in " ".join(map(str, row)), f"{table} mentions the user"
            if "sender_id" in columns:
                owners = {dict(zip(columns, row, strict=True))["sender_id"] for row in rows}
                if table in ("events", "applications", "reminders"):
                    assert rest_conversation(bystander) in owners, (
                        f"{table} lost another user's data"
                    )

    # A "no" keeps everything.
    assistant.say(bystander, "delete my data")
    assert "deleted nothing" in texts(assistant.say(bystander, "no"))
    assert [row.status for row in reminder_rows(assistant, bystander)] == ["pending"]


def test_forget_me_on_sqlite(assistant: Assistant) -> None:
    check_forget_me(assistant)


@pytest.mark.postgres
def test_forget_me_on_postgresql(postgres_assistant: Assistant) -> None:
    check_forget_me(postgres_assistant)
