"""Conversations are stored with SQLAlchemy and survive a restart of both servers."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import Assistant

SLOTS = ("situation", "next_step", "company", "person", "role", "days_since_interview")


def check_survives_restart(assistant: Assistant) -> None:
    sender = f"restart-{uuid.uuid4().hex[:12]}"
    assistant.say(sender, "hi")
    assistant.say(sender, "Acme Corp hasn't called me back since my interview with John Parker")
    before = assistant.tracker(sender)
    assert before["slots"]["situation"] == "no_callback"
    assert before["slots"]["company"] == "Acme Corp"

    assistant.restart()

    after = assistant.tracker(sender)
    assert {k: after["slots"][k] for k in SLOTS} == {k: before["slots"][k] for k in SLOTS}
    assert len(after["events"]) == len(before["events"])
    # The conversation goes on where it stopped: a bare date completes the earlier situation.
    replies = assistant.say(sender, "about two weeks ago")
    slots = assistant.slots(sender)
    assert slots["situation"] == "no_callback"
    assert slots["company"] == "Acme Corp"
    assert slots["days_since_interview"] == 14.0
    assert slots["next_step"] == "follow_up"
    assert "Acme Corp" in replies[-1]["text"] or "John Parker" in replies[-1]["text"]


def test_conversation_survives_restart_on_sqlite(assistant: Assistant) -> None:
    assert assistant.database_url.startswith("sqlite:///")
    check_survives_restart(assistant)
    assert Path(assistant.database_url.removeprefix("sqlite:///")).stat().st_size > 0


@pytest.mark.postgres
def test_conversation_survives_restart_on_postgresql(postgres_assistant: Assistant) -> None:
    check_survives_restart(postgres_assistant)
    with sa.create_engine(postgres_assistant.database_url).connect() as connection:
        stored = connection.execute(
            sa.text("SELECT count(*) FROM events WHERE sender_id LIKE 'rest:restart-%'")
        ).scalar()
    assert stored and stored > 5
