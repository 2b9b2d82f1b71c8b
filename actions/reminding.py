"""Reminders: set ("remind me to follow up on Monday"), list, cancel, and deliver when due.

Delivery: the scheduler (callback_coach.reminder_scheduler) asks the Rasa server's
reminders channel to trigger `reminder_due` with the reminder's id; ActionReminderDue
marks it delivered in the same step as it speaks, so a reminder is never said twice.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.drafting import choose_kind, draft_button
from actions.knowledge import Knowledge
from actions.place import PersonalAction
from actions.records import applications, reminders
from actions.records.reminders import Reminder
from actions.runtime import (
    entity_value,
    knowledge_cache,
    records,
    settings,
    user_channel,
    user_timezone,
)
from actions.situation_details import message_time
from actions.timeline import format_day, parse_promised_date

# What a reminder set during a step is for: when the waiting ends, it is time to follow up.
STEP_WHEN_DUE = {"wait": "follow_up", "wait_for_reply": "move_on"}
# A reminder for today whose hour has passed goes out this soon instead.
SOON = timedelta(minutes=1)
MAX_BUTTONS = 5


def _iso_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _requested_day(tracker: Tracker, today: date) -> date | None:
    """The day from a button (reminder_date) or the first date in the message."""
    from_button = _iso_date(entity_value(tracker, "reminder_date"))
    if from_button is not None:
        return from_button
    for entity in (tracker.latest_message or {}).get("entities") or []:
        if entity.get("entity") == "DATE":
            day = parse_promised_date(str(entity.get("value", "")), today, settings().calendar)
            if day is not None:
                return day
    return None


def reminder_fields(knowledge: Knowledge, reminder: Reminder, now: datetime) -> dict[str, str]:
    wording = knowledge.reminders
    local_due = reminder.due_at.astimezone(now.tzinfo)
    step = knowledge.memory.steps.get(reminder.step or "") or wording.default_step
    about = str(wording.about).format(company=reminder.company) if reminder.company else ""
    return {"date": format_day(local_due.date(), now.date()), "step": str(step), "about": about}


def _line(template: str, fields: dict[str, str]) -> str:
    return template.format(**fields)


class ActionSetReminder(PersonalAction):
    def name(self) -> str:
        return "action_set_reminder"

    async def run_in_private(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        knowledge = knowledge_cache().get()
        wording = knowledge.reminders
        zone = user_timezone(tracker)
        now = message_time(tracker, zone)
        intent = (tracker.latest_message or {}).get("intent", {}).get("name")
        day = _requested_day(tracker, now.date())
        if day is None and intent == "affirm":
            # "yes" to "shall I remind you on…?"; without an offer it is a plain yes.
            day = _iso_date(tracker.get_slot("offered_reminder"))
            if day is None:
                dispatcher.utter_message(response="utter_affirm_ack")
                return []
        if day is None:
            dispatcher.utter_message(text=wording.ask_when)
            return []
        if day < now.date():
            dispatcher.utter_message(text=wording.in_the_past)
            return []
        due = datetime.combine(day, time(wording.hour), tzinfo=zone)
        due = max(due, now + SOON)
        company = tracker.get_slot("company")
        current_step = tracker.get_slot("next_step")
        with records() as session:
            if reminders.count_pending(session, tracker.sender_id) >= (
                settings().max_pending_reminders
            ):
                dispatcher.utter_message(text=wording.too_many)
                return []
            application = (
                applications.find(session, tracker.sender_id, company, tracker.get_slot("role"))
                if company
                else None
            )
            reminder = reminders.add(
                session,
                tracker.sender_id,
                user_channel(tracker),
                due,
                now,
                step=STEP_WHEN_DUE.get(current_step, current_step),
                company=company,
                application_id=application.id if application else None,
            )
        dispatcher.utter_message(
            text=_line(wording.confirmed, reminder_fields(knowledge, reminder, now))
        )
        return [SlotSet("offered_reminder", None)]


class ActionListReminders(PersonalAction):
    def name(self) -> str:
        return "action_list_reminders"

    async def run_in_private(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        knowledge = knowledge_cache().get()
        now = message_time(tracker, user_timezone(tracker))
        with records() as session:
            pending = reminders.pending(session, tracker.sender_id)
        _show_list(dispatcher, knowledge, pending, now, knowledge.reminders.list_heading)
        return []


def _show_list(
    dispatcher: CollectingDispatcher,
    knowledge: Knowledge,
    pending: list[Reminder],
    now: datetime,
    heading: str,
) -> None:
    wording = knowledge.reminders
    if not pending:
        dispatcher.utter_message(text=wording.none)
        return
    fields = [reminder_fields(knowledge, reminder, now) for reminder in pending]
    lines = [_line(wording.list_line, f) for f in fields]
    buttons = [
        {
            "title": _line(wording.cancel_button, f),
            "payload": f'/cancel_reminder{{"reminder_id":"{reminder.id}"}}',
        }
        for reminder, f in zip(pending, fields, strict=True)
    ]
    dispatcher.utter_message(text="\n".join([heading, *lines]), buttons=buttons[:MAX_BUTTONS])


class ActionCancelReminder(PersonalAction):
    def name(self) -> str:
        return "action_cancel_reminder"

    async def run_in_private(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        knowledge = knowledge_cache().get()
        wording = knowledge.reminders
        now = message_time(tracker, user_timezone(tracker))
        text = str((tracker.latest_message or {}).get("text") or "").casefold()
        with records() as session:
            pending = reminders.pending(session, tracker.sender_id)
            chosen = _which(tracker, pending, text, now)
            if chosen is None:
                heading = wording.which_one if pending else wording.none
                _show_list(dispatcher, knowledge, pending, now, heading)
                return []
            reminders.cancel(session, tracker.sender_id, chosen.id)
        fields = reminder_fields(knowledge, chosen, now)
        dispatcher.utter_message(text=_line(wording.cancelled, fields))
        return []


def _which(tracker: Tracker, pending: list[Reminder], text: str, now: datetime) -> Reminder | None:
    """The reminder meant: by id (button), the only one, or the one whose company or
    day the message names. None when it is not clear."""
    wanted_id = entity_value(tracker, "reminder_id")
    if wanted_id is not None:
        return next((r for r in pending if str(r.id) == str(wanted_id)), None)
    if len(pending) == 1:
        return pending[0]
    by_company = [r for r in pending if r.company and r.company.casefold() in text]
    if len(by_company) == 1:
        return by_company[0]
    day = _requested_day(tracker, now.date())
    by_day = [r for r in pending if day and r.due_at.astimezone(now.tzinfo).date() == day]
    return by_day[0] if len(by_day) == 1 else None


class ActionReminderDue(Action):
    """Speaks a due reminder once; asked by the user ("is it time?"), delivers what is due."""

    def name(self) -> str:
        return "action_reminder_due"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        knowledge = knowledge_cache().get()
        wording = knowledge.reminders
        now = message_time(tracker, user_timezone(tracker))
        wanted_id = entity_value(tracker, "reminder_id")
        with records() as session:
            pending = reminders.pending(session, tracker.sender_id)
            if wanted_id is not None:
                due = [r for r in pending if str(r.id) == str(wanted_id)]
            else:
                due = [r for r in pending if r.due_at <= now]
            delivered = [
                r for r in due if reminders.mark_delivered(session, tracker.sender_id, r.id, now)
            ]
        if wanted_id is not None and not delivered:
            return []  # already delivered or cancelled: stay silent, never say it twice
        for reminder in delivered:
            kind = choose_kind("", reminder.step, knowledge.drafts)
            dispatcher.utter_message(
                text=_line(wording.due, reminder_fields(knowledge, reminder, now)),
                buttons=[draft_button(knowledge.drafts, kind)],
            )
        if not delivered:
            later = [r for r in pending if r.due_at > now]
            parts = [wording.nothing_due]
            if later:
                parts.append(_line(wording.next_one, reminder_fields(knowledge, later[0], now)))
            dispatcher.utter_message(text=" ".join(parts))
        return []
