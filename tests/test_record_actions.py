"""The memory, reminder and privacy actions on real rasa-sdk Trackers and a real database."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.coaching import ActionCoach
from actions.knowledge import Knowledge
from actions.memory import ActionListApplications
from actions.privacy import ActionDeleteMyData, ActionShowMyData
from actions.records import applications, reminders
from actions.reminding import (
    ActionCancelReminder,
    ActionListReminders,
    ActionReminderDue,
    ActionSetReminder,
)
from actions.runtime import knowledge_cache, records

# Wednesday 25 November 2026, noon UTC.
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def knowledge() -> Knowledge:
    return knowledge_cache().get()


@pytest.fixture
def me() -> str:
    return f"user-{uuid.uuid4()}"


def tracker(
    sender: str,
    text: str,
    intent: str,
    entities: list[dict[str, Any]] | None = None,
    slots: dict[str, Any] | None = None,
    when: datetime = NOW,
    metadata: dict[str, Any] | None = None,
    channel: str = "rest",
) -> Tracker:
    message = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.99},
        "entities": entities or [],
        "metadata": metadata or {},
    }
    event = {
        "event": "user",
        "timestamp": when.timestamp(),
        "text": text,
        "parse_data": message,
        "input_channel": channel,
    }
    return Tracker(sender, slots or {}, message, [event], False, None, {}, "action_listen")


def date_entity(text: str, value: str) -> dict[str, Any]:
    start = text.index(value)
    return {"entity": "DATE", "value": value, "start": start, "end": start + len(value)}


async def run(
    action: Action, current: Tracker
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, current, {})
    return events, dispatcher.messages


async def tell(sender: str, text: str, intent: str, **kwargs: Any) -> list[dict[str, Any]]:
    _, messages = await run(ActionCoach(), tracker(sender, text, intent, **kwargs))
    return messages


def pending_reminders(sender: str) -> list[reminders.Reminder]:
    with records() as session:
        return reminders.pending(session, sender)


async def test_whats_pending_lists_each_application_with_step_and_date(
    me: str, knowledge: Knowledge
) -> None:
    _, messages = await run(ActionListApplications(), tracker(me, "what's pending?", "ask_pending"))
    assert messages[0]["text"] == knowledge.memory.pending_empty

    text = "Acme hasn't called back since my interview 2 days ago"
    await tell(
        me,
        text,
        "no_callback",
        entities=[{"entity": "ORG", "value": "Acme"}, date_entity(text, "2 days ago")],
    )
    await tell(
        me,
        "Initech put the role on hold",
        "on_hold",
        entities=[{"entity": "ORG", "value": "Initech"}],
    )
    _, messages = await run(ActionListApplications(), tracker(me, "what's pending?", "ask_pending"))
    lines = messages[0]["text"].splitlines()
    assert lines[0] == knowledge.memory.pending_heading
    # Acme: five business days after Monday 23 November, Thanksgiving skipped
    assert (
        lines[1]
        == "• Acme: waiting to hear back. Next: wait, then follow up on Tuesday 1 December."
    )
    assert lines[2].startswith("• Initech: on hold. Next: check back on ")


async def test_a_rejection_updates_the_application_it_names(me: str) -> None:
    text = "interviewed at Acme for the analyst job 3 days ago, nothing yet"
    await tell(
        me,
        text,
        "no_callback",
        entities=[
            {"entity": "ORG", "value": "Acme"},
            {"entity": "role", "value": "analyst"},
            date_entity(text, "3 days ago"),
        ],
    )
    # later, in a conversation about another company, "Acme rejected me"
    await tell(
        me,
        "Acme rejected me",
        "rejected",
        entities=[{"entity": "ORG", "value": "Acme"}],
        slots={"company": "Initech", "role": "designer"},
    )
    with records() as session:
        stored = applications.all_of(session, me)
    assert [(a.company, a.role, a.situation, a.next_step) for a in stored] == [
        ("Acme", "analyst", "rejected", "ask_feedback")
    ]


async def test_turning_to_another_company_does_not_carry_the_last_ones_details(me: str) -> None:
    messages = await tell(
        me,
        "what about Initech, no news there",
        "no_callback",
        entities=[{"entity": "ORG", "value": "Initech"}],
        slots={
            "company": "Acme",
            "person": "Maria Lopez",
            "role": "analyst",
            "interview_date": "2026-11-02",
        },
    )
    assert "Maria Lopez" not in messages[-1]["text"]
    with records() as session:
        initech = applications.find(session, me, "Initech", None)
    assert initech is not None and initech.role is None and initech.contacts == ()


async def test_a_draft_request_gets_a_copy_ready_draft_with_known_names(
    me: str, knowledge: Knowledge
) -> None:
    messages = await tell(
        me,
        "what do i say to the recruiter?",
        "ask_contact_recruiter",
        slots={
            "situation": "no_callback",
            "company": "Acme",
            "person": "Maria Lopez",
            "role": "analyst",
            "interview_date": "2026-11-02",
        },
    )
    assert messages[0]["text"] == knowledge.drafts.intro
    draft = messages[1]["text"]
    assert draft.startswith("Subject: Following up on my interview for analyst")
    assert "Hi Maria Lopez," in draft and "Acme" in draft and "Monday 2 November" in draft
    assert "[your name]" in draft and "[recruiter's name]" not in draft
    assert len(messages) == 2  # nothing missing, so no note about blanks


async def test_a_draft_button_with_nothing_known_marks_the_blanks(me: str) -> None:
    messages = await tell(
        me,
        '/ask_contact_recruiter{"draft_kind":"feedback_request"}',
        "ask_contact_recruiter",
        entities=[{"entity": "draft_kind", "value": "feedback_request"}],
        slots={"situation": "rejected"},
    )
    assert messages[1]["text"].startswith("Subject: Feedback on my interview for [role]")
    assert "[recruiter's name]" in messages[1]["text"]
    assert "role, recruiter's name, company" in messages[2]["text"]


async def test_remind_me_on_monday_stores_a_reminder_at_nine_in_the_users_zone(
    me: str, knowledge: Knowledge
) -> None:
    text = "remind me to follow up on Monday"
    events, messages = await run(
        ActionSetReminder(),
        tracker(
            me,
            text,
            "set_reminder",
            [date_entity(text, "Monday")],
            slots={"company": "Acme", "next_step": "follow_up"},
            metadata={"timezone": "Europe/Berlin"},
            channel="telegram",
        ),
    )
    assert (
        messages[0]["text"] == "Done. I'll remind you on Monday 30 November to follow up with Acme."
    )
    [stored] = pending_reminders(me)
    assert stored.channel == "telegram"
    assert stored.due_at == datetime(2026, 11, 30, 8, 0, tzinfo=timezone.utc)  # 9:00 in Berlin
    assert {"event": "slot", "name": "offered_reminder", "value": None, "timestamp": None} in events


async def test_yes_takes_the_offered_reminder_and_plain_yes_stays_a_yes(me: str) -> None:
    _, messages = await run(
        ActionSetReminder(),
        tracker(me, "yes", "affirm", slots={"offered_reminder": "2026-12-01", "next_step": "wait"}),
    )
    # set while waiting, it is a reminder to follow up
    assert messages[0]["text"] == "Done. I'll remind you on Tuesday 1 December to follow up."
    assert len(pending_reminders(me)) == 1
    _, messages = await run(ActionSetReminder(), tracker(me, "yes", "affirm"))
    assert [m["response"] for m in messages] == ["utter_affirm_ack"]
    assert len(pending_reminders(me)) == 1


async def test_a_reminder_without_a_day_or_in_the_past_is_asked_again(
    me: str, knowledge: Knowledge
) -> None:
    _, messages = await run(ActionSetReminder(), tracker(me, "remind me", "set_reminder"))
    assert messages[0]["text"] == knowledge.reminders.ask_when
    _, messages = await run(
        ActionSetReminder(),
        tracker(
            me, "remind me", "set_reminder", [{"entity": "reminder_date", "value": "2026-11-01"}]
        ),
    )
    assert messages[0]["text"] == knowledge.reminders.in_the_past
    assert pending_reminders(me) == []


async def test_reminders_are_listed_and_cancelled_by_button_or_name(
    me: str, knowledge: Knowledge
) -> None:
    with records() as session:
        acme = reminders.add(session, me, "rest", NOW + timedelta(days=5), NOW, "follow_up", "Acme")
        initech = reminders.add(
            session, me, "rest", NOW + timedelta(days=9), NOW, "check_back", "Initech"
        )
    _, messages = await run(ActionListReminders(), tracker(me, "my reminders?", "list_reminders"))
    assert messages[0]["text"].splitlines()[1:] == [
        "• Monday 30 November: follow up with Acme",
        "• Friday 4 December: check back with Initech",
    ]
    assert [b["payload"] for b in messages[0]["buttons"]] == [
        f'/cancel_reminder{{"reminder_id":"{acme.id}"}}',
        f'/cancel_reminder{{"reminder_id":"{initech.id}"}}',
    ]
    # two reminders and no hint which: ask
    _, messages = await run(
        ActionCancelReminder(), tracker(me, "cancel my reminder", "cancel_reminder")
    )
    assert messages[0]["text"].startswith(knowledge.reminders.which_one)
    _, messages = await run(
        ActionCancelReminder(), tracker(me, "stop the initech one", "cancel_reminder")
    )
    assert messages[0]["text"] == "Cancelled: the reminder for Friday 4 December is gone."
    _, messages = await run(
        ActionCancelReminder(),
        tracker(
            me, "cancel", "cancel_reminder", [{"entity": "reminder_id", "value": str(acme.id)}]
        ),
    )
    assert "Monday 30 November" in messages[0]["text"]
    assert pending_reminders(me) == []


async def test_a_reminder_id_of_another_user_cancels_nothing(me: str) -> None:
    with records() as session:
        theirs = reminders.add(session, "someone-else", "rest", NOW + timedelta(days=1), NOW)
    await run(
        ActionCancelReminder(),
        tracker(
            me, "cancel", "cancel_reminder", [{"entity": "reminder_id", "value": str(theirs.id)}]
        ),
    )
    with records() as session:
        assert [r.id for r in reminders.pending(session, "someone-else")] == [theirs.id]


async def test_a_due_reminder_is_spoken_once(me: str) -> None:
    with records() as session:
        due = reminders.add(
            session,
            me,
            "rest",
            NOW - timedelta(minutes=1),
            NOW - timedelta(days=3),
            "follow_up",
            "Acme",
        )
    trigger = tracker(
        me,
        "",
        "reminder_due",
        [{"entity": "reminder_id", "value": str(due.id)}],
        channel="collector",
    )
    _, first = await run(ActionReminderDue(), trigger)
    _, second = await run(ActionReminderDue(), trigger)
    assert "today's the day to follow up with Acme" in first[0]["text"]
    assert first[0]["buttons"][0]["payload"] == '/ask_contact_recruiter{"draft_kind":"follow_up"}'
    assert second == []
    assert pending_reminders(me) == []


async def test_asking_whether_it_is_time_gives_the_next_reminder(
    me: str, knowledge: Knowledge
) -> None:
    with records() as session:
        reminders.add(session, me, "rest", NOW + timedelta(days=5), NOW, "follow_up", "Acme")
    _, messages = await run(ActionReminderDue(), tracker(me, "is it time yet?", "reminder_due"))
    assert messages[0]["text"].startswith(knowledge.reminders.nothing_due)
    assert "Monday 30 November: follow up with Acme" in messages[0]["text"]


async def test_show_my_data_lists_everything_then_delete_removes_it(
    me: str, knowledge: Knowledge
) -> None:
    text = "Acme hasn't called back since my interview with Maria Lopez 2 days ago"
    await tell(
        me,
        text,
        "no_callback",
        entities=[
            {"entity": "ORG", "value": "Acme"},
            {"entity": "PERSON", "value": "Maria Lopez"},
            date_entity(text, "2 days ago"),
        ],
    )
    await run(
        ActionSetReminder(),
        tracker(
            me,
            "yes",
            "affirm",
            slots={"offered_reminder": "2026-12-01", "company": "Acme", "next_step": "wait"},
        ),
    )
    _, messages = await run(
        ActionShowMyData(),
        tracker(
            me,
            "what do you know about me?",
            "show_my_data",
            slots={"company": "Acme", "person": "Maria Lopez"},
        ),
    )
    shown = messages[0]["text"]
    assert shown.startswith(knowledge.privacy.heading)
    assert "Acme" in shown and "Maria Lopez" in shown and "Tuesday 1 December" in shown
    assert knowledge.privacy.delete_hint in shown

    _, messages = await run(ActionDeleteMyData(), tracker(me, "yes", "affirm"))
    assert messages[0]["text"].startswith("Done. I deleted 1 application(s), 1 reminder(s)")
    with records() as session:
        assert applications.all_of(session, me) == []
        assert reminders.pending(session, me) == []
    _, messages = await run(
        ActionShowMyData(), tracker(me, "what do you know about me?", "show_my_data")
    )
    assert messages[0]["text"].startswith(knowledge.privacy.nothing)


async def test_show_my_data_gives_dates_as_precisely_as_they_were_said(
    me: str, knowledge: Knowledge
) -> None:
    _, messages = await run(
        ActionShowMyData(),
        tracker(
            me,
            "what do you know about me?",
            "show_my_data",
            slots={"interview_date": "2026-11-18|week", "promised_date": "2026-11-27"},
        ),
    )
    shown = messages[0]["text"]
    assert "interview date: last week" in shown
    assert "promised date: Friday 27 November" in shown
    assert "|" not in shown and "2026-11" not in shown
