"""The coaching action: reassurance, likely reasons, guidance and one next step."""

from __future__ import annotations

import functools
from datetime import date
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.knowledge import (
    NO_DATE_SUFFIX,
    PROMISED_SUFFIX,
    SITUATIONS,
    Item,
    Knowledge,
    KnowledgeCache,
)
from actions.settings import Settings, load_settings
from actions.situation_details import Details, extract_details, message_time
from actions.timeline import History, NextStep, decide_next_step, format_day, parse_promised_date

ITEMS_PER_LIST = 2
# Steps whose date depends on when the interview was.
DATE_DEPENDENT_SITUATIONS = frozenset({"no_callback", "ask_contact_recruiter"})


@functools.lru_cache(maxsize=1)
def settings() -> Settings:
    return load_settings()


@functools.lru_cache(maxsize=1)
def knowledge_cache() -> KnowledgeCache:
    return KnowledgeCache(settings().knowledge_file)


def _rotate(items: list[Any], turn: int, count: int) -> list[Any]:
    """`count` items, starting further along the list on each turn, so replies vary."""
    count = min(count, len(items))
    start = (turn * count) % len(items)
    return [items[(start + i) % len(items)] for i in range(count)]


def _times_coached(tracker: Tracker, situation: str) -> int:
    return sum(
        1
        for event in tracker.events
        if event.get("event") == "slot"
        and event.get("name") == "situation"
        and event.get("value") == situation
    )


def _stored_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


