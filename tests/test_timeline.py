"""Table-driven tests of the pure date and next-step logic."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from actions.timeline import (
    NextStep,
    add_business_days,
    decide_next_step,
    format_day,
    parse_past_date,
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
    assert add_business_days(start, count) == expected


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
    assert decide_next_step(situation, TODAY, interview, 5) == expected


def test_on_hold_check_back_avoids_weekends() -> None:
    friday = date(2026, 11, 20)  # two weeks on is a Friday: kept
    assert decide_next_step("on_hold", friday, None, 5).date == date(2026, 12, 4)
    saturday = date(2026, 11, 21)  # two weeks on is a Saturday: moved to Monday
    assert decide_next_step("on_hold", saturday, None, 5).date == date(2026, 12, 7)


def test_decide_next_step_rejects_unknown_situation() -> None:
    with pytest.raises(ValueError, match="unknown situation"):
        decide_next_step("greet", TODAY, None, 5)


def test_format_day() -> None:
    assert format_day(date(2026, 12, 1), TODAY) == "Tuesday 1 December"
    assert format_day(date(2027, 1, 4), TODAY) == "Monday 4 January 2027"
