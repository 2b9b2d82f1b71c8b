"""Dates and the next step: pure functions, no Rasa, so every rule is unit-tested.

The numbers behind the rules live in knowledge/coaching.yml (`timing`), each with the
research facts it comes from; this module only applies them. Business days skip
weekends and the public holidays of the configured country (the `holidays` package).

A date the user gives keeps how precisely they gave it (`SaidDate`): "last week" is
reckoned with as a day, but said back as "last week", never as a day they never named.
"""

from __future__ import annotations

import calendar as month_calendar
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import holidays
from dateparser.date import DateDataParser
from dateparser.search import search_dates

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = tuple(month_calendar.month_name)[1:]
_WEEKDAY_PATTERN = re.compile(
    r"^(?:(last|this past|past|on|this|next|coming)\s+)?"
    r"(monday|mon|tuesday|tues|tue|wednesday|wed|thursday|thurs|thur|thu|friday|fri|"
    r"saturday|sat|sunday|sun)(?:\s+(?:morning|afternoon|evening))?$"
)
_DAY_OF_MONTH_PATTERN = re.compile(r"^(?:on\s+)?(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)$")
_BARE_DURATION_PATTERN = re.compile(
    r"^(an?|one|two|three|four|five|six|seven|eight|nine|ten|\d+)\s+(day|week|month)s?$"
)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Words around a time phrase that change nothing about the date it names.
_FILLER_PATTERN = re.compile(
    r"\b(it'?s been|it was|been|since|about|around|almost|nearly|roughly|approximately|"
    r"more than|over|like|already|just|only|maybe|i think|or so|ish)\b"
)
_REWRITES = (
    (re.compile(r"\byday\b|\byesterdy\b|\byesturday\b"), "yesterday"),
    (re.compile(r"\b(a )?couple( of)?\b"), "2"),
    (re.compile(r"\b(a )?few\b"), "3"),
    (re.compile(r"\bseveral\b"), "3"),
    (re.compile(r"\bfortnight\b"), "2 weeks"),
    (re.compile(r"\bwks?\b"), "weeks"),
    (re.compile(r"\bdys?\b"), "days"),
    (re.compile(r"\b(\d+) months?\b"), r"\1 months"),
    (re.compile(r"\b(\w+ (?:days?|weeks?|months?)) back\b"), r"\1 ago"),
    (re.compile(r"\bbefore (\w+ (?:days?|weeks?|months?))\b"), r"\1 ago"),
    (re.compile(r"\b(this morning|this afternoon|earlier today|tonight)\b"), "today"),
)
# A time phrase after these words is a promised date, not when the interview was.
PROMISE_WORDS = frozenset({"by", "within", "until", "till", "before"})
# After these, a duration ("in two weeks") is a promise; a day or month is read by tense.
FUTURE_WORDS = frozenset({"in", "next"})

# How precisely a date was said: a day ("last Thursday", "10 December", "2 days ago"), a
# week ("last week", "two weeks ago"), a month ("last month", "in November", "three
# months ago"), or roughly ("a few weeks ago", "after the holidays", "mid-December").
DAY, WEEK, MONTH, VAGUE = "day", "week", "month", "vague"
PRECISIONS = (DAY, WEEK, MONTH, VAGUE)
# The orders of a numeric date: "10/12" is 12 October (MDY) or 10 December (DMY).
MONTH_FIRST, DAY_FIRST = "MDY", "DMY"
# Words that make a time phrase a rough one.
_VAGUE_PATTERN = re.compile(
    r"\b(few|several|couple|some|a while|early|mid|middle|late|holidays?|christmas|"
    r"new year|festive)\b"
)
# The longest own words a date keeps (a slot value is stored with them).
MAX_WORDS_CHARS = 60


