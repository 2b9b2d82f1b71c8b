"""Personal actions only in private places, and the caps per person, on real rasa-sdk
Trackers and a real database (actions/place.py, docs/security.md)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from rasa_sdk import Action

from actions.coaching import ActionCoach
from actions.memory import ActionListApplications
from actions.place import PRIVATE_ELSEWHERE
from actions.privacy import ActionAskDeleteConfirm, ActionDeleteMyData, ActionShowMyData
from actions.records import applications, reminders
from actions.records.applications import Report
from actions.reminding import ActionCancelReminder, ActionListReminders, ActionSetReminder
from actions.runtime import knowledge_cache, records, settings
from callback_coach.identity import PLACE_KEY, PRIVATE, SHARED
from tests.test_record_actions import NOW, run, tracker

IN_A_GROUP = {PLACE_KEY: SHARED}


@pytest.fixture
def me() -> str:
    return f"slack:T0TEST:U{uuid.uuid4().hex[:10].upper()}"


def stored(sender: str) -> tuple[int, int]:
    with records() as session:
        return applications.count(session, sender), reminders.count_pending(session, sender)


async def with_a_record_and_a_reminder(sender: str) -> None:
    with records() as session:
        applications.record(
            session, sender, Report(company="Brightwater", situation="no_callback"), NOW
        )
        reminders.add(session, sender, "slack", NOW + timedelta(days=3), NOW, step="follow_up")


@pytest.mark.parametrize(
    ("action", "text", "intent"),
    [
        (ActionShowMyData(), "what do you know about me", "show_my_data"),
        (ActionAskDeleteConfirm(), "delete my data", "delete_my_data"),
        (ActionDeleteMyData(), "yes", "affirm"),
        (ActionListApplications(), "what's pending", "ask_pending"),
        (ActionSetReminder(), "remind me next monday", "set_reminder"),
        (ActionListReminders(), "my reminders", "list_reminders"),
        (ActionCancelReminder(), "cancel my reminder", "cancel_reminder"),
    ],
)
async def test_personal_actions_in_a_shared_place_touch_nothing(
    me: str, action: Action, text: str, intent: str
) -> None:
    await with_a_record_and_a_reminder(me)
    events, messages = await run(action, tracker(me, text, intent, metadata=IN_A_GROUP))
    assert events == []
    assert [m.get("response") for m in messages] == [PRIVATE_ELSEWHERE]
    assert not any("Brightwater" in str(m.get("text")) for m in messages)
    assert stored(me) == (1, 1)


async def test_the_same_actions_work_in_a_private_place(me: str) -> None:
    await with_a_record_and_a_reminder(me)
    _, messages = await run(
        ActionShowMyData(),
        tracker(me, "what do you know about me", "show_my_data", metadata={PLACE_KEY: PRIVATE}),
    )
    assert "Brightwater" in messages[0]["text"]
    _, messages = await run(
        ActionAskDeleteConfirm(), tracker(me, "delete my data", "delete_my_data")
    )
    assert messages[0]["response"] == "utter_ask_delete_confirm"
    _, messages = await run(ActionDeleteMyData(), tracker(me, "yes", "affirm", channel="slack"))
    assert stored(me) == (0, 0)
    # what Slack keeps of the conversation is said plainly
    assert knowledge_cache().get().privacy.kept_by_platform["slack"] in messages[0]["text"]


async def test_coaching_in_a_shared_place_neither_reads_nor_writes_records(me: str) -> None:
    await with_a_record_and_a_reminder(me)
    before = stored(me)
    text = "Brightwater and Quillon both never called back after my interviews"
    _, messages = await run(
        ActionCoach(),
        tracker(
            me,
            text,
            "no_callback",
            entities=[{"entity": "ORG", "value": "Quillon"}],
            metadata=IN_A_GROUP,
        ),
    )
    assert messages, "the situation is still answered"
    assert stored(me) == before  # Quillon is not recorded
    buttons: list[dict[str, Any]] = [b for m in messages for b in m.get("buttons") or []]
    assert not any("set_reminder" in b["payload"] for b in buttons)


async def test_at_the_applications_cap_a_new_one_is_not_recorded(
    me: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COACH_MAX_APPLICATIONS", "2")
    settings.cache_clear()
    try:
        with records() as session:
            for company in ("Aldermoor", "Brightwater"):
                applications.record(
                    session, me, Report(company=company, situation="no_callback"), NOW
                )
        _, messages = await run(
            ActionCoach(),
            tracker(
                me,
                "Corvane never called back",
                "no_callback",
                entities=[{"entity": "ORG", "value": "Corvane"}],
            ),
        )
        assert stored(me)[0] == 2
        assert knowledge_cache().get().memory.full in " ".join(str(m.get("text")) for m in messages)
        # an application already on record is still updated
        await run(
            ActionCoach(),
            tracker(
                me,
                "Brightwater rejected me",
                "rejected",
                entities=[{"entity": "ORG", "value": "Brightwater"}],
            ),
        )
        with records() as session:
            assert applications.find(session, me, "Brightwater", None).situation == "rejected"  # type: ignore[union-attr]
    finally:
        settings.cache_clear()


async def test_at_the_reminders_cap_no_more_are_set(
    me: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COACH_MAX_REMINDERS", "1")
    settings.cache_clear()
    try:
        await with_a_record_and_a_reminder(me)
        text = "remind me next monday"
        _, messages = await run(
            ActionSetReminder(),
            tracker(
                me,
                text,
                "set_reminder",
                entities=[{"entity": "reminder_date", "value": "2026-12-01"}],
            ),
        )
        assert messages[0]["text"] == knowledge_cache().get().reminders.too_many
        assert stored(me)[1] == 1
    finally:
        settings.cache_clear()


def test_the_caps_must_be_whole_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    from actions.settings import load_settings

    monkeypatch.setenv("COACH_MAX_REMINDERS", "lots")
    with pytest.raises(ValueError, match="COACH_MAX_REMINDERS"):
        load_settings()


async def test_an_entity_too_long_to_be_a_name_is_not_recorded(me: str) -> None:
    """A company, person or role is taken from a message only up to MAX_ENTITY_CHARS:
    a 1,000-character 'company' is someone filling the records, not a name."""
    from actions.situation_details import MAX_ENTITY_CHARS

    flood = "Z" * 1000
    await run(
        ActionCoach(),
        tracker(
            me,
            f"{flood} never called back",
            "no_callback",
            entities=[
                {"entity": "ORG", "value": flood},
                {"entity": "PERSON", "value": flood},
            ],
        ),
    )
    assert stored(me)[0] == 0
    name = "Y" * MAX_ENTITY_CHARS
    await run(
        ActionCoach(),
        tracker(
            me,
            f"{name} never called back",
            "no_callback",
            entities=[{"entity": "ORG", "value": name}],
        ),
    )
    assert stored(me)[0] == 1
