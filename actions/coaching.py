"""The coaching action: reassurance, likely reasons, guidance, one next step, and on
request a ready-to-send draft. Each situation is recorded against its application."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions.drafting import asks_for_draft, choose_kind, compose, draft_button
from actions.knowledge import (
    NO_DATE_SUFFIX,
    PROMISED_SUFFIX,
    SITUATIONS,
    Knowledge,
)
from actions.place import said_in_private
from actions.records import applications
from actions.records.applications import Application, Report, company_key
from actions.runtime import (
    date_order,
    entity_value,
    knowledge_cache,
    records,
    settings,
    user_locale,
    user_timezone,
)
from actions.situation_details import Details, extract_details, message_time
from actions.timeline import (
    History,
    NextStep,
    SaidDate,
    decide_next_step,
    format_day,
    read_promise,
    say_by,
    say_when,
)
from actions.unsure import READINGS_OFFERED, likeliest_readings, reading_buttons, reading_titles
from actions.wording import render

ITEMS_PER_LIST = 2
# Steps whose date depends on when the interview was.
DATE_DEPENDENT_SITUATIONS = frozenset({"no_callback", "ask_contact_recruiter"})
# Steps after which the coach offers a reminder on the step's date.
REMINDER_STEPS = frozenset({"wait", "check_back", "follow_up_again", "wait_for_reply"})
# Slack shows at most five buttons under a message.
MAX_BUTTONS = 5
# The most words in one coaching turn: what fits a phone screen in a chat.
MAX_WORDS = 80
# Per situation, how many times its reassurance, reasons and guidance were shown.
COACHED_SLOT = "times_coached"
# The day the user first told us the role is on hold (to know when to stop checking).
ON_HOLD_SLOT = "on_hold_since"
# The situation whose texts word a step another situation has none of its own for
# (a role on hold long enough gets the ladder's "move on").
LADDER_SITUATION = "no_callback"


def rotate(items: list[Any], turn: int, count: int) -> list[Any]:
    """`count` items, starting further along the list on each turn, so replies vary."""
    count = min(count, len(items))
    start = (turn * count) % len(items)
    return [items[(start + i) % len(items)] for i in range(count)]


def times_coached(tracker: Tracker, situation: str) -> int:
    """How often this conversation was coached on the situation (kept in a slot, not
    counted from the history: the action server is sent only the latest turns)."""
    counts = tracker.get_slot(COACHED_SLOT)
    times = counts.get(situation) if isinstance(counts, dict) else None
    return times if isinstance(times, int) and times > 0 else 0


def _coached_once_more(tracker: Tracker, situation: str, times: int) -> SlotSet:
    counts = tracker.get_slot(COACHED_SLOT)
    known = dict(counts) if isinstance(counts, dict) else {}
    return SlotSet(COACHED_SLOT, {**known, situation: times + 1})


def _stored_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


@dataclass(frozen=True)
class Prior:
    """What was known before this message about the application it concerns."""

    company: str | None = None
    person: str | None = None
    role: str | None = None
    interview_date: SaidDate | None = None
    promised_date: SaidDate | None = None
    follow_ups_done: int = 0
    last_follow_up: date | None = None
    on_hold_since: date | None = None

    @classmethod
    def from_slots(cls, tracker: Tracker) -> Prior:
        return cls(
            company=tracker.get_slot("company"),
            person=tracker.get_slot("person"),
            role=tracker.get_slot("role"),
            interview_date=SaidDate.from_slot(tracker.get_slot("interview_date")),
            promised_date=SaidDate.from_slot(tracker.get_slot("promised_date")),
            follow_ups_done=int(tracker.get_slot("follow_ups_done") or 0),
            last_follow_up=_stored_date(tracker.get_slot("last_follow_up")),
            on_hold_since=_stored_date(tracker.get_slot(ON_HOLD_SLOT)),
        )

    @classmethod
    def from_record(cls, stored: Application) -> Prior:
        """The records keep the day only, not how precisely it was said (a new column
        would need a schema revision): a stored date is read as a day."""
        return cls(
            company=stored.company,
            person=stored.contacts[-1] if stored.contacts else None,
            role=stored.role,
            interview_date=SaidDate(stored.interview_date) if stored.interview_date else None,
            promised_date=SaidDate(stored.promised_date) if stored.promised_date else None,
            follow_ups_done=stored.follow_ups_done,
            last_follow_up=stored.last_follow_up,
        )


class ActionCoach(Action):
    """Answers a situation from its knowledge entry; answers a bare date with the next step;
    writes a draft when asked for one."""

    def name(self) -> str:
        return "action_coach"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        knowledge = knowledge_cache().get()
        message = tracker.latest_message or {}
        # A message hinting at self-harm never reaches this action: the Rasa server's
        # risk check makes it the crisis intent (callback_coach/nlu/risk_detector.py).
        text = str(message.get("text") or "").lower()

        intent = (message.get("intent") or {}).get("name")
        now = message_time(tracker, user_timezone(tracker))
        details = extract_details(
            message,
            now,
            knowledge.not_company_names,
            whole_text_is_date=intent == "inform",
            date_order=date_order(user_locale(tracker)),
        )
        if intent == "nlu_fallback" and not (
            tracker.get_slot("situation") in SITUATIONS
            and _says_something_new(details, tracker.get_slot("company"))
        ):
            return self._ask_which_reading(dispatcher, knowledge, message, details, tracker)
        # In a Slack channel or Telegram group others read along: answer from what was
        # said in this conversation, and neither read nor write the person's records.
        private = said_in_private(tracker)
        with records() as session:
            prior, stored = self._prior(session, tracker, details, private)
            known = Details(
                company=details.company or prior.company,
                person=_same_or_fuller(details.person, prior.person),
                role=details.role or prior.role,
                interview_date=details.interview_date or prior.interview_date,
            )
            today = now.date()
            history, promised = self._history(details, prior, known, today)

            draft_kind = entity_value(tracker, "draft_kind")
            wants_draft = draft_kind is not None or (
                intent == "ask_contact_recruiter" and asks_for_draft(text, knowledge.drafts)
            )
            situation = intent if intent in SITUATIONS else tracker.get_slot("situation")
            if wants_draft and tracker.get_slot("situation") in SITUATIONS:
                # "Write it for me" is about the situation already under way.
                situation = tracker.get_slot("situation")
            # a role on hold: since when, so there is a day to stop checking
            on_hold_since = (prior.on_hold_since or today) if situation == "on_hold" else None
            history = replace(history, on_hold_since=on_hold_since)
            events = self._detail_events(known, history, promised, today)
            if on_hold_since != prior.on_hold_since:
                events.append(
                    SlotSet(ON_HOLD_SLOT, on_hold_since.isoformat() if on_hold_since else None)
                )
            if situation not in SITUATIONS:
                dispatcher.utter_message(
                    text=knowledge.messages.ask_situation,
                    buttons=self._situation_buttons(knowledge),
                )
                return events

            step = decide_next_step(
                situation, today, history, knowledge.timing.rules(), settings().calendar
            )
            if wants_draft:
                self._draft(dispatcher, knowledge, text, draft_kind, step, known, promised, today)
                return [*events, SlotSet("situation", situation), SlotSet("next_step", step.step)]

            words_said = 0
            if intent in SITUATIONS:
                times = times_coached(tracker, situation)
                if times == 0:
                    # the first time: one line that meets the feeling; after that only
                    # the step, which says what changed
                    values = _wording_values(known, step, promised, today)
                    words_said = self._meet_the_feeling(
                        dispatcher, knowledge, situation, values, tracker.sender_id
                    )
                events.append(_coached_once_more(tracker, situation, times))
            newly_recorded = False
            full = (
                private
                and stored is None
                and known.company is not None
                and applications.count(session, tracker.sender_id) >= settings().max_applications
            )
            if known.company and private and not full:
                applications.record(
                    session,
                    tracker.sender_id,
                    Report(
                        company=known.company,
                        situation=situation,
                        role=known.role,
                        person=known.person,
                        next_step=step.step,
                        next_step_date=step.date,
                        interview_date=known.interview_date.day if known.interview_date else None,
                        promised_date=history.promised_date,
                        follow_ups_done=history.follow_ups_done,
                        last_follow_up=history.last_follow_up,
                    ),
                    now,
                )
                newly_recorded = stored is None
            reminder_offer = self._next_step(
                dispatcher,
                knowledge,
                situation,
                step,
                known,
                history,
                promised,
                today,
                newly_recorded,
                offer_reminder=private,
                records_full=full,
                words_said=words_said,
            )
        return [
            *events,
            SlotSet("situation", situation),
            SlotSet("next_step", step.step),
            # the waiting times behind the step's date, for the "Sources" button
            SlotSet("next_step_rules", list(step.rules)),
            SlotSet("offered_reminder", reminder_offer),
        ]

    @staticmethod
    def _prior(
        session: Session, tracker: Tracker, details: Details, private: bool
    ) -> tuple[Prior, Application | None]:
        """The conversation's details, unless this message turns to another company: then
        what the records hold about that one (or nothing), never the last company's.
        Outside a private place the records are not read."""
        from_slots = Prior.from_slots(tracker)
        company = details.company or from_slots.company
        if not company:
            return from_slots, None
        if not private:
            same_company = from_slots.company and company_key(company) == company_key(
                from_slots.company
            )
            return (from_slots if same_company else Prior(company=company)), None
        stored = applications.find(session, tracker.sender_id, company, details.role)
        same_company = from_slots.company and company_key(company) == company_key(
            from_slots.company
        )
        if same_company:
            return from_slots, stored
        return (Prior.from_record(stored) if stored else Prior(company=company)), stored

    @staticmethod
    def _history(
        details: Details, prior: Prior, known: Details, today: date
    ) -> tuple[History, SaidDate | None]:
        """This message's news on top of what was already known; and the promised date
        as it was said."""
        promised = None
        if details.promise:
            promised = read_promise(
                details.promise, _promise_said_on(details, known, today), settings().calendar
            )
        if details.follow_up is not None:
            follow_ups = details.follow_up.total(prior.follow_ups_done)
            last_follow_up = details.last_follow_up  # a new follow-up: the stored day is stale
        else:
            follow_ups = prior.follow_ups_done
            last_follow_up = prior.last_follow_up
        promised = promised or prior.promised_date
        return History(
            interview_date=known.interview_date.day if known.interview_date else None,
            promised_date=promised.day if promised else None,
            follow_ups_done=follow_ups,
            last_follow_up=last_follow_up,
        ), promised

    @staticmethod
    def _detail_events(
        known: Details, history: History, promised: SaidDate | None, today: date
    ) -> list[EventType]:
        interview = known.interview_date
        days = _days_since(interview, today)
        last = history.last_follow_up
        return [
            SlotSet("promised_date", promised.to_slot() if promised else None),
            SlotSet("follow_ups_done", float(history.follow_ups_done)),
            SlotSet("last_follow_up", last.isoformat() if last else None),
            SlotSet("company", known.company),
            SlotSet("person", known.person),
            SlotSet("role", known.role),
            SlotSet("interview_date", interview.to_slot() if interview else None),
            SlotSet("days_since_interview", float(days) if days is not None else None),
        ]

    @staticmethod
    def _ask_which_reading(
        dispatcher: CollectingDispatcher,
        knowledge: Knowledge,
        message: dict[str, Any],
        details: Details,
        tracker: Tracker,
    ) -> list[EventType]:
        """The two likeliest readings of an unclear message as buttons. The names it
        gives are kept for the reply the button brings, unless they would mix with an
        application already under way."""
        titles = reading_titles(knowledge)
        readings = likeliest_readings(message.get("intent_ranking") or [], titles)
        if len(readings) < READINGS_OFFERED:
            dispatcher.utter_message(response="utter_default")
            return []
        dispatcher.utter_message(
            text=knowledge.messages.unsure, buttons=reading_buttons(readings, titles)
        )
        under_way = tracker.get_slot("company")
        if details.company is None or (
            under_way and company_key(under_way) != company_key(details.company)
        ):
            return []
        return [
            SlotSet(name, value)
            for name, value in (
                ("company", details.company),
                ("person", details.person),
                ("role", details.role),
            )
            if value
        ]

    @staticmethod
    def _draft(
        dispatcher: CollectingDispatcher,
        knowledge: Knowledge,
        text: str,
        asked_kind: str | None,
        step: NextStep,
        known: Details,
        promised: SaidDate | None,
        today: date,
    ) -> None:
        drafts = knowledge.drafts
        kind = choose_kind(text, step.step, drafts, asked_kind)
        calendar = settings().calendar
        draft = compose(
            kind,
            {
                "person": known.person,
                "company": known.company,
                "role": known.role,
                # as precisely as the user said it: "last week", never a day they never named
                "interview_date": say_when(known.interview_date, today)
                if known.interview_date
                else None,
                "promised": say_by(promised, today, calendar) if promised else None,
            },
            drafts,
        )
        dispatcher.utter_message(text=drafts.intro)
        # The draft alone in its message, so it can be copied as it is.
        dispatcher.utter_message(text=draft.text)
        if draft.blanks:
            note: str = drafts.missing_note
            dispatcher.utter_message(text=note.format(blanks=", ".join(draft.blanks)))

    @staticmethod
    def _situation_buttons(knowledge: Knowledge) -> list[dict[str, str]]:
        return situation_buttons(knowledge)

    @staticmethod
    def _meet_the_feeling(
        dispatcher: CollectingDispatcher,
        knowledge: Knowledge,
        situation: str,
        values: dict[str, str],
        sender_id: str,
    ) -> int:
        """One line for how this feels; the reasons and the rest are a tap away. Returns
        how many words it said."""
        entry = knowledge.situations[situation]
        # which of the lines: varied between people, the same for one person
        reassurance = entry.reassurance[zlib.crc32(sender_id.encode()) % len(entry.reassurance)]
        text = render(reassurance, values, stand_ins(knowledge))
        dispatcher.utter_message(text=text)
        return len(text.split())

    @staticmethod
    def _next_step(
        dispatcher: CollectingDispatcher,
        knowledge: Knowledge,
        situation: str,
        step: NextStep,
        known: Details,
        history: History,
        promised: SaidDate | None,
        today: date,
        newly_recorded: bool = False,
        offer_reminder: bool = True,
        records_full: bool = False,
        words_said: int = 0,
    ) -> str | None:
        """Sends the next step; returns the day of the reminder it offered, if any. The
        extras (a thank-you hint, asking the date, a records note) come only while the
        turn stays within MAX_WORDS, the most important first."""
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
        # a step this situation has no words for is worded as the waiting ladder words it
        texts = (
            entry.next_step
            if key in entry.next_step
            else knowledge.situations[LADDER_SITUATION].next_step
        )
        template: str = texts[key]
        values = _wording_values(known, step, promised, today)
        fallbacks = stand_ins(knowledge)
        parts = [render(template, values, fallbacks)]
        extras: list[str] = []
        if ask_date and not key.endswith(NO_DATE_SUFFIX):
            # a step worded for an unknown day already asks for it
            extras.append(messages.ask_interview_date)
        if records_full:
            extras.append(knowledge.memory.full)
        if step.thank_you_by is not None:
            thank_you_values = {**values, "date": format_day(step.thank_you_by, today)}
            extras.append(render(messages.thank_you_note, thank_you_values, fallbacks))
        if newly_recorded and known.company:
            memory = knowledge.memory
            role = str(memory.role_part).format(role=known.role) if known.role else ""
            extras.append(str(memory.recorded).format(company=known.company, role=role))
        used = words_said + len(parts[0].split())
        for extra in extras:
            if used + len(extra.split()) <= MAX_WORDS:
                parts.append(extra)
                used += len(extra.split())

        buttons: list[dict[str, str]] = []
        offer = None
        if (
            offer_reminder
            and step.step in REMINDER_STEPS
            and step.date is not None
            and step.date > today
        ):
            offer = step.date.isoformat()
            title: str = knowledge.reminders.offer_button
            buttons.append(
                {
                    "title": title.format(date=format_day(step.date, today), step="", about=""),
                    "payload": f'/set_reminder{{"reminder_date":"{offer}"}}',
                }
            )
        if any(step.step in k.steps for k in knowledge.drafts.kinds.values()):
            kind = choose_kind("", step.step, knowledge.drafts)
            buttons.append(draft_button(knowledge.drafts, kind))
        buttons += more_buttons(knowledge)
        # one line break, not a blank line: channels send each paragraph as a message
        dispatcher.utter_message(text="\n".join(parts), buttons=buttons[:MAX_BUTTONS])
        return offer


def _wording_values(
    known: Details, step: NextStep, promised: SaidDate | None, today: date
) -> dict[str, str]:
    """What the knowledge file's placeholders stand for in this reply; empty when unknown.
    A promised date is said back no more precisely than the user said it."""
    days = _days_since(known.interview_date, today)
    return {
        "date": format_day(step.date, today) if step.date else "",
        "promised": say_by(promised, today, settings().calendar) if promised else "",
        "stop_date": format_day(step.stop_date, today) if step.stop_date else "",
        "company": known.company or "",
        "person": known.person or "",
        "role": f"the {known.role} role" if known.role else "",
        "days": str(days) if days is not None else "",
    }


def _days_since(interview: SaidDate | None, today: date) -> int | None:
    """Days since the interview; None when unknown or still to come."""
    if interview is None or interview.day > today:
        return None
    return (today - interview.day).days


def _promise_said_on(details: Details, known: Details, today: date) -> date:
    """The day a promise counts from: the day the user tells us, unless they say it was
    made at the interview ("they said at the interview they'd decide within two weeks")
    or name the interview's day in the same message ("I interviewed three weeks ago and
    they said two weeks"); then the interview's day, if it is behind us."""
    interview = known.interview_date
    made_then = details.promise_at_interview or details.interview_date is not None
    if made_then and interview is not None and interview.day <= today:
        return interview.day
    return today