@dataclass(frozen=True)
class SaidDate:
    """A date as the user gave it: the day the rules count with, how precisely it was
    said (DAY, WEEK, MONTH or VAGUE) and, for a rough one, their own words, so a reply
    says it back no more precisely than they did (`say_when`, `say_by`)."""

    day: date
    precision: str = DAY
    words: str = ""

    def to_slot(self) -> str:
        """A day said exactly is stored as it always was, a plain ISO date; any other
        date carries its precision and any words: '2026-11-26|week',
        '2026-11-12|vague|a few weeks ago'."""
        if self.precision == DAY:
            return self.day.isoformat()
        return "|".join(filter(None, (self.day.isoformat(), self.precision, self.words)))

    @classmethod
    def from_slot(cls, value: object) -> SaidDate | None:
        """What `to_slot` stored, or a plain ISO date (all that slots held before dates
        kept their precision: read as a day); None for anything else."""
        if not isinstance(value, str) or not value.strip():
            return None
        iso, _, rest = value.strip().partition("|")
        precision, _, words = rest.partition("|")
        try:
            day = date.fromisoformat(iso)
        except ValueError:
            return None
        precision = precision if precision in PRECISIONS else DAY
        return cls(day, precision, words.strip()[:MAX_WORDS_CHARS])


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
    text = re.sub(r"[^\w\s'/.-]", " ", text)
    text = re.sub(r"(?<!\d)[./]|[./](?!\d)", " ", text)  # keep only 10/12 and 12.04.2024
    for pattern, replacement in _REWRITES:
        text = pattern.sub(replacement, text)
    text = _FILLER_PATTERN.sub(" ", text)
    return re.sub(r"\s+", " ", text).strip()


def _own_words(phrase: str) -> str:
    """The user's time phrase, tidied to say back: fillers out, month names capitalised."""
    text = _FILLER_PATTERN.sub(" ", phrase.lower().strip().strip(".,!?;:"))
    text = re.sub(r"\s+", " ", text).strip()
    for name in MONTHS:
        text = re.sub(rf"\b{name.lower()}\b", name, text)
    return text[:MAX_WORDS_CHARS]


def _most_recent_weekday(weekday: int, today: date) -> date:
    """The latest date before today that falls on `weekday` ("last Thursday")."""
    delta = (today.weekday() - weekday) % 7 or 7
    return today - timedelta(days=delta)


def _next_weekday(weekday: int, today: date) -> date:
    """The first date after today that falls on `weekday` ("next Thursday")."""
    return today + timedelta(days=(weekday - today.weekday()) % 7 or 7)


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


_PERIOD_PRECISION = {"day": DAY, "time": DAY, "week": WEEK, "month": MONTH, "year": MONTH}


def read_date(
    phrase: str, now: datetime, prefer: str = "past", date_order: str = MONTH_FIRST
) -> SaidDate | None:
    """When something happened or will happen, from the user's words, with how precisely
    they said it. `now` is the message time in the user's time zone.

    A phrase that says which way it points ("last Thursday", "three months ago", "next
    Tuesday", "tomorrow") is read that way. One that does not ("December 10", "Thursday",
    "the 3rd", "10/12") is the most recent such day not after today when `prefer` is
    "past", the next such day from today when it is "future". `date_order` is how the
    user writes numeric dates (MONTH_FIRST or DAY_FIRST). None when no date is named.
    """
    text = _normalise(phrase)
    if not text or text.isdigit():
        return None  # "1", "12", "2024": a bare number is no date (dateparser guesses one)
    today = now.date()
    forward = prefer == "future"
    vague = bool(_VAGUE_PATTERN.search(phrase.lower()))
    if _ISO_DATE.match(text):
        try:
            return SaidDate(date.fromisoformat(text))
        except ValueError:
            return None
    weekday_match = _WEEKDAY_PATTERN.match(text)
    if weekday_match:
        weekday = _weekday_index(weekday_match.group(2))
        direction = weekday_match.group(1)
        if direction in ("next", "coming") or (forward and direction in (None, "on", "this")):
            return SaidDate(_next_weekday(weekday, today))
        return SaidDate(_most_recent_weekday(weekday, today))
    day_match = _DAY_OF_MONTH_PATTERN.match(text)
    if day_match:
        day = _nearest_day_of_month(int(day_match.group(1)), today, forward)
        return SaidDate(day) if day is not None else None
    if _BARE_DURATION_PATTERN.match(text):
        # "it's been two weeks" means two weeks ago; "two weeks" ahead means in two weeks
        text = f"in {text}" if forward else f"{text} ago"
    read = DateDataParser(
        languages=["en"],
        settings={
            "RELATIVE_BASE": now.replace(tzinfo=None),
            "PREFER_DATES_FROM": prefer,
            "PREFER_DAY_OF_MONTH": "first",
            "DATE_ORDER": date_order,
            "REQUIRE_PARTS": [],
        },
    ).get_date_data(text)
    if read.date_obj is None:
        return None
    day = read.date_obj.date()
    period = read.period or "day"
    if forward and period == "day" and (day.year - 1, day.month, day.day) == today.timetuple()[:3]:
        day = today  # "my interview is on 3 December", said on 3 December
    if period == "month" and not forward and "ago" not in text and "last" not in text:
        day = min(day.replace(day=15), today)  # "in November": mid-month, not the 1st
    precision = VAGUE if vague else _PERIOD_PRECISION.get(period, DAY)
    return SaidDate(day, precision, _own_words(phrase) if precision == VAGUE else "")


