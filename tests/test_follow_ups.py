"""Reading "I already followed up" from the user's words, table-driven."""

from __future__ import annotations

import pytest

from actions.follow_ups import find_follow_up


@pytest.mark.parametrize(
    ("text", "count", "one_more"),
    [
        ("I emailed them last week and still nothing", 1, False),
        ("I followed up twice and they never answered", 2, False),
        ("i already called the recruiter on monday, no reply", 1, False),
        ("I've sent two emails, nothing back", 2, False),
        ("I have sent them a follow-up email", 1, False),
        ("I followed up again today", 1, True),
        ("I sent another email yesterday", 1, True),
        ("I've chased them three times", 3, False),
        ("we followed up a couple of times", 2, False),
        ("I reached out to Sarah on LinkedIn", 1, False),
        ("I wrote to HR a second time", 2, False),
        ("I've already checked in with them", 1, False),
    ],
)
def test_follow_ups_the_user_reports(text: str, count: int, one_more: bool) -> None:
    mention = find_follow_up(text)
    assert mention is not None
    assert (mention.count, mention.one_more) == (count, one_more)


@pytest.mark.parametrize(
    "text",
    [
        "should I email them?",
        "I haven't followed up yet",
        "I have not called them",
        "when should I follow up",
        "they called me back last week",  # the company called, not the user
        "the recruiter emailed me a rejection",
        "I interviewed two weeks ago and heard nothing",
        "",
    ],
)
def test_not_a_follow_up(text: str) -> None:
    assert find_follow_up(text) is None


@pytest.mark.parametrize(
    ("text", "before", "total"),
    [
        ("I emailed them", 0, 1),
        ("I emailed them", 1, 1),  # the same follow-up told again
        ("I followed up twice", 0, 2),
        ("I followed up twice", 1, 2),
        ("I followed up again", 0, 2),  # "again" implies an earlier one
        ("I followed up again", 1, 2),
        ("I followed up again", 2, 3),
        ("I've chased them three times", 0, 3),
    ],
)
def test_total_follow_ups_across_the_conversation(text: str, before: int, total: int) -> None:
    mention = find_follow_up(text)
    assert mention is not None
    assert mention.total(before) == total
