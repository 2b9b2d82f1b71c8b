"""The coaching action on real rasa-sdk Tracker objects: returned events and sent messages."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.coaching import ActionCoach
from actions.explaining import ActionExplain
from actions.knowledge import SITUATIONS, Knowledge
from actions.runtime import knowledge_cache
from actions.wording import render
from tests.support.trackers import entity, make_tracker, slots_of


@pytest.fixture(scope="module")
def knowledge() -> Knowledge:
    return knowledge_cache().get()


async def run_coach(tracker: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = await ActionCoach().run(dispatcher, tracker, {})
    return events, dispatcher.messages


def words(messages: list[dict[str, Any]]) -> int:
    return sum(len(str(m.get("text") or "").split()) for m in messages)


@pytest.mark.parametrize("situation", SITUATIONS)
async def test_every_situation_is_coached_briefly_from_its_entry(
    situation: str, knowledge: Knowledge
) -> None:
    """One line that meets the feeling, then the next step with its date: at most 80
    words in at most two messages; the rest is behind buttons."""
    events, messages = await run_coach(make_tracker("something happened", situation))
    entry = knowledge.situations[situation]

    assert slots_of(events)["situation"] == situation
    assert slots_of(events)["next_step"] in entry.next_step
    assert len(messages) == 2 and words(messages) <= 80, messages
    fallbacks = {
        "company": knowledge.messages.unknown_company,
        "person": knowledge.messages.unknown_person,
        "role": knowledge.messages.unknown_role,
    }
    assert messages[0]["text"] in [render(line, {}, fallbacks) for line in entry.reassurance]
    buttons = messages[-1]["buttons"]
    payloads = [b["payload"] for b in buttons]
    assert len(payloads) <= 5  # Slack shows 5 at most
    # why, what else helps and the sources are one tap away, after the offers
    assert payloads[-3:] == [
        '/ask_more{"detail":"reasons"}',
        '/ask_more{"detail":"guidance"}',
        '/ask_more{"detail":"sources"}',
    ]
    assert all(len(p.encode()) <= 64 for p in payloads)  # Telegram's limit
    assert "{" not in messages[-1]["text"], "a placeholder was left unfilled"


async def explain(detail: str, slots: dict[str, Any]) -> list[dict[str, Any]]:
    tracker = make_tracker("why?", "ask_more", [{"entity": "detail", "value": detail}], slots)
    dispatcher = CollectingDispatcher()
    assert await ActionExplain().run(dispatcher, tracker, {}) == []
    return dispatcher.messages


@pytest.mark.parametrize("situation", SITUATIONS)
async def test_the_rest_is_one_tap_away(situation: str, knowledge: Knowledge) -> None:
    entry = knowledge.situations[situation]
    fallbacks = {
        "company": knowledge.messages.unknown_company,
        "person": knowledge.messages.unknown_person,
        "role": knowledge.messages.unknown_role,
    }
    for detail, items, heading in (
        ("reasons", entry.reasons, entry.reasons_heading or knowledge.messages.reasons_heading),
        ("guidance", entry.guidance, entry.guidance_heading or knowledge.messages.guidance_heading),
    ):
        [message] = await explain(detail, {"situation": situation})
        assert message["text"].startswith(heading)
        shown = message["text"]
        assert sum(render(item.text, {}, fallbacks) in shown for item in items) == 2
        assert [b["payload"] for b in message["buttons"]] == [
            *(
                f'/ask_more{{"detail":"{other}"}}'
                for other in ("reasons", "guidance", "sources")
                if other != detail
            ),
            *(f"/{b.intent}" for b in entry.buttons),
        ][:5]
    [sources] = await explain("sources", {"situation": situation})
    for fact in {f for item in entry.reasons + entry.guidance for f in item.facts}:
        source = knowledge.sources[knowledge.facts[fact].source]
        assert source.name in sources["text"]
        if source.year:
            assert f"{source.name} ({source.year})" in sources["text"]


async def test_more_without_a_situation_asks_what_happened(knowledge: Knowledge) -> None:
    [message] = await explain("reasons", {})
    assert message["text"] == knowledge.messages.ask_situation


@pytest.mark.parametrize("known", [False, True], ids=["nothing known", "names known"])
@pytest.mark.parametrize("situation", SITUATIONS)
async def test_no_placeholder_reaches_the_user_in_any_rotation(
    situation: str, known: bool, knowledge: Knowledge
) -> None:
    """Every reassurance, reason and guidance item, in every rotation, with the names
    known and unknown, and each next step: rendered, never a brace."""
    entry = knowledge.situations[situation]
    turns = max(len(entry.reasons), len(entry.guidance))
    slots = (
        {"company": "Brightwave", "person": "Dana Whitfield", "role": "analyst"} if known else {}
    )
    seen: set[str] = set()
    for turn in range(turns):
        coached = {**slots, "situation": situation, "times_coached": {situation: turn + 1}}
        replies = [*await explain("reasons", coached), *await explain("guidance", coached)]
        _, coaching = await run_coach(make_tracker("something happened", situation, slots=slots))
        for message in [*replies, *coaching]:
            text = str(message.get("text") or "")
            assert "{" not in text and "}" not in text, text
            seen.add(text)
    for sender in range(40):  # different people get different opening lines
        tracker = make_tracker("something happened", situation, slots=slots)
        tracker.sender_id = f"person-{sender}"
        _, coaching = await run_coach(tracker)
        text = coaching[0]["text"]
        assert "{" not in text and "}" not in text, text
        seen.add(text)
    every_item = [*entry.reassurance, *(i.text for i in entry.reasons + entry.guidance)]
    # each item was shown in some rotation
    for item in every_item:
        start = item.split("{", 1)[0][:30]
        assert any(start in text for text in seen), item


@pytest.mark.parametrize(
    ("situation", "step"),
    [
        ("rejected", "ask_feedback"),
        ("skills_gap", "ask_feedback"),
        ("on_hold", "check_back"),
        ("vacancy_cancelled", "keep_searching"),
        ("ask_interview_etiquette", "prepare"),
        ("feeling_discouraged", "take_care"),
    ],
)
async def test_next_step_of_each_situation(situation: str, step: str) -> None:
    events, _ = await run_coach(make_tracker("text", situation))
    assert slots_of(events)["next_step"] == step


async def test_a_time_that_spacy_reads_into_the_company_name_is_the_interview_date() -> None:
    # en_core_web_md tags "Acme Corp 9 days ago" as one ORG in this sentence
    text = "I interviewed at Acme Corp 9 days ago and heard nothing"
    tracker = make_tracker(text, "no_callback", [entity("ORG", "Acme Corp 9 days ago", text)])
    events, _ = await run_coach(tracker)
    slots = slots_of(events)
    assert slots["company"] == "Acme Corp"
    assert slots["days_since_interview"] == 9.0
    assert slots["next_step"] == "follow_up"


async def test_no_callback_recent_interview_means_wait_with_a_date() -> None:
    text = "I interviewed at Acme with Sarah Jones 2 days ago for the data analyst job and nothing"
    tracker = make_tracker(
        text,
        "no_callback",
        [
            entity("ORG", "Acme", text),
            entity("PERSON", "Sarah Jones", text),
            entity("DATE", "2 days ago", text),
            entity("role", "data analyst", text),
        ],
    )
    events, messages = await run_coach(tracker)

    assert slots_of(events) == {
        "company": "Acme",
        "person": "Sarah Jones",
        "role": "data analyst",
        "interview_date": "2026-11-23",
        "days_since_interview": 2.0,
        "promised_date": None,
        "follow_ups_done": 0.0,
        "last_follow_up": None,
        "situation": "no_callback",
        "next_step": "wait",
        "next_step_rules": ["follow_up_after_business_days"],
        "offered_reminder": "2026-12-01",
        "times_coached": {"no_callback": 1},
    }
    # Monday 23 November + 5 business days, Thanksgiving (26th) skipped.
    assert "Tuesday 1 December" in messages[-1]["text"]
    payloads = [b["payload"] for b in messages[-1]["buttons"]]
    assert payloads[:2] == [
        '/set_reminder{"reminder_date":"2026-12-01"}',
        '/ask_contact_recruiter{"draft_kind":"follow_up"}',
    ]
    assert "Noted under Acme (data analyst)" in messages[-1]["text"]


async def test_an_interview_yesterday_brings_the_thank_you_note(knowledge: Knowledge) -> None:
    text = "interviewed yesterday with Sarah Jones, no news yet"
    tracker = make_tracker(
        text,
        "no_callback",
        [entity("DATE", "yesterday", text), entity("PERSON", "Sarah Jones", text)],
    )
    events, messages = await run_coach(tracker)
    assert slots_of(events)["next_step"] == "wait"
    expected = knowledge.messages.thank_you_note.format(
        person="Sarah Jones", date="Wednesday 25 November"
    )
    assert expected in messages[-1]["text"]
    # Two days on, the moment has passed: no thank-you line.
    text = "interviewed on monday, no news yet"
    older = make_tracker(text, "no_callback", [entity("DATE", "monday", text)])
    _, messages = await run_coach(older)
    assert "thank-you" not in messages[-1]["text"].lower()
    assert "thanked" not in messages[-1]["text"]


async def test_no_callback_after_three_weeks_means_follow_up_from_a_date() -> None:
    text = "had the interview three weeks ago and they ghosted me"
    events, messages = await run_coach(
        make_tracker(text, "no_callback", [entity("DATE", "three weeks ago", text)])
    )
    assert slots_of(events)["next_step"] == "follow_up"
    assert slots_of(events)["days_since_interview"] == 21.0
    # Wednesday 4 November + 5 business days, Veterans Day (11th) skipped.
    assert "Thursday 12 November" in messages[-1]["text"]


async def test_unknown_interview_date_asks_for_it(knowledge: Knowledge) -> None:
    events, messages = await run_coach(make_tracker("they never called back", "no_callback"))
    assert slots_of(events)["next_step"] == "wait"
    assert slots_of(events)["days_since_interview"] is None
    # asked once: the step worded for an unknown day asks for it itself
    asked = knowledge.situations["no_callback"].next_step["wait_no_date"]
    assert messages[-1]["text"].startswith(asked)
    assert knowledge.messages.ask_interview_date not in messages[-1]["text"]


async def test_a_date_given_later_updates_the_next_step_without_repeating_the_coaching() -> None:
    tracker = make_tracker(
        "last thursday",
        "inform",
        slots={"situation": "no_callback", "next_step": "wait"},
    )
    events, messages = await run_coach(tracker)
    assert slots_of(events)["interview_date"] == "2026-11-19"
    assert slots_of(events)["next_step"] == "wait"
    assert len(messages) == 1
    # Five business days after Thursday 19 November, Thanksgiving (26th) skipped.
    assert "Friday 27 November" in messages[0]["text"]


async def test_a_date_without_a_situation_asks_what_happened(knowledge: Knowledge) -> None:
    events, messages = await run_coach(make_tracker("two weeks ago", "inform"))
    assert messages[0]["text"] == knowledge.messages.ask_situation
    assert messages[0]["buttons"]
    assert "situation" not in slots_of(events)
    assert slots_of(events)["days_since_interview"] == 14.0


async def test_the_same_situation_twice_is_not_told_all_over_again() -> None:
    first_events, first = await run_coach(make_tracker("no word from them", "no_callback"))
    # Rasa applies the returned slots; the action server is sent only recent events.
    _, second = await run_coach(
        make_tracker("still nothing from them", "no_callback", slots=slots_of(first_events))
    )
    # the second time, only what changed: the step, without the opening line again
    assert len(first) == 2 and len(second) == 1
    assert second[0]["text"] == first[1]["text"]


async def test_how_often_a_situation_was_coached_is_kept_in_a_slot_per_situation(
    knowledge: Knowledge,
) -> None:
    slots: dict[str, Any] = {}
    openings = []
    for situation in ("no_callback", "no_callback", "rejected", "no_callback"):
        events, messages = await run_coach(make_tracker("it happened", situation, slots=slots))
        slots.update(slots_of(events))
        openings.append(len(messages))
    assert slots["times_coached"] == {"no_callback": 3, "rejected": 1}
    # the opening line only the first time each situation comes up
    assert openings == [2, 1, 2, 1]


async def test_a_turn_that_does_not_coach_leaves_the_count_alone() -> None:
    tracker = make_tracker(
        "it was on 16 November",
        "inform",
        slots={"situation": "no_callback", "times_coached": {"no_callback": 2}},
    )
    events, _ = await run_coach(tracker)
    assert "times_coached" not in slots_of(events)


async def test_details_from_earlier_turns_are_kept() -> None:
    tracker = make_tracker(
        "they put it on hold", "on_hold", slots={"company": "Globex", "person": "Priya"}
    )
    events, _ = await run_coach(tracker)
    assert slots_of(events)["company"] == "Globex"
    assert slots_of(events)["person"] == "Priya"


async def test_names_that_are_not_employers_are_ignored() -> None:
    text = "HR at Initech said nothing since the Zoom call"
    tracker = make_tracker(
        text, "no_callback", [entity("ORG", "HR", text), entity("ORG", "Initech", text)]
    )
    events, _ = await run_coach(tracker)
    assert slots_of(events)["company"] == "Initech"


async def test_promised_dates_are_not_taken_for_the_interview_date() -> None:
    text = "they said they would decide by Friday"
    events, _ = await run_coach(make_tracker(text, "no_callback", [entity("DATE", "Friday", text)]))
    assert slots_of(events)["interview_date"] is None


# The follow-up ladder across turns (today Wednesday 25 November 2026, US holidays).
async def test_a_first_follow_up_moves_the_step_to_follow_up_again(knowledge: Knowledge) -> None:
    text = "I emailed them last week and still nothing"
    tracker = make_tracker(
        text,
        "no_callback",
        [entity("DATE", "last week", text)],
        slots={"interview_date": "2026-11-02", "situation": "no_callback"},
    )
    events, messages = await run_coach(tracker)
    slots = slots_of(events)
    assert slots["follow_ups_done"] == 1.0
    assert slots["last_follow_up"] == "2026-11-18"  # the date is the email's, not the interview's
    assert slots["interview_date"] == "2026-11-02"
    assert slots["next_step"] == "follow_up_again"
    expected = knowledge.situations["no_callback"].next_step["follow_up_again"]
    assert expected.format(date="Wednesday 25 November") in messages[-1]["text"]


async def test_a_second_follow_up_means_move_on(knowledge: Knowledge) -> None:
    tracker = make_tracker(
        "I followed up again, still nothing",
        "no_callback",
        slots={"follow_ups_done": 1.0, "last_follow_up": "2026-11-18", "situation": "no_callback"},
    )
    events, messages = await run_coach(tracker)
    assert slots_of(events)["follow_ups_done"] == 2.0
    assert slots_of(events)["next_step"] == "move_on"
    assert knowledge.situations["no_callback"].next_step["move_on"] in messages[-1]["text"]


async def test_a_promised_date_sets_when_to_follow_up() -> None:
    text = "they said they'd decide by Friday"
    tracker = make_tracker(
        text,
        "no_callback",
        [entity("DATE", "Friday", text)],
        slots={"interview_date": "2026-11-23"},
    )
    events, messages = await run_coach(tracker)
    slots = slots_of(events)
    assert slots["promised_date"] == "2026-11-27"  # the Friday after the Monday interview
    assert slots["interview_date"] == "2026-11-23"
    assert slots["next_step"] == "wait"
    # Two business days after Friday 27 November.
    assert "Friday 27 November" in messages[-1]["text"]
    assert "Tuesday 1 December" in messages[-1]["text"]


async def test_a_promise_long_past_means_move_on() -> None:
    text = "they said they'd decide within two weeks but that was two months ago"
    tracker = make_tracker(
        text,
        "no_callback",
        [entity("DATE", "two weeks", text), entity("DATE", "two months ago", text)],
    )
    events, _ = await run_coach(tracker)
    slots = slots_of(events)
    # "two months ago" was said to the month; the promise counts from that day
    assert slots["interview_date"] == "2026-09-25|month"
    assert slots["promised_date"] == "2026-10-09"
    assert slots["next_step"] == "move_on"


async def test_on_hold_until_a_named_month_checks_back_then() -> None:
    text = "the role is on hold until January"
    tracker = make_tracker(text, "on_hold", [entity("DATE", "January", text)])
    events, messages = await run_coach(tracker)
    assert slots_of(events)["promised_date"] == "2027-01-01|month"
    assert slots_of(events)["next_step"] == "check_back"
    # New Year's Day is a holiday: the first business day after it.
    assert "Monday 4 January 2027" in messages[-1]["text"]


async def test_an_unclear_message_with_a_follow_up_still_moves_the_ladder() -> None:
    text = "I followed up again today"
    tracker = make_tracker(
        text,
        "nlu_fallback",
        slots={
            "situation": "no_callback",
            "follow_ups_done": 1.0,
            "last_follow_up": "2026-11-18",
            "interview_date": "2026-11-02",
        },
    )
    events, _ = await run_coach(tracker)
    assert slots_of(events)["follow_ups_done"] == 2.0
    assert slots_of(events)["next_step"] == "move_on"


async def test_an_unclear_message_without_news_asks_to_rephrase() -> None:
    events, messages = await run_coach(make_tracker("blorp zzz", "nlu_fallback"))
    assert events == []
    assert [m["response"] for m in messages] == ["utter_default"]


async def test_an_unclear_message_about_another_company_or_a_bare_date_asks_to_rephrase() -> None:
    for text, entities in (
        (
            "Initech today",
            [entity("ORG", "Initech", "Initech today"), entity("DATE", "today", "Initech today")],
        ),
        ("today", [entity("DATE", "today", "today")]),
    ):
        tracker = make_tracker(
            text, "nlu_fallback", entities, slots={"situation": "on_hold", "company": "Acme"}
        )
        events, messages = await run_coach(tracker)
        assert events == []
        assert [m["response"] for m in messages] == ["utter_default"]


@pytest.mark.parametrize("question", ["ask_contact_recruiter", "ask_interview_etiquette"])
async def test_a_question_is_not_answered_as_if_it_were_a_setback(
    question: str, knowledge: Knowledge
) -> None:
    headings = [
        (await explain(detail, {"situation": question}))[0]["text"].splitlines()[0]
        for detail in ("reasons", "guidance")
    ]
    assert knowledge.messages.reasons_heading not in headings  # "Why this often happens:"


async def test_interview_tips_include_asking_for_the_timeline(knowledge: Knowledge) -> None:
    guidance = " ".join(i.text for i in knowledge.situations["ask_interview_etiquette"].guidance)
    assert "when they expect to decide" in guidance


# Dates as the user said them (issue 16); today Wednesday 25 November 2026, US holidays.
async def test_a_week_said_is_written_back_as_a_week_never_as_a_day(knowledge: Knowledge) -> None:
    text = "I interviewed at Acme with Maria Lopez last week and heard nothing"
    events, _ = await run_coach(
        make_tracker(
            text,
            "no_callback",
            [
                entity("ORG", "Acme", text),
                entity("PERSON", "Maria Lopez", text),
                entity("DATE", "last week", text),
            ],
        )
    )
    slots = slots_of(events)
    assert slots["interview_date"] == "2026-11-18|week"
    _, messages = await run_coach(
        make_tracker(
            "write the follow-up email for me",
            "ask_contact_recruiter",
            [{"entity": "draft_kind", "value": "follow_up"}],
            slots=slots,
        )
    )
    draft = messages[1]["text"]
    assert "my interview last week for" in draft
    assert "18 November" not in draft and "Wednesday" not in draft


async def test_a_month_said_is_written_back_as_a_month() -> None:
    slots = {"situation": "no_callback", "interview_date": "2026-10-25|month", "person": "Sam"}
    _, messages = await run_coach(
        make_tracker("can you write a thank you note", "ask_contact_recruiter", slots=slots)
    )
    assert "talk with me in October about" in messages[1]["text"]


async def test_an_exact_day_stored_before_is_still_read() -> None:
    slots = {"situation": "no_callback", "interview_date": "2026-11-23", "person": "Sam"}
    events, messages = await run_coach(
        make_tracker("write the follow-up email", "ask_contact_recruiter", slots=slots)
    )
    assert "my interview on Monday 23 November for" in messages[1]["text"]
    assert slots_of(events)["interview_date"] == "2026-11-23"


@pytest.mark.parametrize(
    ("answer", "step"),
    [
        # no longer "wait until next week"
        ("I interviewed last month", "follow_up"),
        ("three months ago", "move_on"),
    ],
)
async def test_long_ago_dates_lead_to_their_step(
    answer: str, step: str, knowledge: Knowledge
) -> None:
    tracker = make_tracker(answer, "inform", slots={"situation": "no_callback"})
    events, messages = await run_coach(tracker)
    assert slots_of(events)["next_step"] == step
    if step == "move_on":
        assert knowledge.situations["no_callback"].next_step["move_on"] in messages[-1]["text"]


async def test_an_interview_still_to_come_is_kept_not_lost() -> None:
    text = "my interview is on December 10, how do I prepare?"
    events, _ = await run_coach(
        make_tracker(text, "ask_interview_etiquette", [entity("DATE", "December 10", text)])
    )
    slots = slots_of(events)
    assert slots["interview_date"] == "2026-12-10"
    assert slots["days_since_interview"] is None


async def test_a_date_they_will_decide_by_is_this_years() -> None:
    text = "they'll decide December 10"
    events, messages = await run_coach(
        make_tracker(text, "no_callback", [entity("DATE", "December 10", text)])
    )
    assert slots_of(events)["promised_date"] == "2026-12-10"
    assert slots_of(events)["interview_date"] is None
    assert "They said you'd hear by Thursday 10 December" in messages[-1]["text"]


async def test_a_promise_is_said_back_as_it_was_given() -> None:
    text = "they said they'd get back to me by the end of next week"
    events, messages = await run_coach(
        make_tracker(text, "no_callback", [entity("DATE", "the end of next week", text)])
    )
    assert slots_of(events)["promised_date"] == "2026-12-04|week"
    assert "They said you'd hear by the end of next week." in messages[-1]["text"]
    assert "Friday 4 December" not in messages[-1]["text"]


@pytest.mark.parametrize(
    ("locale", "stored"), [("en-GB", "2026-11-10"), ("en-US", "2026-10-11"), (None, "2026-10-11")]
)
async def test_numeric_dates_are_read_in_the_users_date_order(
    locale: str | None, stored: str
) -> None:
    text = "my interview was on 10/11"
    tracker = make_tracker(text, "no_callback", [entity("DATE", "10/11", text)])
    if locale:
        tracker.latest_message["metadata"] = {"locale": locale}
    events, _ = await run_coach(tracker)
    assert slots_of(events)["interview_date"] == stored


async def test_a_promise_counts_from_the_day_it_is_reported() -> None:
    text = "they said they'd restart in two weeks"
    tracker = make_tracker(
        text,
        "on_hold",
        [entity("DATE", "two weeks", text)],
        slots={"interview_date": "2026-11-02"},
    )
    events, messages = await run_coach(tracker)
    # two weeks from today, not from the interview (which would be 16 November, past)
    assert slots_of(events)["promised_date"] == "2026-12-09"
    assert "check back by email on Wednesday 9 December" in messages[-1]["text"]


async def test_a_promise_made_at_the_interview_counts_from_the_interview() -> None:
    text = "they said at the interview they'd decide within two weeks"
    tracker = make_tracker(
        text,
        "no_callback",
        [entity("DATE", "two weeks", text)],
        slots={"interview_date": "2026-11-16"},
    )
    events, _ = await run_coach(tracker)
    assert slots_of(events)["promised_date"] == "2026-11-30"


async def test_on_hold_gives_a_day_to_check_back_and_a_day_to_stop(knowledge: Knowledge) -> None:
    events, messages = await run_coach(make_tracker("they put the role on hold", "on_hold"))
    slots = slots_of(events)
    assert slots["on_hold_since"] == "2026-11-25"
    assert slots["next_step"] == "check_back"
    step = messages[-1]["text"]
    # two weeks on, and six weeks on hold without news (knowledge file's timing)
    assert "Wednesday 9 December" in step
    assert "Wednesday 6 January 2027" in step
    assert knowledge.timing.on_hold_stop_after_weeks.value == 6
    # asked again later in the conversation: the hold still counts from the first day
    again, _ = await run_coach(make_tracker("still on hold", "on_hold", slots=slots))
    assert "on_hold_since" not in slots_of(again)


async def test_on_hold_long_enough_means_stop_checking(knowledge: Knowledge) -> None:
    slots = {"situation": "on_hold", "on_hold_since": "2026-10-01"}
    events, messages = await run_coach(make_tracker("still on hold", "on_hold", slots=slots))
    assert slots_of(events)["next_step"] == "move_on"
    assert knowledge.situations["no_callback"].next_step["move_on"] in messages[-1]["text"]


async def test_another_situation_ends_the_hold() -> None:
    slots = {"situation": "on_hold", "on_hold_since": "2026-10-01"}
    events, _ = await run_coach(make_tracker("they turned me down", "rejected", slots=slots))
    assert slots_of(events)["on_hold_since"] is None
