"""What the user's message says about their interview: who, what role, how long ago."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk import Tracker

from actions.timeline import PROMISE_WORDS, parse_past_date


@dataclass(frozen=True)
class Details:
    company: str | None = None
    person: str | None = None
    role: str | None = None
    interview_date: date | None = None


def message_time(tracker: Tracker, timezone: ZoneInfo) -> datetime:
    """When the latest user message was sent, in the user's time zone."""
    for event in reversed(tracker.events):
        if event.get("event") == "user" and event.get("timestamp"):
            return datetime.fromtimestamp(float(event["timestamp"]), tz=timezone)
    return datetime.fromtimestamp(time.time(), tz=timezone)


def _values(entities: Iterable[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [e for e in entities if e.get("entity") == name and str(e.get("value", "")).strip()]


def _is_promised_date(text: str, entity: dict[str, Any]) -> bool:
    """'they said they'd decide by Friday' names a promise, not the interview day."""
    start = entity.get("start")
    if not isinstance(start, int):
        return False
    before = text[:start].split()
    return bool(before) and before[-1].lower() in PROMISE_WORDS


def extract_details(
    latest_message: dict[str, Any],
    now: datetime,
    not_company_names: Iterable[str],
    whole_text_is_date: bool = False,
) -> Details:
    """Reads the entities of one message; an entity the message lacks stays None.

    When `whole_text_is_date` (the user answered "when was it?"), the whole text is
    tried as a date if no DATE entity was found.
    """
    text = str(latest_message.get("text") or "")
    entities = latest_message.get("entities") or []
    ignored = {name.lower() for name in not_company_names}

    company = next(
        (
            str(e["value"]).strip()
            for e in _values(entities, "ORG")
            if str(e["value"]).strip().lower() not in ignored
        ),
        None,
    )
    person = next((str(e["value"]).strip() for e in _values(entities, "PERSON")), None)
    role = next((str(e["value"]).strip() for e in _values(entities, "role")), None)

    interview_date = None
    for entity in _values(entities, "DATE"):
        if _is_promised_date(text, entity):
            continue
        interview_date = parse_past_date(str(entity["value"]), now)
        if interview_date is not None:
            break
    if interview_date is None and whole_text_is_date:
        interview_date = parse_past_date(text, now)
    return Details(company, person, role, interview_date)