class ActionCoach(Action):
    """Answers a situation from its knowledge entry; answers a bare date with the next step."""

    def name(self) -> str:
        return "action_coach"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        knowledge = knowledge_cache().get()
        message = tracker.latest_message or {}
        text = str(message.get("text") or "").lower()
        if any(phrase in text for phrase in knowledge.crisis_phrases):
            # Safety first: a message hinting at self-harm never gets job coaching.
            dispatcher.utter_message(response="utter_crisis")
            return []

        intent = (message.get("intent") or {}).get("name")
        now = message_time(tracker, settings().timezone)
        details = extract_details(
            message, now, knowledge.not_company_names, whole_text_is_date=intent == "inform"
        )
        known = Details(
            company=details.company or tracker.get_slot("company"),
            person=details.person or tracker.get_slot("person"),
            role=details.role or tracker.get_slot("role"),
            interview_date=details.interview_date
            or _stored_date(tracker.get_slot("interview_date")),
        )
        today = now.date()
        history = self._history(tracker, details, known, today)
        events = self._detail_events(known, history, today)

        situation = intent if intent in SITUATIONS else tracker.get_slot("situation")
        if situation not in SITUATIONS:
            dispatcher.utter_message(
                text=knowledge.messages.ask_situation,
                buttons=self._situation_buttons(knowledge),
            )
            return events

        step = decide_next_step(
            situation, today, history, knowledge.timing.rules(), settings().calendar
        )
        shown: list[Item] = []
        if intent in SITUATIONS:
            shown = self._coach(
                dispatcher, knowledge, situation, _times_coached(tracker, situation)
            )
        fact_ids = [fact for item in shown for fact in item.facts]
        fact_ids += knowledge.timing.facts_for(step.rules)
        self._next_step(dispatcher, knowledge, situation, step, known, history, today, fact_ids)
        return [
            *events,
            SlotSet("situation", situation),
            SlotSet("next_step", step.step),
        ]

    @staticmethod
    def _history(tracker: Tracker, details: Details, known: Details, today: date) -> History:
        """This message's news on top of what the conversation already knew."""
        promised = None
        if details.promise:
            # A promise counts from the interview when we know its day, else from today.
            said_on = known.interview_date or today
            promised = parse_promised_date(details.promise, said_on, settings().calendar)
        follow_ups_before = int(tracker.get_slot("follow_ups_done") or 0)
        if details.follow_up is not None:
            follow_ups = details.follow_up.total(follow_ups_before)
            last_follow_up = details.last_follow_up  # a new follow-up: the stored day is stale
        else:
            follow_ups = follow_ups_before
            last_follow_up = _stored_date(tracker.get_slot("last_follow_up"))
        return History(
            interview_date=known.interview_date,
            promised_date=promised or _stored_date(tracker.get_slot("promised_date")),
            follow_ups_done=follow_ups,
            last_follow_up=last_follow_up,
        )

    @staticmethod
    def _detail_events(known: Details, history: History, today: date) -> list[EventType]:
        days = (today - known.interview_date).days if known.interview_date else None
        promised, last = history.promised_date, history.last_follow_up
        return [
            SlotSet("promised_date", promised.isoformat() if promised else None),
            SlotSet("follow_ups_done", float(history.follow_ups_done)),
            SlotSet("last_follow_up", last.isoformat() if last else None),
            SlotSet("company", known.company),
            SlotSet("person", known.person),
            SlotSet("role", known.role),
            SlotSet(
                "interview_date", known.interview_date.isoformat() if known.interview_date else None
            ),
            SlotSet("days_since_interview", float(days) if days is not None else None),
        ]

    @staticmethod
    def _situation_buttons(knowledge: Knowledge) -> list[dict[str, str]]:
        return [
            {"title": entry.title, "payload": f"/{name}"}
            for name, entry in knowledge.situations.items()
            if name in ("no_callback", "rejected", "on_hold", "vacancy_cancelled")
        ]

    @staticmethod
    def _coach(
        dispatcher: CollectingDispatcher, knowledge: Knowledge, situation: str, turn: int
    ) -> list[Item]:
        """Sends reassurance, reasons and guidance; returns the items it showed."""
        entry = knowledge.situations[situation]
        messages = knowledge.messages
        dispatcher.utter_message(text=_rotate(entry.reassurance, turn, 1)[0])
        shown: list[Item] = []
        for heading, items in (
            (messages.reasons_heading, entry.reasons),
            (messages.guidance_heading, entry.guidance),
        ):
            chosen: list[Item] = _rotate(items, turn, ITEMS_PER_LIST)
            bullets = "\n".join(f"• {item.text}" for item in chosen)
            dispatcher.utter_message(text=f"{heading}\n{bullets}")
            shown += chosen
        return shown

    @staticmethod
    def _next_step(
        dispatcher: CollectingDispatcher,
        knowledge: Knowledge,
        situation: str,
        step: NextStep,
        known: Details,
        history: History,
        today: date,
        fact_ids: list[str],
    ) -> None:
        entry = knowledge.situations[situation]
        messages = knowledge.messages
        ask_date = (
            situation in DATE_DEPENDENT_SITUATIONS
            and known.interview_date is None
            and history.promised_date is None
            and history.follow_ups_done == 0
        )
        key = step.step
        if history.promised_date is not None and key + PROMISED_SUFFIX in entry.next_step:
            key += PROMISED_SUFFIX
        elif ask_date and key + NO_DATE_SUFFIX in entry.next_step:
            key += NO_DATE_SUFFIX
        template: str = entry.next_step[key]
        values = {
            "date": format_day(step.date, today) if step.date else "",
            "promised": format_day(history.promised_date, today) if history.promised_date else "",
            "company": known.company or messages.unknown_company,
            "person": known.person or messages.unknown_person,
            "role": f"the {known.role} role" if known.role else messages.unknown_role,
            "days": str((today - known.interview_date).days) if known.interview_date else "",
        }
        parts = [template.format_map(values)]
        if step.thank_you_by is not None:
            thank_you_values = {**values, "date": format_day(step.thank_you_by, today)}
            thank_you_note: str = messages.thank_you_note
            parts.append(thank_you_note.format_map(thank_you_values))
        if ask_date:
            parts.append(messages.ask_interview_date)
        sources = _source_names(knowledge, fact_ids)
        if sources:
            sources_line: str = messages.sources_line
            parts.append(sources_line.format(sources=", ".join(sources)))
        dispatcher.utter_message(
            text="\n\n".join(parts),
            buttons=[{"title": b.title, "payload": f"/{b.intent}"} for b in entry.buttons],
        )


def _source_names(knowledge: Knowledge, fact_ids: list[str]) -> list[str]:
    """Names of the research sources behind the given facts, in order, once each."""
    names: list[str] = []
    for fact_id in fact_ids:
        source = knowledge.sources[knowledge.facts[fact_id].source]
        name = f"{source.name} ({source.year})" if source.year else source.name
        if name not in names:
            names.append(name)
    return names
