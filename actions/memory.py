"""'What's pending?': the candidate's applications with status, next step and date."""

from __future__ import annotations

from datetime import date

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.knowledge import Knowledge
from actions.place import PersonalAction
from actions.records import applications
from actions.records.applications import Application
from actions.runtime import knowledge_cache, records, user_timezone
from actions.situation_details import message_time
from actions.timeline import format_day


def application_line(knowledge: Knowledge, application: Application, today: date) -> str:
    memory = knowledge.memory
    return str(memory.pending_line).format(**application_fields(knowledge, application, today))


def application_fields(
    knowledge: Knowledge, application: Application, today: date
) -> dict[str, str]:
    """The pieces of a line about one application, worded from the knowledge file."""
    memory = knowledge.memory
    step = application.next_step
    when = application.next_step_date
    return {
        "company": application.company,
        "role": str(memory.role_part).format(role=application.role) if application.role else "",
        "status": memory.statuses.get(application.situation, application.situation),
        "step": memory.steps.get(step, step) if step else "",
        "date": str(memory.date_part).format(date=format_day(when, today)) if when else "",
    }


class ActionListApplications(PersonalAction):
    def name(self) -> str:
        return "action_list_applications"

    async def run_in_private(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        knowledge = knowledge_cache().get()
        today = message_time(tracker, user_timezone(tracker)).date()
        with records() as session:
            stored = applications.all_of(session, tracker.sender_id)
        if not stored:
            dispatcher.utter_message(text=knowledge.memory.pending_empty)
            return []
        lines = [application_line(knowledge, application, today) for application in stored]
        dispatcher.utter_message(text="\n".join([knowledge.memory.pending_heading, *lines]))
        return []