def find_date(
    text: str, now: datetime, prefer: str = "past", date_order: str = MONTH_FIRST
) -> SaidDate | None:
    """The date a whole message names ("I interviewed last month"): the message read as a
    time phrase, else the first time phrase dateparser finds in it."""
    said = read_date(text, now, prefer, date_order)
    if said is not None:
        return said
    found = search_dates(
        text,
        languages=["en"],
        settings={"RELATIVE_BASE": now.replace(tzinfo=None), "DATE_ORDER": date_order},
    )
    for phrase, _ in found or []:
        said = read_date(phrase, now, prefer, date_order)
        if said is not None:
            return said
    return None


def parse_past_date(phrase: str, now: datetime, date_order: str = MONTH_FIRST) -> date | None:
    """When a past event happened ("last Thursday", "2 weeks ago"); None when the phrase
    names no date, or one in the future."""
    said = read_date(phrase, now, "past", date_order)
    return said.day if said is not None and said.day <= now.date() else None


def format_day(day: date, today: date) -> str:
    """'Tuesday 1 December', with the year only when it is not this year's."""
    text = f"{day:%A} {day.day} {day:%B}"
    return text if day.year == today.year else f"{text} {day.year}"


def _month(day: date, today: date) -> str:
    return f"{day:%B}" if day.year == today.year else f"{day:%B} {day.year}"


def _week_offset(day: date, today: date) -> int:
    """How many weeks (Monday to Sunday) `day` lies after this week; negative before."""
    return (
        (day - timedelta(days=day.weekday())) - (today - timedelta(days=today.weekday()))
    ).days // 7


def _week_of(day: date, today: date) -> str:
    monday = day - timedelta(days=day.weekday())
    return f"the week of {monday.day} {_month(monday, today)}"


_WEEKS_AROUND = {
    -2: "the week before last",
    -1: "last week",
    0: "this week",
    1: "next week",
    2: "the week after next",
}


def say_when(said: SaidDate, today: date) -> str:
    """When something happened or happens, no more precisely than the user said it:
    'on Thursday 26 November', 'last week', 'in November', or their own rough words
    ('a few weeks ago') while those still name the same day."""
    precision = said.precision
    if precision == VAGUE:
        prefer = "future" if said.day > today else "past"
        again = (
            read_date(said.words, datetime.combine(today, time(12)), prefer) if said.words else None
        )
        if again is not None and again.day == said.day:
            return said.words
        precision = WEEK
    if precision == DAY:
        return f"on {format_day(said.day, today)}"
    if precision == WEEK:
        offset = _week_offset(said.day, today)
        return _WEEKS_AROUND.get(offset) or f"in {_week_of(said.day, today)}"
    return f"in {_month(said.day, today)}"


def say_by(said: SaidDate, today: date, calendar: BusinessCalendar) -> str:
    """A promised date, no more precisely than it was promised: 'by Friday 27 November',
    'by the end of next week', 'in January', 'by the end of November', or their own
    words ('after the holidays') while those still name the same day."""
    precision = said.precision
    if precision == VAGUE:
        again = read_promise(said.words, today, calendar) if said.words else None
        if again is not None and again.day == said.day:
            return said.words
        precision = WEEK
    if precision == DAY:
        return f"by {format_day(said.day, today)}"
    if precision == WEEK:
        offset = _week_offset(said.day, today)
        week = {-1: "last week", 0: "this week", 1: "next week"}.get(offset)
        return f"by the end of {week or _week_of(said.day, today)}"
    last = month_calendar.monthrange(said.day.year, said.day.month)[1]
    if said.day.day == last:
        return f"by the end of {_month(said.day, today)}"
    return f"in {_month(said.day, today)}"


