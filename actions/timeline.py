"""Dates and the next step: pure functions, no Rasa, so every rule is unit-tested.

Figures behind the rules (see knowledge/coaching.yml for their citations):
- follow up after 5 business days when no decision date was given (Indeed US);
- ask for feedback within 1–2 days of a rejection (feedback guides);
- a paused role: check back in 2–3 weeks, by email (meador.com).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import dateparser

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY_PATTERN = re.compile(
    r"^(?:(?:last|this past|past|on|this)\s+)?"
    r"(mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)[a-z]*(?:\s+(?:morning|afternoon|evening))?$"
)
_DAY_OF_MONTH_PATTERN = re.compile(r"^(?:on\s+)?(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)$")
_BARE_DURATION_PATTERN = re.compile(
    r"^(an?|one|two|three|four|five|six|seven|eight|nine|ten|\d+)\s+(day|week|month)s?$"
)
# Words around a time phrase that change nothing about the date it names.
_FILLER_PATTERN = re.compile(
    r"\b(it'?s been|it was|been|since|about|around|almost|nearly|roughly|approximately|"
    r"more than|over|like|already|just|only|maybe|i think|or so|ish)\b"
)
_REWRITES = (
    (re.compile(r"\byday\b|\byesterdy\b|\byesturday\b"), "yesterday"),
    (re.compile(r"\b(a )?couple( of)?\b"), "2"),
    (re.compile(r"\b(a )?few\b"), "3"),
    (re.compile(r"\bfortnight\b"), "2 weeks"),
    (re.compile(r"\bwks?\b"), "weeks"),
    (re.compile(r"\bdys?\b"), "days"),
    (re.compile(r"\bmonths?\b"), "months"),
    (re.compile(r"\bbefore (\w+ (?:days?|weeks?|months?))\b"), r"\1 ago"),
    (re.compile(r"\b(this morning|this afternoon|earlier today|tonight)\b"), "today"),
)
# A time phrase after these words is a promised date, not when the interview was.
PROMISE_WORDS = frozenset({"by", "within", "until", "till", "next", "in"})

# The number of business days in these rules come from the research notes.
FEEDBACK_WITHIN_BUSINESS_DAYS = 2
ON_HOLD_CHECK_BACK_DAYS = 14
KEEP_SEARCHING_WITHIN_DAYS = 7
TAKE_CARE_STEP_BUSINESS_DAYS = 1


def is_business_day(day: date) -> bool:
    return day.weekday() < 5


def add_business_days(start: date, count: int) -> date:
    """The date `count` business days after `start` (weekends skipped)."""
    day = start
    added = 0
    while added < count:
        day += timedelta(days=1)
        if is_business_day(day):
            added += 1
    return day


def next_business_day_on_or_after(day: date) -> date:
    while not is_business_day(day):
        day += timedelta(days=1)
    return day


def _normalise(phrase: str) -> str:
    text = phrase.lower().strip().strip(".,!?;:")
    text = re.sub(r"[^\w\s'-]", " ", text)
    for pattern, replacement in _REWRITES:
        text = pattern.sub(replacement, text)
    text = _FILLER_PATTERN.sub(" ", text)
    return re.sub(r"\s+", " ", text).strip()


def _most_recent_weekday(weekday: int, today: date) -> date:
    """The latest date before today that falls on `weekday` ("last Thursday")."""
    delta = (today.weekday() - weekday) % 7 or 7
    return today - timedelta(days=delta)


def _most_recent_day_of_month(day_of_month: int, today: date) -> date | None:
    year, month = today.year, today.month
    for _ in range(12):
        try:
            candidate = date(year, month, day_of_month)
        except ValueError:
            candidate = None
        if candidate is not None and candidate <= today:
            return candidate
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return None


def parse_past_date(phrase: str, now: datetime) -> date | None:
    """When a past event happened, from the user's words ("last Thursday", "2 weeks ago").

    `now` is the message time in the user's time zone. Returns None when the phrase
    names no date, or names one in the future.
    """
    text = _normalise(phrase)
    if not text:
        return None
    today = now.date()
    weekday_match = _WEEKDAY_PATTERN.match(text)
    if weekday_match:
        prefix = weekday_match.group(1)
        weekday = next(i for i, name in enumerate(WEEKDAYS) if name.startswith(prefix))
        return _most_recent_weekday(weekday, today)
    day_match = _DAY_OF_MONTH_PATTERN.match(text)
    if day_match:
        return _most_recent_day_of_month(int(day_match.group(1)), today)
    if _BARE_DURATION_PATTERN.match(text):
        text = f"{text} ago"  # "it's been two weeks" means two weeks ago
    parsed = dateparser.parse(
        text,
        languages=["en"],
        settings={
            "RELATIVE_BASE": now.replace(tzinfo=None),
            "PREFER_DATES_FROM": "past",
            "PREFER_DAY_OF_MONTH": "first",
            "REQUIRE_PARTS": [],
        },
    )
    if parsed is None:
        return None
    result = parsed.date()
    return result if result <= today else None


def format_day(day: date, today: date) -> str:
    """'Tuesday 1 December', with the year only when it is not this year's."""
    text = f"{day:%A} {day.day} {day:%B}"
    return text if day.year == today.year else f"{text} {day.year}"


@dataclass(frozen=True)
class NextStep:
    step: str
    date: date | None = None


def decide_next_step(
    situation: str,
    today: date,
    interview_date: date | None,
    follow_up_after_business_days: int,
) -> NextStep:
    """The one next step for a situation, and the date that goes with it."""
    if situation in ("no_callback", "ask_contact_recruiter"):
        if interview_date is None:
            return NextStep("wait")
        follow_up_from = add_business_days(interview_date, follow_up_after_business_days)
        if today < follow_up_from:
            return NextStep("wait", follow_up_from)
        return NextStep("follow_up", follow_up_from)
    if situation in ("rejected", "skills_gap"):
        return NextStep("ask_feedback", add_business_days(today, FEEDBACK_WITHIN_BUSINESS_DAYS))
    if situation == "on_hold":
        check_back = today + timedelta(days=ON_HOLD_CHECK_BACK_DAYS)
        return NextStep("check_back", next_business_day_on_or_after(check_back))
    if situation == "vacancy_cancelled":
        return NextStep("keep_searching", today + timedelta(days=KEEP_SEARCHING_WITHIN_DAYS))
    if situation == "feeling_discouraged":
        return NextStep("take_care", add_business_days(today, TAKE_CARE_STEP_BUSINESS_DAYS))
    if situation == "ask_interview_etiquette":
        return NextStep("prepare")
    raise ValueError(f"unknown situation {situation!r}")
