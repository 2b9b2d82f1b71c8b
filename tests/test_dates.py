"""Dates as the user says them (issue 16): read with how precisely they were said, in
the past or ahead, in the user's date order, and said back no more precisely."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from actions.runtime import date_order
from actions.situation_details import extract_details
from actions.timeline import (
    DAY,
    DAY_FIRST,
    MONTH,
    MONTH_FIRST,
    VAGUE,
    WEEK,
    BusinessCalendar,
    History,
    NextStep,
    SaidDate,
    TimingRules,
    decide_next_step,
    find_date,
    parse_past_date,
    read_date,
    read_promise,
    say_by,
    say_when,
)

# Thursday 3 December 2026, noon.
NOW = datetime(2026, 12, 3, 12, 0)
TODAY = NOW.date()
US = BusinessCalendar("US")


@pytest.mark.parametrize(
    ("phrase", "prefer", "expected"),
    [
        # vague and long-ago dates (a "last mon..." is no Monday)
        ("last month", "past", SaidDate(date(2026, 11, 3), MONTH)),
        ("three months ago", "past", SaidDate(date(2026, 9, 3), MONTH)),
        ("3 months ago", "past", SaidDate(date(2026, 9, 3), MONTH)),
        ("in November", "past", SaidDate(date(2026, 11, 15), MONTH)),
        ("last week", "past", SaidDate(date(2026, 11, 26), WEEK)),
        ("two weeks ago", "past", SaidDate(date(2026, 11, 19), WEEK)),
        ("a few weeks ago", "past", SaidDate(date(2026, 11, 12), VAGUE, "a few weeks ago")),
        (
            "a couple of weeks back",
            "past",
            SaidDate(date(2026, 11, 19), VAGUE, "a couple of weeks back"),
        ),
        ("yesterday", "past", SaidDate(date(2026, 12, 2))),
        ("last Monday", "past", SaidDate(date(2026, 11, 30))),
        # a day without a year: the latest one not ahead for a past event...
        ("December 10", "past", SaidDate(date(2025, 12, 10))),
        ("Dec 10", "past", SaidDate(date(2025, 12, 10))),
        ("10 December", "past", SaidDate(date(2025, 12, 10))),
        ("November 30", "past", SaidDate(date(2026, 11, 30))),
        ("December 3", "past", SaidDate(date(2026, 12, 3))),
        # ...and the next one for what is still to come
        ("December 10", "future", SaidDate(date(2026, 12, 10))),
        ("Dec 10", "future", SaidDate(date(2026, 12, 10))),
        ("10 December", "future", SaidDate(date(2026, 12, 10))),
        ("December 3", "future", SaidDate(date(2026, 12, 3))),  # today is still ahead
        ("Thursday", "future", SaidDate(date(2026, 12, 10))),
        # a phrase that says which way it points is read that way, whatever is preferred
        ("tomorrow", "past", SaidDate(date(2026, 12, 4))),
        ("next Tuesday", "past", SaidDate(date(2026, 12, 8))),
        ("last week", "future", SaidDate(date(2026, 11, 26), WEEK)),
        ("2026-11-10", "past", SaidDate(date(2026, 11, 10))),
        ("banana", "past", None),
        ("12", "past", None),
    ],
)
def test_read_date(phrase: str, prefer: str, expected: SaidDate | None) -> None:
    assert read_date(phrase, NOW, prefer) == expected


@pytest.mark.parametrize(
    ("phrase", "order", "expected"),
    [
        ("10/11", MONTH_FIRST, date(2026, 10, 11)),
        ("10/11", DAY_FIRST, date(2026, 11, 10)),
        ("20/11", DAY_FIRST, date(2026, 11, 20)),
        ("11/20", MONTH_FIRST, date(2026, 11, 20)),
        ("12.04.2024", DAY_FIRST, date(2024, 4, 12)),
        ("2026-11-10", DAY_FIRST, date(2026, 11, 10)),  # ISO dates are never swapped
    ],
)
def test_numeric_dates_follow_the_users_date_order(phrase: str, order: str, expected: date) -> None:
    assert parse_past_date(phrase, NOW, order) == expected


@pytest.mark.parametrize(
    ("locale", "order"),
    [
        (None, MONTH_FIRST),
        ("", MONTH_FIRST),
        ("en-US", MONTH_FIRST),
        ("en_US", MONTH_FIRST),
        ("en", MONTH_FIRST),
        ("en-GB", DAY_FIRST),
        ("en-AU", DAY_FIRST),
        ("de-DE", DAY_FIRST),
        ("fr", DAY_FIRST),
    ],
)
def test_date_order_of_a_locale(locale: str | None, order: str) -> None:
    assert date_order(locale) == order


def test_a_whole_sentence_is_searched_for_its_date() -> None:
    assert find_date("I interviewed last month", NOW) == SaidDate(date(2026, 11, 3), MONTH)
    assert find_date("i had the interview three months ago", NOW) == SaidDate(
        date(2026, 9, 3), MONTH
    )
    assert find_date("ok thanks", NOW) is None


# Said on Thursday 3 December 2026, with US holidays.
@pytest.mark.parametrize(
    ("phrase", "expected", "said_back"),
    [
        ("by the end of next week", SaidDate(date(2026, 12, 11), WEEK), "by the end of next week"),
        ("by the end of the week", SaidDate(date(2026, 12, 4), WEEK), "by the end of this week"),
        ("next week", SaidDate(date(2026, 12, 11), WEEK), "by the end of next week"),
        ("until next month", SaidDate(date(2027, 1, 1), MONTH), "in January 2027"),
        ("until January", SaidDate(date(2027, 1, 1), MONTH), "in January 2027"),
        ("by the end of the month", SaidDate(date(2026, 12, 31), MONTH), "by the end of December"),
        # the first business day after Christmas and New Year (2 and 3 January are a weekend)
        (
            "after the holidays",
            SaidDate(date(2027, 1, 4), VAGUE, "after the holidays"),
            "after the holidays",
        ),
        (
            "in the new year",
            SaidDate(date(2027, 1, 4), VAGUE, "in the new year"),
            "in the new year",
        ),
        (
            "early next week",
            SaidDate(date(2026, 12, 8), VAGUE, "early next week"),
            "early next week",
        ),
        ("end of day Friday", SaidDate(date(2026, 12, 4)), "by Friday 4 December"),
        ("by EOD friday", SaidDate(date(2026, 12, 4)), "by Friday 4 December"),
        # two business days: the weekend does not count
        ("within 48 hours", SaidDate(date(2026, 12, 7)), "by Monday 7 December"),
        (
            "in a couple of weeks",
            SaidDate(date(2026, 12, 17), VAGUE, "in a couple of weeks"),
            "in a couple of weeks",
        ),
        ("mid-December", SaidDate(date(2026, 12, 15), VAGUE, "in mid-December"), "in mid-December"),
        (
            "by mid december",
            SaidDate(date(2026, 12, 15), VAGUE, "in mid-December"),
            "in mid-December",
        ),
        ("late January", SaidDate(date(2027, 1, 25), VAGUE, "in late January"), "in late January"),
        ("within two weeks", SaidDate(date(2026, 12, 17)), "by Thursday 17 December"),
        ("by Friday", SaidDate(date(2026, 12, 4)), "by Friday 4 December"),
        ("by December 10", SaidDate(date(2026, 12, 10)), "by Thursday 10 December"),
        ("December 10", SaidDate(date(2026, 12, 10)), "by Thursday 10 December"),
        ("by the 15th", SaidDate(date(2026, 12, 15)), "by Tuesday 15 December"),
        ("soon", None, None),
        ("by yesterday", None, None),
    ],
)
def test_promise_phrases(phrase: str, expected: SaidDate | None, said_back: str | None) -> None:
    said = read_promise(phrase, TODAY, US)
    assert said == expected
    if said is not None:
        assert say_by(said, TODAY, US) == said_back


def test_after_the_holidays_at_another_time_of_year_is_three_weeks_on() -> None:
    # in June we cannot know which holidays: three weeks, on a business day
    said = read_promise("after the holidays", date(2026, 6, 10), US)
    assert said == SaidDate(date(2026, 7, 1), VAGUE, "after the holidays")


@pytest.mark.parametrize(
    ("said", "today", "expected"),
    [
        (SaidDate(date(2026, 11, 26)), TODAY, "on Thursday 26 November"),
        (SaidDate(date(2026, 11, 26), WEEK), TODAY, "last week"),
        (SaidDate(date(2026, 11, 19), WEEK), TODAY, "the week before last"),
        (SaidDate(date(2026, 11, 5), WEEK), TODAY, "in the week of 2 November"),
        (SaidDate(date(2026, 11, 3), MONTH), TODAY, "in November"),
        (SaidDate(date(2025, 11, 3), MONTH), TODAY, "in November 2025"),
        (SaidDate(date(2026, 11, 12), VAGUE, "a few weeks ago"), TODAY, "a few weeks ago"),
        # a week on, "a few weeks ago" would name another day: said at week precision
        (
            SaidDate(date(2026, 11, 12), VAGUE, "a few weeks ago"),
            date(2026, 12, 10),
            "in the week of 9 November",
        ),
        # a week on, last week is the week before last
        (SaidDate(date(2026, 11, 26), WEEK), date(2026, 12, 10), "the week before last"),
    ],
)
def test_a_date_is_said_back_no_more_precisely_than_it_was_said(
    said: SaidDate, today: date, expected: str
) -> None:
    assert say_when(said, today) == expected


def test_rough_promise_words_that_no_longer_hold_are_said_at_week_precision() -> None:
    said = read_promise("in a couple of weeks", TODAY, US)
    assert said is not None
    assert say_by(said, date(2026, 12, 7), US) == "by the end of next week"


@pytest.mark.parametrize(
    "said",
    [
        SaidDate(date(2026, 11, 26)),
        SaidDate(date(2026, 11, 26), WEEK),
        SaidDate(date(2026, 11, 3), MONTH),
        SaidDate(date(2027, 1, 4), VAGUE, "after the holidays"),
    ],
)
def test_a_date_survives_its_slot(said: SaidDate) -> None:
    assert SaidDate.from_slot(said.to_slot()) == said


def test_slots_stored_before_keep_being_read() -> None:
    # a day said exactly is still a plain ISO date, as every stored value was
    assert SaidDate(date(2026, 11, 26)).to_slot() == "2026-11-26"
    assert SaidDate.from_slot("2026-11-26") == SaidDate(date(2026, 11, 26), DAY)
    assert SaidDate(date(2026, 11, 26), WEEK).to_slot() == "2026-11-26|week"
    for nonsense in (None, "", "soon", 3, "2026-13-01|week"):
        assert SaidDate.from_slot(nonsense) is None
    assert SaidDate.from_slot("2026-11-26|fortnightly") == SaidDate(date(2026, 11, 26))


# The ladder with the dates people give (today Thursday 3 December 2026, US holidays).
@pytest.mark.parametrize(
    ("phrase", "step"),
    [
        # a long silence past every usual timeline: one last note, then move on
        ("three months ago", "move_on"),
        ("two months ago", "move_on"),
        # a month ago: follow up now, not "wait until next week"
        ("last month", "follow_up"),
        ("a few weeks ago", "follow_up"),
        ("last week", "follow_up"),
        ("yesterday", "wait"),
    ],
)
def test_the_ladder_step_for_a_date_as_people_say_it(phrase: str, step: str) -> None:
    said = read_date(phrase, NOW)
    assert said is not None
    history = History(interview_date=said.day)
    assert decide_next_step("no_callback", TODAY, history, TimingRules(), US).step == step


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        # first told today: check back in two weeks; six weeks on hold without news, stop
        (
            History(on_hold_since=TODAY),
            NextStep("check_back", date(2026, 12, 17), stop_date=date(2027, 1, 14)),
        ),
        # told four weeks ago: the two weeks still fit before the stop date
        (
            History(on_hold_since=date(2026, 11, 5)),
            NextStep("check_back", date(2026, 12, 17), stop_date=date(2026, 12, 17)),
        ),
        # five weeks ago: check back no later than the day to stop
        (
            History(on_hold_since=date(2026, 10, 29)),
            NextStep("check_back", date(2026, 12, 10), stop_date=date(2026, 12, 10)),
        ),
        # six weeks or more on hold without news: stop checking and move on
        (History(on_hold_since=date(2026, 10, 22)), NextStep("move_on")),
        # a restart date they named: check back then; stop three weeks after it
        (
            History(on_hold_since=TODAY, promised_date=date(2027, 1, 4)),
            NextStep("check_back", date(2027, 1, 4), stop_date=date(2027, 1, 25)),
        ),
    ],
)
def test_on_hold_has_a_day_to_check_back_and_a_day_to_stop(
    history: History, expected: NextStep
) -> None:
    assert decide_next_step("on_hold", TODAY, history, TimingRules(), US) == expected


def details(text: str, *dates: str, order: str = MONTH_FIRST) -> Any:
    entities = []
    for value in dates:
        start = text.index(value)
        entities.append(
            {"entity": "DATE", "value": value, "start": start, "end": start + len(value)}
        )
    return extract_details({"text": text, "entities": entities}, NOW, [], date_order=order)


def test_a_future_date_is_an_interview_to_come_or_a_promise_never_lost() -> None:
    upcoming = details("my interview is on December 10", "December 10")
    assert upcoming.interview_date == SaidDate(date(2026, 12, 10))
    assert upcoming.promise is None
    promise = details("they'll decide December 10", "December 10")
    assert promise.interview_date is None
    assert promise.promise == "December 10"
    past = details("I interviewed on December 10", "December 10")
    assert past.interview_date == SaidDate(date(2025, 12, 10))
    tomorrow = details("the interview is tomorrow", "tomorrow")
    assert tomorrow.interview_date == SaidDate(date(2026, 12, 4))
    news = details("they will let me know next week", "next week")
    assert (news.interview_date, news.promise) == (None, "next week")
    restart = details("they said they'd restart in two weeks", "two weeks")
    assert (restart.interview_date, restart.promise) == (None, "in two weeks")


def test_a_promise_made_at_the_interview_is_marked() -> None:
    text = "they said at the interview they'd decide within two weeks"
    assert details(text, "two weeks").promise_at_interview
    assert not details("they said they'd decide within two weeks", "two weeks").promise_at_interview


def test_an_answer_to_when_was_it_is_searched_for_its_date() -> None:
    found = extract_details(
        {"text": "I interviewed last month", "entities": []}, NOW, [], whole_text_is_date=True
    )
    assert found.interview_date == SaidDate(date(2026, 11, 3), MONTH)


def test_the_users_date_order_reads_numeric_dates() -> None:
    text = "my interview was on 10/11"
    assert details(text, "10/11").interview_date == SaidDate(date(2026, 10, 11))
    assert details(text, "10/11", order=DAY_FIRST).interview_date == SaidDate(date(2026, 11, 10))


def test_each_date_is_read_with_the_words_of_its_own_part_of_the_message() -> None:
    both = details(
        "I interviewed Thursday and they'll let me know next week", "Thursday", "next week"
    )
    assert both.interview_date == SaidDate(date(2026, 11, 26))
    assert both.promise == "next week"
    waiting = details("I interviewed on Thursday, I'll wait", "Thursday")
    assert waiting.interview_date == SaidDate(date(2026, 11, 26))
    news = details("the interview was great and they'll let me know December 10", "December 10")
    assert (news.interview_date, news.promise) == (None, "December 10")
    contracted = details("my interview's on December 10", "December 10")
    assert contracted.interview_date == SaidDate(date(2026, 12, 10))