_PROMISE_PREFIX = re.compile(
    r"^(?:(?:they|she|he)\s+(?:said|told me|promised)\s+)?"
    r"(?:(?:at|during|after)\s+the\s+interview\s+)?"
    r"(?:(?:they'?d|they would|they will|they'?ll|we'?d|i'?d|it'?ll|it will|it would)\s+)?"
    r"(?:(?:decide|get back|hear back|let me know|call|reply|respond|come back|restart|"
    r"resume|reopen|start again|pick it up)\w*\s+)?"
    r"(?:to me\s+)?"
    r"(?:by|within|until|till|before|in|no later than|on)\s+"
)
_END_OF_DAY = re.compile(
    r"^(?:the\s+)?(?:end of (?:the\s+)?(?:business\s+)?day|eod|cob|close of business)\s+"
)
_END_OF = re.compile(r"^(?:the\s+)?end of (?:the |this |next )?(week|month)s?$")
_NEXT = re.compile(r"^(?:the\s+)?(this|next|following) (week|month)$")
_DURATION = re.compile(
    r"^(an?|one|two|three|four|five|six|seven|eight|nine|ten|\d+)\s+"
    r"(business day|working day|day|week|month|hour)s?$"
)
_HOLIDAYS = re.compile(
    r"^(?:after|past|following) (?:the )?(?:holidays?|christmas|xmas|festive season|new year)$"
)
_NEW_YEAR = re.compile(r"^(?:the )?new year$")
_PART_OF = re.compile(
    r"^(early|mid|middle of|late)[ -]?(?:the )?(next week|this week|next month|this month|"
    + "|".join(m.lower() for m in MONTHS)
    + r")$"
)
_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
}  # fmt: skip
# The days of a month taken for "early", "mid" and "late" in it.
_PART_DAY = {"early": 5, "mid": 15, "middle of": 15, "late": 25}
# The year-end break runs from mid-November (people start saying "after the holidays")
# until 1 January.
_YEAR_END_FROM = (11, 15)
# "After the holidays" at other times of the year: a usual holiday is about three weeks.
_OTHER_HOLIDAYS = timedelta(weeks=3)


def _new_year(said_on: date, calendar: BusinessCalendar) -> date:
    """The first business day on or after the next 2 January."""
    year = said_on.year if said_on < date(said_on.year, 1, 2) else said_on.year + 1
    return calendar.on_or_after(date(year, 1, 2))


def _after_the_holidays(said_on: date, calendar: BusinessCalendar) -> date:
    """'After the holidays': said from mid-November to New Year's Day, the first business
    day on or after 2 January (Christmas and New Year are over, and most offices are
    back); at any other time we cannot know which holidays, so three weeks on."""
    if (said_on.month, said_on.day) >= _YEAR_END_FROM or (said_on.month, said_on.day) <= (1, 1):
        return _new_year(said_on, calendar)
    return calendar.on_or_after(said_on + _OTHER_HOLIDAYS)


def _part_of(part: str, what: str, said_on: date) -> date:
    """'early next week' (its Tuesday), 'mid-December' (the 15th), 'late January' (the 25th)."""
    if what.endswith("week"):
        monday = said_on - timedelta(days=said_on.weekday()) + timedelta(weeks=what == "next week")
        return monday + timedelta(days={"early": 1, "late": 4}.get(part, 2))
    if what.endswith("month"):
        first = _add_months(said_on.replace(day=1), int(what == "next month"))
        return first.replace(day=_PART_DAY[part])
    month = MONTHS.index(what.capitalize()) + 1
    year = said_on.year + (month < said_on.month)
    return date(year, month, _PART_DAY[part])