def stand_ins(knowledge: Knowledge) -> dict[str, str]:
    """What a sentence says for a name the coach does not know."""
    messages = knowledge.messages
    return {
        "company": messages.unknown_company,
        "person": messages.unknown_person,
        "role": messages.unknown_role,
    }


def _says_something_new(details: Details, slot_company: str | None) -> bool:
    """An unclear message that still reports a follow-up or a promise about the
    application under way. A bare date, or another company, is too unsure a guess."""
    other_company = (
        details.company is not None
        and slot_company is not None
        and company_key(details.company) != company_key(slot_company)
    )
    return not other_company and (details.follow_up is not None or details.promise is not None)


def _same_or_fuller(said: str | None, known: str | None) -> str | None:
    """'I emailed Maria' after 'Maria Lopez' still means Maria Lopez."""
    if said and known and known.casefold().startswith(said.casefold()):
        return known
    return said or known


def more_buttons(knowledge: Knowledge, leave_out: str | None = None) -> list[dict[str, str]]:
    """The buttons that open the rest of a reply: why, what else helps, the sources."""
    return [
        {"title": title, "payload": f'/ask_more{{"detail":"{detail}"}}'}
        for detail, title in knowledge.messages.more_buttons.items()
        if detail != leave_out
    ]


def situation_buttons(knowledge: Knowledge) -> list[dict[str, str]]:
    return [
        {"title": entry.title, "payload": f"/{name}"}
        for name, entry in knowledge.situations.items()
        if name in ("no_callback", "rejected", "on_hold", "vacancy_cancelled")
    ]


def source_names(knowledge: Knowledge, fact_ids: list[str]) -> list[str]:
    """Names of the research sources behind the given facts, in order, once each."""
    names: list[str] = []
    for fact_id in fact_ids:
        source = knowledge.sources[knowledge.facts[fact_id].source]
        name = f"{source.name} ({source.year})" if source.year else source.name
        if name not in names:
            names.append(name)
    return names
