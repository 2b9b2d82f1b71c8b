"""Dates and the next step: pure functions, no Rasa, so every rule is unit-tested.

The numbers behind the rules live in knowledge/coaching.yml (`timing`), each with the
research facts it comes from; this module only applies them. Business days skip
weekends and the public holidays of the configured country (the `holidays` package).
"""

from __future__ import annotations

import calendar as month_calendar
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import dateparser
import holidays

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
PROMISE_WORDS = frozenset({"by", "within", "until", "till", "next", "in", "before"})


class UnknownCountryError(ValueError):
    """The configured holiday country is not one the `holidays` package knows."""


@dataclass(frozen=True)
class BusinessCalendar:
    """Business days: Monday to Friday, less the public holidays of `country`
    (an ISO 3166 code such as "US" or "GB"; empty for weekends only)."""

    country: str = ""
    _holidays: holidays.HolidayBase | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.country:
            try:
                object.__setattr__(self, "_holidays", holidays.country_holidays(self.country))
            except NotImplementedError as error:
                raise UnknownCountryError(
                    f"unknown holiday country {self.country!r}: use an ISO 3166 code such as "
                    "US, GB or DE, or leave it empty for weekends only"
                ) from error

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < 5 and not (self._holidays is not None and day in self._holidays)

    def add_business_days(self, start: date, count: int) -> date:
        """The date `count` business days after `start`."""
        day = start
        added = 0
        while added < count:
            day += timedelta(days=1)
            if self.is_business_day(day):
                added += 1
        return day

    def on_or_after(self, day: date) -> date:
        """`day`, or the first business day after it."""
        while not self.is_business_day(day):
            day += timedelta(days=1)
        return day


WEEKENDS_ONLY = BusinessCalendar()


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


def _nearest_day_of_month(day_of_month: int, start: date, forward: bool) -> date | None:
    """The nearest date on or after (forward) or on or before `start` that falls on the
    given day of the month ("the 3rd"), skipping months too short for it."""
    year, month = start.year, start.month
    for _ in range(12):
        try:
            candidate = date(year, month, day_of_month)
        except ValueError:
            candidate = None
        if candidate is not None and (candidate >= start if forward else candidate <= start):
            return candidate
        month += 1 if forward else -1
        if month in (0, 13):
            year, month = (year + 1, 1) if forward else (year - 1, 12)
    return None


def _weekday_index(prefix: str) -> int:
    return next(i for i, name in enumerate(WEEKDAYS) if name.startswith(prefix))


def parse_past_date(phrase: str, now: datetime) -> date | None:
    """When a past event happened, from the user's words ("last Thursday", "2 weeks ago").

    `now` is the message time in the user's time zone. Returns None when the phrase
    names no date, or names one in the future.
    """
    text = _normalise(phrase)
    if not text or text.isdigit():
        return None  # "1", "12", "2024": a bare number is no date (dateparser guesses one)
    today = now.date()
    weekday_match = _WEEKDAY_PATTERN.match(text)
    if weekday_match:
        return _most_recent_weekday(_weekday_index(weekday_match.group(1)), today)
    day_match = _DAY_OF_MONTH_PATTERN.match(text)
    if day_match:
        return _nearest_day_of_month(int(day_match.group(1)), today, forward=False)
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


_PROMISE_PREFIX = re.compile(
    r"^(?:(?:they|she|he)\s+(?:said|told me|promised)\s+)?"
    r"(?:(?:they'?d|they would|they will|we'?d|i'?d)\s+)?"
    r"(?:(?:decide|get back|hear back|let me know|call|reply|respond|come back)\w*\s+)?"
    r"(?:to me\s+)?"
    r"(?:by|within|until|till|before|in|no later than|on)\s+"
)
_END_OF = re.compile(r"^(?:the\s+)?end of (?:the |this )?(week|month)s?$")
_NEXT_WEEK = re.compile(r"^next week$")
_DURATION = re.compile(
    r"^(an?|one|two|three|four|five|six|seven|eight|nine|ten|\d+)\s+"
    r"(business day|working day|day|week|month)s?$"
)
_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
}  # fmt: skip