def read_promise(
    phrase: str, said_on: date, calendar: BusinessCalendar, date_order: str = MONTH_FIRST
) -> SaidDate | None:
    """The date a promise names, counted from the day it was made, with how precisely it
    was named; None when no date can be read from it or it is before that day.

    "within two weeks", "within 48 hours" (two business days), "by Friday", "end of day
    Friday" and "December 10" name a day; "by the end of next week" a week; "next month"
    and "until January" the month's first day, "end of the month" its last; "after the
    holidays", "in the new year", "early next week", "in a couple of weeks" and
    "mid-December" are rough and keep their words. A weekday means the next one after
    `said_on`; a day of the month the next such day on or after it.
    """
    text = _PROMISE_PREFIX.sub("", _normalise(phrase)).strip()
    if not text:
        return None
    rough = bool(_VAGUE_PATTERN.search(phrase.lower()))
    words = _own_words(_PROMISE_PREFIX.sub("", _FILLER_PATTERN.sub(" ", phrase.lower()).strip()))
    if _HOLIDAYS.match(text):
        return SaidDate(_after_the_holidays(said_on, calendar), VAGUE, "after the holidays")
    if _NEW_YEAR.match(text):
        return SaidDate(_new_year(said_on, calendar), VAGUE, "in the new year")
    part = _PART_OF.match(text)
    if part:
        day = _part_of(part.group(1), part.group(2), said_on)
        named = _own_words(f"{part.group(1)} {part.group(2)}").replace("mid ", "mid-")
        in_words = named if part.group(2).endswith(("week", "month")) else f"in {named}"
        return SaidDate(day, VAGUE, in_words) if day >= said_on else None
    text = _END_OF_DAY.sub("", text)
    end_of = _END_OF.match(text)
    if end_of:
        nxt = " next " in f" {text} "
        if end_of.group(1) == "week":
            friday = said_on + timedelta(days=(4 - said_on.weekday()) % 7 + 7 * nxt)
            return SaidDate(friday, WEEK)
        month_start = _add_months(said_on.replace(day=1), int(nxt))
        last = month_calendar.monthrange(month_start.year, month_start.month)[1]
        return SaidDate(month_start.replace(day=last), MONTH)
    following = _NEXT.match(text)
    if following:
        this = following.group(1) == "this"
        if following.group(2) == "week":
            friday = said_on + timedelta(days=(4 - said_on.weekday()) % 7 + 7 * (not this))
            return SaidDate(friday, WEEK)
        if this:
            last = month_calendar.monthrange(said_on.year, said_on.month)[1]
            return SaidDate(said_on.replace(day=last), MONTH)
        return SaidDate(_add_months(said_on.replace(day=1), 1), MONTH)
    duration = _DURATION.match(text)
    if duration:
        amount = _NUMBERS.get(duration.group(1)) or int(duration.group(1))
        unit = duration.group(2)
        if unit in ("business day", "working day"):
            day = calendar.add_business_days(said_on, amount)
        elif unit == "hour":
            # "within 48 hours" from an office: business days, so a weekend is not counted
            day = calendar.add_business_days(said_on, max(1, math.ceil(amount / 24)))
        elif unit == "month":
            day = _add_months(said_on, amount)
        else:
            day = said_on + timedelta(days=amount * (7 if unit == "week" else 1))
        return SaidDate(day, VAGUE, f"in {words}") if rough else SaidDate(day)
    weekday_match = _WEEKDAY_PATTERN.match(text)
    if weekday_match:
        return SaidDate(_next_weekday(_weekday_index(weekday_match.group(2)), said_on))
    day_match = _DAY_OF_MONTH_PATTERN.match(text)
    if day_match:
        nearest = _nearest_day_of_month(int(day_match.group(1)), said_on, forward=True)
        return SaidDate(nearest) if nearest is not None else None
    said = read_date(text, datetime.combine(said_on, time(12)), "future", date_order)
    if said is None or said.day < said_on:
        return None
    if said.precision == MONTH:
        return SaidDate(said.day.replace(day=1), MONTH)
    return said


def parse_promised_date(
    phrase: str, said_on: date, calendar: BusinessCalendar, date_order: str = MONTH_FIRST
) -> date | None:
    """The day a promise names ("within two weeks", "by Friday", "end of the month"),
    counted from the day it was made; None when no date can be read from it."""
    said = read_promise(phrase, said_on, calendar, date_order)
    return said.day if said is not None else None


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
    on_hold_stop_after_weeks: int = 6
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
    on_hold_since: date | None = None  # the day they first told us the role is on hold


Day = date  # the field `NextStep.date` hides the type name inside that class


@dataclass(frozen=True)
class NextStep:
    step: str
    date: Day | None = None
    thank_you_by: Day | None = None  # set while a thank-you note is still timely
    stop_date: Day | None = None  # on hold: with no news by then, stop checking
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
        return _on_hold_step(today, history, rules, calendar)
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


def _on_hold_step(
    today: date, history: History, rules: TimingRules, calendar: BusinessCalendar
) -> NextStep:
    """Check back on a date, and stop checking after a set time on hold without news
    (counted from the day they told us; a restart date they named, plus the usual
    weeks past a promise, may push it later). Past that day: move on."""
    since = history.on_hold_since or today
    stop = since + timedelta(weeks=rules.on_hold_stop_after_weeks)
    used: tuple[str, ...] = ("on_hold_stop_after_weeks",)
    promised = history.promised_date
    if promised is not None:
        after_promise = promised + timedelta(weeks=rules.move_on_weeks_past_promised_date)
        if after_promise > stop:
            stop, used = after_promise, ("move_on_weeks_past_promised_date",)
    stop = calendar.on_or_after(stop)
    if today >= stop:
        return NextStep("move_on", rules=used)
    if promised is not None and promised > today:
        check_back = calendar.on_or_after(promised)
    else:
        check_back = calendar.on_or_after(today + timedelta(days=rules.on_hold_check_back_days))
        used = ("on_hold_check_back_days", *used)
    return NextStep("check_back", min(check_back, stop), stop_date=stop, rules=used)


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
