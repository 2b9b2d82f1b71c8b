"""What the user's message says about their interview: who, what role, how long ago."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk import Tracker

from actions.follow_ups import FollowUpMention, find_follow_up
from actions.timeline import (
    FUTURE_WORDS,
    MONTH_FIRST,
    PROMISE_WORDS,
    SaidDate,
    find_date,
    parse_past_date,
    read_date,
)

# A date this close after "I emailed them" is when they emailed.
FOLLOW_UP_DATE_WITHIN_CHARS = 40
# The longest company, person, role or date we take from a message.
MAX_ENTITY_CHARS = 100

# spaCy sometimes reads a time right after a company as part of its name ("Acme Corp
# 9 days ago" as one ORG); such a tail is split off and read as the date it is.
TRAILING_TIME = re.compile(
    r"\s+((?:\d+|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"a few|a couple of|several)\s+(?:business\s+|working\s+)?(?:days?|weeks?|months?)\s+ago"
    r"|yesterday|last\s+(?:week|month|monday|tuesday|wednesday|thursday|friday|saturday|sunday))$",
    re.IGNORECASE,
)
# A message about what is still to come ("my interview is on December 10", "they'll
# decide December 10"): a date in it that does not say which way it points is the next
# such day, not last year's.
FUTURE_TENSE = re.compile(
    r"\b(?:will|would|shall|going to|gonna|(?:is|'s) (?:on|set for|scheduled|planned)|"
    r"am (?:having|meeting|seeing)|have an? (?:interview|call)|upcoming|coming up)\b|"
    r"\w'(?:ll|d)\b",
    re.IGNORECASE,
)
# Where one part of a message ends: each date is read with the words of its own part
# ("I interviewed Thursday | and they'll let me know next week").
CLAUSE_BREAK = re.compile(r"[.,;!?]|\b(?:and|but|so|then)\b", re.IGNORECASE)
# A future date in a message about a decision, news or a restart is a promised date;
# in any other message it is an interview still to come.
ABOUT_A_DECISION = re.compile(
    r"\b(?:decid\w*|decision|hear\w*|get back|let me know|answer\w*|news|update|"
    r"feedback|respond\w*|reply|come back|restart\w*|resum\w*|reopen\w*|pick it up)\b",
    re.IGNORECASE,
)
# "they said at the interview they'd decide within two weeks": a promise made then.
SAID_AT_INTERVIEW = re.compile(
    r"\b(?:at|during|in|after|end of) (?:the|my|our) interview\b", re.IGNORECASE
)


@dataclass(frozen=True)
class Details:
    company: str | None = None
    person: str | None = None
    role: str | None = None
    # past, or an interview still to come; with how precisely it was said
    interview_date: SaidDate | None = None
    # "within two weeks", "by Friday": read into a date once the day it was said is known.
    promise: str | None = None
    follow_up: FollowUpMention | None = None
    last_follow_up: date | None = None
    # the message says the promise was made at the interview
    promise_at_interview: bool = False


def message_time(tracker: Tracker, timezone: ZoneInfo) -> datetime:
    """When the latest user message was sent, in the user's time zone."""
    for event in reversed(tracker.events):
        if event.get("event") == "user" and event.get("timestamp"):
            return datetime.fromtimestamp(float(event["timestamp"]), tz=timezone)
    return datetime.fromtimestamp(time.time(), tz=timezone)


def _values(entities: Iterable[dict[str, Any]], *names: str) -> list[dict[str, Any]]:
    """The entities called one of `names`, in message order; one longer than any name or
    date a person gives is a misreading (or someone filling the records) and is left out."""
    return [
        e
        for e in entities
        if e.get("entity") in names and 0 < len(str(e.get("value", "")).strip()) <= MAX_ENTITY_CHARS
    ]