def parse_promised_date(phrase: str, said_on: date, calendar: BusinessCalendar) -> date | None:
    """The date a promise names ("within two weeks", "by Friday", "end of the month"),
    counted from the day it was made. None when no date can be read from it.

    A weekday means the next one after `said_on`; a day of the month the next such
    day on or after it.
    """
    text = _normalise(phrase)
    text = _PROMISE_PREFIX.sub("", text).strip()
    if not text:
        return None
    end_of = _END_OF.match(text)
    if end_of:
        if end_of.group(1) == "week":
            return said_on + timedelta(days=(4 - said_on.weekday()) % 7)
        last = month_calendar.monthrange(said_on.year, said_on.month)[1]
        return said_on.replace(day=last)
    if _NEXT_WEEK.match(text):
        return said_on + timedelta(days=7 + (4 - said_on.weekday()))  # Friday next week
    duration = _DURATION.match(text)
    if duration:
        amount = _NUMBERS.get(duration.group(1)) or int(duration.group(1))
        unit = duration.group(2)
        if unit in ("business day", "working day"):
            return calendar.add_business_days(said_on, amount)
        if unit == "month":
            return _add_months(said_on, amount)
        return said_on + timedelta(days=amount * (7 if unit == "week" else 1))
    weekday_match = _WEEKDAY_PATTERN.match(text)
    if weekday_match:
        weekday = _weekday_index(weekday_match.group(1))
        return said_on + timedelta(days=(weekday - said_on.weekday()) % 7 or 7)
    day_match = _DAY_OF_MONTH_PATTERN.match(text)
    if day_match:
        return _nearest_day_of_month(int(day_match.group(1)), said_on, forward=True)
    parsed = dateparser.parse(
        text,
        languages=["en"],
        settings={
            "RELATIVE_BASE": datetime.combine(said_on, datetime.min.time()),
            "PREFER_DATES_FROM": "future",
            "PREFER_DAY_OF_MONTH": "first",
        },
    )
    return parsed.date() if parsed is not None and parsed.date() >= said_on else None


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, month_calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class TimingRules:
    """The waiting times; knowledge/coaching.yml sets them, with their sources."""

    thank_you_within_days: int = 1
    follow_up_after_business_days: int = 5
    after_promised_date_business_days: int = 2
    follow_up_again_after_days: int = 7
    follow_ups_before_moving_on: int = 2
    move_on_weeks_past_promised_date: int = 3
    move_on_weeks_after_interview: int = 6
    on_hold_check_back_days: int = 14
    feedback_within_business_days: int = 2
    keep_searching_within_days: int = 7
    take_care_within_business_days: int = 1


@dataclass(frozen=True)
class History:
    """What the user has told us about this application so far."""

    interview_date: date | None = None
    promised_date: date | None = None  # a decision date, or when a paused role resumes
    follow_ups_done: int = 0
    last_follow_up: date | None = None


Day = date  # the field `NextStep.date` hides the type name inside that class


@dataclass(frozen=True)
class NextStep:
    step: str
    date: Day | None = None
    thank_you_by: Day | None = None  # set while a thank-you note is still timely
    # The TimingRules fields this step applied, so the reply can cite their sources.
    rules: tuple[str, ...] = field(default=(), compare=False)


