"""An unclear message: the two likeliest readings as buttons (actions/unsure.py), on
real Tracker objects."""

from __future__ import annotations

import yaml

from actions.coaching import ActionCoach
from actions.knowledge import SITUATIONS
from actions.runtime import knowledge_cache
from actions.settings import PROJECT_ROOT
from actions.unsure import likeliest_readings, reading_titles
from tests.support.trackers import entity, make_tracker, run_action, slots_of

UNCLEAR = "Brightwave closed things off with me"


async def test_the_two_likeliest_readings_come_as_buttons_with_the_names_kept() -> None:
    tracker = make_tracker(
        UNCLEAR,
        "nlu_fallback",
        [entity("company", "Brightwave", UNCLEAR)],
        ranking=[
            ("nlu_fallback", 0.45),
            ("greet", 0.2),
            ("rejected", 0.18),
            ("vacancy_cancelled", 0.15),
        ],
    )
    events, messages = await run_action(ActionCoach(), tracker)
    knowledge = knowledge_cache().get()
    assert [m["text"] for m in messages] == [knowledge.messages.unsure]
    assert [b["payload"] for b in messages[0]["buttons"]] == ["/rejected", "/vacancy_cancelled"]
    assert [b["title"] for b in messages[0]["buttons"]] == [
        knowledge.situations["rejected"].title,
        knowledge.situations["vacancy_cancelled"].title,
    ]
    # The button's reply will know the company without being told again.
    assert slots_of(events) == {"company": "Brightwave"}


async def test_names_of_another_company_do_not_mix_into_the_application_under_way() -> None:
    tracker = make_tracker(
        UNCLEAR,
        "nlu_fallback",
        [entity("company", "Brightwave", UNCLEAR)],
        slots={"company": "Acme", "situation": "no_callback"},
        ranking=[("rejected", 0.4), ("vacancy_cancelled", 0.3)],
    )
    events, messages = await run_action(ActionCoach(), tracker)
    assert len(messages[0]["buttons"]) == 2
    assert events == []


async def test_without_two_readings_to_offer_the_coach_asks_to_rephrase() -> None:
    tracker = make_tracker(
        "blorp", "nlu_fallback", ranking=[("greet", 0.3), ("rejected", 0.2), ("goodbye", 0.1)]
    )
    events, messages = await run_action(ActionCoach(), tracker)
    assert [m["response"] for m in messages] == ["utter_default"] and events == []


def test_only_intents_with_a_title_are_offered() -> None:
    titles = {"rejected": "Got a rejection", "set_reminder": "Set a reminder"}
    ranking = [{"name": "out_of_scope"}, {"name": "set_reminder"}, {"name": "rejected"}]
    assert likeliest_readings(ranking, titles) == ["set_reminder", "rejected"]
    assert likeliest_readings([{"name": "nlu_fallback"}, {"name": "rejected"}], titles) == [
        "rejected"
    ]


def test_every_reading_offered_is_an_intent_of_the_domain() -> None:
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    intents = {i if isinstance(i, str) else next(iter(i)) for i in domain["intents"]}
    titles = reading_titles(knowledge_cache().get())
    assert set(SITUATIONS) <= set(titles)
    assert set(titles) <= intents
