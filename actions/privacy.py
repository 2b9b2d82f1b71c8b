"""'What do you know about me?' and 'Delete my data'.

Deleting removes the sender's rows from the project's own tables here; the stored
conversation events go in the same turn: the tracker store
(callback_coach.tracker_store) drops every event of a conversation in which
action_delete_my_data ran, instead of saving it.
"""

from __future__ import annotations

from datetime import date

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.memory import application_fields
from actions.place import PersonalAction
from actions.records import applications, privacy, reminders
from actions.reminding import reminder_fields
from actions.runtime import knowledge_cache, records, user_channel, user_timezone
from actions.situation_details import message_time
from actions.timeline import SaidDate, say_when

DELETE_ACTION = "action_delete_my_data"
# Slots that hold something the user told us (the rest is the coach's own state).
PERSONAL_SLOTS = (
    "company",
    "person",
    "role",
    "interview_date",
    "days_since_interview",
    "promised_date",
    "follow_ups_done",
    "last_follow_up",
    "situation",
    "next_step",
    "on_hold_since",
)
# Slots holding a date as the user said it (timeline.SaidDate), shown as said.
DATE_SLOTS = frozenset({"interview_date", "promised_date", "last_follow_up", "on_hold_since"})


class ActionShowMyData(PersonalAction):
    def name(self) -> str:
        return "action_show_my_data"

    async def run_in_private(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        knowledge = knowledge_cache().get()
        wording = knowledge.privacy
        now = message_time(tracker, user_timezone(tracker))
        with records() as session:
            stored = applications.all_of(session, tracker.sender_id)
            pending = reminders.pending(session, tracker.sender_id)
        lines = [wording.heading]
        for application in stored:
            fields = application_fields(knowledge, application, now.date())
            lines.append(
                str(wording.application_line).format(
                    **fields,
                    contacts=", ".join(application.contacts) or wording.none_word,
                    follow_ups=application.follow_ups_done,
                )
            )
        for reminder in pending:
            lines.append(
                str(wording.reminder_line).format(**reminder_fields(knowledge, reminder, now))
            )
        details = [
            f"{name.replace('_', ' ')}: {_shown(name, value, now.date())}"
            for name in PERSONAL_SLOTS
            if (value := tracker.get_slot(name)) not in (None, "", 0, 0.0)
        ]
        if details:
            lines.append(str(wording.slots_line).format(details="; ".join(details)))
        lines.append(str(wording.conversation_line).format(events=len(tracker.events)))
        if not stored and not pending and not details:
            lines = [wording.nothing, lines[-1]]
        lines.append(wording.delete_hint)
        dispatcher.utter_message(text="\n".join(lines))
        return []


class ActionDeleteMyData(PersonalAction):
    def name(self) -> str:
        return DELETE_ACTION

    async def run_in_private(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        knowledge = knowledge_cache().get()
        with records() as session:
            removed = privacy.delete_everything(session, tracker.sender_id)
        done = str(knowledge.privacy.deleted).format(
            applications=removed["applications"], reminders=removed["reminders"]
        )
        kept_elsewhere = knowledge.privacy.kept_by_platform.get(user_channel(tracker))
        dispatcher.utter_message(text=f"{done} {kept_elsewhere}" if kept_elsewhere else done)
        return []


class ActionAskDeleteConfirm(PersonalAction):
    """Asks before deleting, in a private place only: a "yes" there then deletes."""

    def name(self) -> str:
        return "action_ask_delete_confirm"

    async def run_in_private(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_ask_delete_confirm")
        return []


def _shown(slot: str, value: object, today: date) -> str:
    """A slot's value as the person would say it: a date as precisely as they gave it
    ("last week", "Thursday 26 November"), not as it is stored."""
    said = SaidDate.from_slot(value) if slot in DATE_SLOTS else None
    if said is None:
        return str(value)
    return say_when(said, today).removeprefix("on ")