def decide_next_step(
    situation: str,
    today: date,
    history: History,
    rules: TimingRules = TimingRules(),
    calendar: BusinessCalendar = WEEKENDS_ONLY,
) -> NextStep:
    """The one next step for a situation, and the date that goes with it."""
    if situation in ("no_callback", "ask_contact_recruiter"):
        return _waiting_step(today, history, rules, calendar)
    if situation in ("rejected", "skills_gap"):
        return NextStep(
            "ask_feedback",
            calendar.add_business_days(today, rules.feedback_within_business_days),
            rules=("feedback_within_business_days",),
        )
    if situation == "on_hold":
        if history.promised_date is not None and history.promised_date > today:
            return NextStep("check_back", calendar.on_or_after(history.promised_date))
        check_back = today + timedelta(days=rules.on_hold_check_back_days)
        return NextStep(
            "check_back", calendar.on_or_after(check_back), rules=("on_hold_check_back_days",)
        )
    if situation == "vacancy_cancelled":
        return NextStep(
            "keep_searching",
            today + timedelta(days=rules.keep_searching_within_days),
            rules=("keep_searching_within_days",),
        )
    if situation == "feeling_discouraged":
        return NextStep(
            "take_care",
            calendar.add_business_days(today, rules.take_care_within_business_days),
            rules=("take_care_within_business_days",),
        )
    if situation == "ask_interview_etiquette":
        return NextStep("prepare")
    raise ValueError(f"unknown situation {situation!r}")


def _waiting_step(
    today: date, history: History, rules: TimingRules, calendar: BusinessCalendar
) -> NextStep:
    """The follow-up ladder: wait, follow up, follow up again, move on. Moving on needs
    enough follow-ups AND enough time, or a silence long past any usual timeline; no
    follow-up is ever advised before a date they promised."""
    promised = history.promised_date
    waiting_for_promise = promised is not None and promised >= today
    # the earliest day a follow-up is fair while a promised date still stands
    after_promise = (
        calendar.add_business_days(promised, rules.after_promised_date_business_days)
        if promised is not None
        else None
    )
    if history.follow_ups_done >= rules.follow_ups_before_moving_on:
        # time counts from the last follow-up, else from the interview; with neither
        # known, the follow-ups are taken to be behind them
        since = history.last_follow_up or history.interview_date
        reply_by = since + timedelta(days=rules.follow_up_again_after_days) if since else today
        if today < reply_by and not waiting_for_promise:
            # the last follow-up is too recent to call it: give them time to answer
            return NextStep(
                "wait_for_reply",
                calendar.on_or_after(reply_by),
                rules=("follow_up_again_after_days", "follow_ups_before_moving_on"),
            )
        if not waiting_for_promise:
            return NextStep("move_on", rules=("follow_ups_before_moving_on",))
    if promised is not None and today > promised + timedelta(
        weeks=rules.move_on_weeks_past_promised_date
    ):
        return NextStep("move_on", rules=("move_on_weeks_past_promised_date",))
    interview = history.interview_date
    if (
        interview is not None
        and not waiting_for_promise
        and today > interview + timedelta(weeks=rules.move_on_weeks_after_interview)
    ):
        return NextStep("move_on", rules=("move_on_weeks_after_interview",))
    if history.follow_ups_done >= 1:
        since = history.last_follow_up or today
        again = calendar.on_or_after(since + timedelta(days=rules.follow_up_again_after_days))
        earliest = max(again, calendar.on_or_after(today))
        if after_promise is not None:
            earliest = max(earliest, after_promise)
        return NextStep(
            "follow_up_again",
            earliest,
            rules=("follow_up_again_after_days", "follow_ups_before_moving_on"),
        )

    thank_you_by = None
    used: tuple[str, ...] = ()
    if history.interview_date is not None:
        deadline = history.interview_date + timedelta(days=rules.thank_you_within_days)
        if today <= deadline:
            thank_you_by, used = deadline, ("thank_you_within_days",)
    if promised is not None:
        follow_up_from = calendar.add_business_days(
            promised, rules.after_promised_date_business_days
        )
        used += ("after_promised_date_business_days",)
    elif history.interview_date is not None:
        follow_up_from = calendar.add_business_days(
            history.interview_date, rules.follow_up_after_business_days
        )
        used += ("follow_up_after_business_days",)
    else:
        return NextStep("wait", rules=("follow_up_after_business_days",))
    if today < follow_up_from:
        return NextStep("wait", follow_up_from, thank_you_by, rules=used)
    return NextStep("follow_up", follow_up_from, rules=used)
