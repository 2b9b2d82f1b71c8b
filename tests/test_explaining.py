"""The buttons under a coaching reply (actions/explaining.py), on real Tracker objects."""

from __future__ import annotations

from actions.coaching import ActionCoach, source_names
from actions.explaining import ActionExplain
from actions.runtime import knowledge_cache
from tests.support.trackers import entity, make_tracker, run_action, slots_of


async def test_sources_name_the_research_behind_the_date_of_the_step_first() -> None:
    knowledge = knowledge_cache().get()
    text = "I interviewed two days ago and haven't heard back"
    events, _ = await run_action(
        ActionCoach(), make_tracker(text, "no_callback", [entity("DATE", "two days ago", text)])
    )
    slots = slots_of(events)
    assert slots["next_step"] == "wait"
    assert slots["next_step_rules"] == ["follow_up_after_business_days"]

    explain = make_tracker(
        "Sources", "ask_more", [{"entity": "detail", "value": "sources"}], slots=slots
    )
    _, messages = await run_action(ActionExplain(), explain)
    shown = messages[0]["text"]
    step_sources = source_names(knowledge, knowledge.timing.follow_up_after_business_days.facts)
    assert step_sources and shown.index(step_sources[0]) < len(shown)
    for name in step_sources:
        assert name in shown
    # the step's research comes before that of the reasons and tips
    listed = shown.split(": ", 1)[1]
    assert listed.startswith(step_sources[0])


async def test_sources_without_a_step_list_the_situations_research() -> None:
    knowledge = knowledge_cache().get()
    explain = make_tracker(
        "Sources", "ask_more", [{"entity": "detail", "value": "sources"}], {"situation": "rejected"}
    )
    _, messages = await run_action(ActionExplain(), explain)
    entry = knowledge.situations["rejected"]
    facts = [fact for item in [*entry.reasons, *entry.guidance] for fact in item.facts]
    assert messages[0]["text"].startswith(knowledge.messages.sources_line.split("{")[0])
    for name in source_names(knowledge, facts):
        assert name in messages[0]["text"]