def _split_time_from_companies(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Companies without a time stuck to their end; the time becomes a DATE entity."""
    result = []
    for entity in entities:
        value = str(entity.get("value", ""))
        tail = TRAILING_TIME.search(value) if entity.get("entity") == "ORG" else None
        if tail is None or not value[: tail.start()].strip():
            result.append(entity)
            continue
        start = entity.get("start")
        date_start = start + tail.start(1) if isinstance(start, int) else None
        result.append({**entity, "value": value[: tail.start()].strip()})
        result.append({"entity": "DATE", "value": tail.group(1), "start": date_start})
    return result


def _span(entity: dict[str, Any]) -> tuple[int, int] | None:
    start, end = entity.get("start"), entity.get("end")
    return (start, end) if isinstance(start, int) and isinstance(end, int) else None


def named_parts(
    entities: Iterable[dict[str, Any]], not_company_names: Iterable[str]
) -> dict[str, list[str]]:
    """The companies, people and roles a message names, most likely first.

    Our own model's `company`, `person` and `role` (trained on this assistant's
    messages, and so on small and made-up names) come first; spaCy's ORG and PERSON
    add only names in words our model left unmarked, so "Brightwave rejected me" stays
    a company however spaCy reads it. Words that are never company names (knowledge
    file) are left out.
    """
    entities = list(entities)
    ignored = {name.lower() for name in not_company_names}
    ours = {"company": "company", "person": "person", "role": "role"}
    spacy = {"ORG": "company", "PERSON": "person"}
    found: dict[str, list[str]] = {"company": [], "person": [], "role": []}
    taken: list[tuple[int, int]] = []

    def add(label: str, entity: dict[str, Any]) -> None:
        value = str(entity["value"]).strip()
        if label == "company" and value.lower() in ignored:
            return
        if value.lower() not in {v.lower() for v in found[label]}:
            found[label].append(value)

    for entity in _values(entities, *ours):
        add(ours[entity["entity"]], entity)
        span = _span(entity)
        if span:
            taken.append(span)
    for entity in _values(entities, *spacy):
        span = _span(entity)
        if span and any(span[0] < end and start < span[1] for start, end in taken):
            continue
        add(spacy[entity["entity"]], entity)
    return found


def message_names(
    latest_message: dict[str, Any], not_company_names: Iterable[str]
) -> dict[str, list[str]]:
    """The companies, people and roles one parsed message names (`named_parts`, after a
    time stuck to a company's name is split off)."""
    entities = _split_time_from_companies(list(latest_message.get("entities") or []))
    return named_parts(entities, not_company_names)


def _word_before(text: str, entity: dict[str, Any]) -> str:
    """The word before the date: 'by' in 'they said they'd decide by Friday'."""
    start = entity.get("start")
    if not isinstance(start, int):
        return ""
    before = text[:start].split()
    return before[-1].lower() if before else ""


def _clause(text: str, entity: dict[str, Any]) -> str:
    """The part of the message a date belongs to: from the last break before it to the
    date's end."""
    start, end = entity.get("start"), entity.get("end")
    if not isinstance(start, int):
        return text
    if not isinstance(end, int):
        end = start + len(str(entity.get("value", "")))
    return CLAUSE_BREAK.split(text[:start])[-1] + text[start:end]


def _prefer(clause: str) -> str:
    return "future" if FUTURE_TENSE.search(clause) else "past"


def _after_follow_up(entity: dict[str, Any], follow_up: FollowUpMention | None) -> bool:
    start = entity.get("start")
    return (
        follow_up is not None
        and isinstance(start, int)
        and 0 <= start - follow_up.end <= FOLLOW_UP_DATE_WITHIN_CHARS
    )


def extract_details(
    latest_message: dict[str, Any],
    now: datetime,
    not_company_names: Iterable[str],
    whole_text_is_date: bool = False,
    date_order: str = MONTH_FIRST,
) -> Details:
    """Reads the entities of one message; an entity the message lacks stays None.

    A date after a promise word ("by Friday") is a promise; one after a follow-up is
    when it was sent; any other is the interview's, or, when it lies ahead, a promise
    if the message is about a decision and else an interview still to come. When
    `whole_text_is_date` (the user answered "when was it?"), the whole text is tried as
    a date if no DATE entity was found. `date_order` reads "10/12" (MDY or DMY).
    """
    text = str(latest_message.get("text") or "")
    entities = _split_time_from_companies(list(latest_message.get("entities") or []))
    names = named_parts(entities, not_company_names)
    company = next(iter(names["company"]), None)
    person = next(iter(names["person"]), None)
    role = next(iter(names["role"]), None)

    follow_up = find_follow_up(text)
    last_follow_up: date | None = None
    dates: list[tuple[str, SaidDate, str]] = []
    promise: str | None = None
    for entity in _values(entities, "DATE"):
        value = str(entity["value"]).strip()
        word = _word_before(text, entity)
        if word in PROMISE_WORDS:
            promise = promise or f"{word} {value}"
        elif _after_follow_up(entity, follow_up):
            last_follow_up = last_follow_up or parse_past_date(value, now, date_order)
        else:
            clause = _clause(text, entity)
            phrase = f"{word} {value}" if word in FUTURE_WORDS else value
            said = read_date(phrase, now, _prefer(clause), date_order)
            if said is not None:
                dates.append((phrase, said, clause))
    if not dates and promise is None and whole_text_is_date and follow_up is None:
        said = find_date(text, now, _prefer(text), date_order)
        if said is not None:
            dates.append((text, said, text))
    interview_date: SaidDate | None = None
    upcoming: SaidDate | None = None
    for phrase, said, clause in dates:
        if said.day <= now.date():
            interview_date = interview_date or said
        elif ABOUT_A_DECISION.search(clause):
            promise = promise or phrase
        else:
            upcoming = upcoming or said
    return Details(
        company,
        person,
        role,
        interview_date or upcoming,
        promise,
        follow_up,
        last_follow_up,
        promise_at_interview=promise is not None and bool(SAID_AT_INTERVIEW.search(text)),
    )
