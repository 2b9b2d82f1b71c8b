"""Table-driven tests of the pure date and next-step logic."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from actions.timeline import (
    WEEKENDS_ONLY,
    BusinessCalendar,
    History,
    NextStep,
    TimingRules,
    UnknownCountryError,
    decide_next_step,
    format_day,
    parse_past_date,
    parse_promised_date,
)

# Wednesday 25 November 2026, noon.
NOW = datetime(2026, 11, 25, 12, 0)
TODAY = NOW.date()


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("2 days ago", date(2026, 11, 23)),
        ("three weeks ago", date(2026, 11, 4)),
        ("last Thursday", date(2026, 11, 19)),
        ("thursday", date(2026, 11, 19)),
        ("last tues", date(2026, 11, 24)),
        ("Monday morning", date(2026, 11, 23)),
        ("last wednesday", date(2026, 11, 18)),  # today is Wednesday: a week ago
        ("yesterday", date(2026, 11, 24)),
        ("yday", date(2026, 11, 24)),
        ("this morning", TODAY),
        ("on the 3rd", date(2026, 11, 3)),
        ("the 30th", date(2026, 10, 30)),  # the 30th of this month is still ahead
        ("a month ago", date(2026, 10, 25)),
        ("a couple of days ago", date(2026, 11, 23)),
        ("couple weeks ago", date(2026, 11, 11)),
        ("a fortnight ago", date(2026, 11, 11)),
        ("3 wks ago", date(2026, 11, 4)),
        ("it's been two weeks", date(2026, 11, 11)),
        ("before 2 weeks", date(2026, 11, 11)),
        ("since monday", date(2026, 11, 23)),
        ("about 10 days ago i think", date(2026, 11, 15)),
        ("Nov 12", date(2026, 11, 12)),
        ("on Oct 28", date(2026, 10, 28)),
    ],
)
def test_parse_past_date(phrase: str, expected: date) -> None:
    assert parse_past_date(phrase, NOW) == expected


@pytest.mark.parametrize("phrase", ["tomorrow", "next week", "in two weeks", "", "banana", "!!!"])
def test_parse_past_date_rejects_future_and_nonsense(phrase: str) -> None:
    assert parse_past_date(phrase, NOW) is None


@pytest.mark.parametrize(
    ("start", "count", "expected"),
    [
        (date(2026, 11, 20), 1, date(2026, 11, 23)),  # Friday + 1 -> Monday
        (date(2026, 11, 16), 5, date(2026, 11, 23)),  # Monday + 5 -> next Monday
        (date(2026, 11, 21), 1, date(2026, 11, 23)),  # Saturday + 1 -> Monday
        (date(2026, 11, 25), 0, date(2026, 11, 25)),
    ],
)
def test_add_business_days(start: date, count: int, expected: date) -> None:
    assert WEEKENDS_ONLY.add_business_days(start, count) == expected


US = BusinessCalendar("US")
GB = BusinessCalendar("GB")


@pytest.mark.parametrize(
    ("calendar", "start", "count", "expected"),
    [
        # Thursday 26 November 2026 is Thanksgiving in the US, not in the UK.
        (US, date(2026, 11, 25), 1, date(2026, 11, 27)),
        (GB, date(2026, 11, 25), 1, date(2026, 11, 26)),
        # Christmas (Friday) and, in the UK, Boxing Day observed on Monday 28 December.
        (US, date(2026, 12, 24), 1, date(2026, 12, 28)),
        (GB, date(2026, 12, 24), 1, date(2026, 12, 29)),
        # Interview Thursday 19 November + 5 business days, Thanksgiving skipped.
        (US, date(2026, 11, 19), 5, date(2026, 11, 27)),
        (WEEKENDS_ONLY, date(2026, 11, 19), 5, date(2026, 11, 26)),
    ],
)
def test_business_days_skip_public_holidays(
    calendar: BusinessCalendar, start: date, count: int, expected: date
) -> None:
    assert calendar.add_business_days(start, count) == expected


def test_on_or_after_moves_off_holidays_and_weekends() -> None:
    assert US.on_or_after(date(2026, 11, 26)) == date(2026, 11, 27)  # Thanksgiving
    assert US.on_or_after(date(2026, 12, 26)) == date(2026, 12, 28)  # Saturday
    assert US.on_or_after(date(2026, 12, 2)) == date(2026, 12, 2)


def test_unknown_country_is_a_clear_error() -> None:
    with pytest.raises(UnknownCountryError, match="unknown holiday country 'XX'"):
        BusinessCalendar("XX")


@pytest.mark.parametrize(
    ("situation", "interview", "expected"),
    [
        # Interview Monday 23 Nov: 2 business days ago, wait until Monday 30 Nov.
        ("no_callback", date(2026, 11, 23), NextStep("wait", date(2026, 11, 30))),
        # Interview Wednesday 18 Nov: exactly 5 business days ago, follow up from today.
        ("no_callback", date(2026, 11, 18), NextStep("follow_up", date(2026, 11, 25))),
        # Interview Thursday 19 Nov: 4 business days, one more to go (the weekend counts for 0).
        ("no_callback", date(2026, 11, 19), NextStep("wait", date(2026, 11, 26))),
        ("no_callback", date(2026, 11, 4), NextStep("follow_up", date(2026, 11, 11))),
        ("no_callback", None, NextStep("wait")),
        ("ask_contact_recruiter", date(2026, 11, 4), NextStep("follow_up", date(2026, 11, 11))),
        ("rejected", None, NextStep("ask_feedback", date(2026, 11, 27))),
        ("skills_gap", date(2026, 11, 4), NextStep("ask_feedback", date(2026, 11, 27))),
        # Two weeks on is Wednesday 9 December, a business day.
        ("on_hold", None, NextStep("check_back", date(2026, 12, 9))),
        ("vacancy_cancelled", None, NextStep("keep_searching", date(2026, 12, 2))),
        ("feeling_discouraged", None, NextStep("take_care", date(2026, 11, 26))),
        ("ask_interview_etiquette", None, NextStep("prepare")),
    ],
)
def test_decide_next_step(situation: str, interview: date | None, expected: NextStep) -> None:
    step = decide_next_step(situation, TODAY, History(interview_date=interview))
    assert (step.step, step.date) == (expected.step, expected.date)


def test_on_hold_check_back_avoids_weekends() -> None:
    friday = date(2026, 11, 20)  # two weeks on is a Friday: kept
    assert decide_next_step("on_hold", friday, History()).date == date(2026, 12, 4)
    saturday = date(2026, 11, 21)  # two weeks on is a Saturday: moved to Monday
    assert decide_next_step("on_hold", saturday, History()).date == date(2026, 12, 7)


def test_decide_next_step_rejects_unknown_situation() -> None:
    with pytest.raises(ValueError, match="unknown situation"):
        decide_next_step("greet", TODAY, History())


# The follow-up ladder, with today Wednesday 25 November 2026 and US holidays.
@pytest.mark.parametrize(
    ("history", "expected"),
    [
        # Interview yesterday: wait 5 business days (Thanksgiving skipped); thank-you
        # note still timely today.
        (
            History(interview_date=date(2026, 11, 24)),
            NextStep("wait", date(2026, 12, 2), thank_you_by=date(2026, 11, 25)),
        ),
        # Interview last week: the thank-you window has closed.
        (History(interview_date=date(2026, 11, 19)), NextStep("wait", date(2026, 11, 27))),
        (History(interview_date=date(2026, 11, 16)), NextStep("follow_up", date(2026, 11, 23))),
        # A decision date given: wait until 2 business days after it, however long
        # ago the interview was.
        (
            History(interview_date=date(2026, 11, 2), promised_date=date(2026, 11, 24)),
            NextStep("wait", date(2026, 11, 27)),
        ),
        (
            History(promised_date=date(2026, 11, 18)),
            NextStep("follow_up", date(2026, 11, 20)),
        ),
        # Already followed up once: again a week after the first.
        (
            History(
                interview_date=date(2026, 11, 2),
                follow_ups_done=1,
                last_follow_up=date(2026, 11, 23),
            ),
            NextStep("follow_up_again", date(2026, 11, 30)),
        ),
        # First follow-up long ago: again now (today), not in the past.
        (
            History(follow_ups_done=1, last_follow_up=date(2026, 11, 2)),
            NextStep("follow_up_again", date(2026, 11, 25)),
        ),
        # First follow-up on an unknown day: a week from today.
        (History(follow_ups_done=1), NextStep("follow_up_again", date(2026, 12, 2))),
        # Two unanswered follow-ups, or weeks past the promised date: move on.
        (History(follow_ups_done=2), NextStep("move_on")),
        # ...but not the day after sending the last one: a week for them to answer first
        (
            History(follow_ups_done=3, last_follow_up=date(2026, 11, 24)),
            NextStep("wait_for_reply", date(2026, 12, 1)),
        ),
        (
            History(follow_ups_done=2, last_follow_up=date(2026, 11, 18)),
            NextStep("move_on"),
        ),
        # two follow-ups sent the day after yesterday's interview are not "move on"
        (
            History(interview_date=date(2026, 11, 24), follow_ups_done=2),
            NextStep("wait_for_reply", date(2026, 12, 1)),
        ),
        # a follow-up is never advised before the date they promised
        (
            History(
                follow_ups_done=1,
                last_follow_up=date(2026, 11, 16),
                promised_date=date(2026, 12, 4),
            ),
            NextStep("follow_up_again", date(2026, 12, 8)),
        ),
        (
            History(
                follow_ups_done=2,
                last_follow_up=date(2026, 11, 10),
                promised_date=date(2026, 12, 4),
            ),
            NextStep("follow_up_again", date(2026, 12, 8)),
        ),
        # a silence long past every usual timeline: one last note, then move on
        (History(interview_date=date(2026, 8, 25)), NextStep("move_on")),
        (
            History(
                interview_date=date(2026, 8, 25), follow_ups_done=1, last_follow_up=date(2026, 9, 1)
            ),
            NextStep("move_on"),
        ),
        # six weeks exactly is still within it
        (History(interview_date=date(2026, 10, 14)), NextStep("follow_up", date(2026, 10, 21))),
        (History(promised_date=date(2026, 11, 3)), NextStep("move_on")),
        # Three weeks past the promise exactly: one last follow-up is still fine.
        (History(promised_date=date(2026, 11, 4)), NextStep("follow_up", date(2026, 11, 6))),
        (History(), NextStep("wait")),
    ],
)
def test_follow_up_ladder(history: History, expected: NextStep) -> None:
    assert decide_next_step("no_callback", TODAY, history, TimingRules(), US) == expected


def test_on_hold_checks_back_on_the_date_they_named() -> None:
    named = History(promised_date=date(2027, 1, 4))
    assert decide_next_step("on_hold", TODAY, named, TimingRules(), US) == NextStep(
        # with no news three weeks past the day they named, stop checking
        "check_back",
        date(2027, 1, 4),
        stop_date=date(2027, 1, 25),
    )
    # A named date that is a holiday moves to the next business day.
    new_year = History(promised_date=date(2027, 1, 1))
    assert decide_next_step("on_hold", TODAY, new_year, TimingRules(), US).date == date(2027, 1, 4)
    # A named date already past: the usual two weeks from today.
    past = History(promised_date=date(2026, 11, 20))
    assert decide_next_step("on_hold", TODAY, past, TimingRules(), US).date == date(2026, 12, 9)


def test_rules_come_from_the_arguments() -> None:
    patient = TimingRules(follow_up_after_business_days=10, follow_ups_before_moving_on=3)
    interview = History(interview_date=date(2026, 11, 16))
    assert decide_next_step("no_callback", TODAY, interview, patient).step == "wait"
    assert decide_next_step("no_callback", TODAY, History(follow_ups_done=2), patient).step == (
        "follow_up_again"
    )
    feedback = decide_next_step("rejected", TODAY, History(), TimingRules(), US)
    assert feedback == NextStep("ask_feedback", date(2026, 11, 30))  # Thanksgiving skipped


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("within two weeks", date(2026, 12, 9)),
        ("they said they'd decide within 2 weeks", date(2026, 12, 9)),
        ("they said they would get back to me within a week", date(2026, 12, 2)),
        ("by Friday", date(2026, 11, 27)),
        ("they promised by wednesday", date(2026, 12, 2)),  # said on a Wednesday: next one
        ("by the end of the week", date(2026, 11, 27)),
        ("end of the month", date(2026, 11, 30)),
        ("next week", date(2026, 12, 4)),
        ("in 10 business days", date(2026, 12, 10)),  # Thanksgiving skipped
        ("in a couple of days", date(2026, 11, 27)),
        ("in a month", date(2026, 12, 25)),
        ("by the 3rd", date(2026, 12, 3)),
        ("by December 4", date(2026, 12, 4)),
        ("by Dec 4th", date(2026, 12, 4)),
        ("until january", date(2027, 1, 1)),
        ("by yesterday", None),  # not a promise about the future
        ("soon", None),
        ("", None),
    ],
)
def test_promised_dates(phrase: str, expected: date | None) -> None:
    assert parse_promised_date(phrase, TODAY, US) == expected


def test_format_day() -> None:
    assert format_day(date(2026, 12, 1), TODAY) == "Tuesday 1 December"
    assert format_day(date(2027, 1, 4), TODAY) == "Monday 4 January 2027"


@pytest.mark.parametrize("number", ["1", "12", "2024"])
def test_a_bare_number_is_not_a_date(number: str) -> None:
    assert parse_past_date(number, datetime(2026, 11, 26, 12, tzinfo=timezone.utc)) is None
