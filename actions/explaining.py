"""The rest of a coaching reply, one tap away: why this happens, what else helps, and
where the advice comes from (the buttons under every coaching reply)."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.coaching import (
    ITEMS_PER_LIST,
    MAX_BUTTONS,
    more_buttons,
    rotate,
    situation_buttons,
    source_names,
    stand_ins,
    times_coached,
)
from actions.knowledge import SITUATIONS, Knowledge, Situation
from actions.runtime import entity_value, knowledge_cache
from actions.wording import render

DETAILS = ("reasons", "guidance", "sources")


class ActionExplain(Action):
    def name(self) -> str:
        return "action_explain"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        knowledge = knowledge_cache().get()
        situation = tracker.get_slot("situation")
        if situation not in SITUATIONS:
            dispatcher.utter_message(
                text=knowledge.messages.ask_situation, buttons=situation_buttons(knowledge)
            )
            return []
        detail = entity_value(tracker, "detail")
        detail = detail if detail in DETAILS else "reasons"
        entry = knowledge.situations[situation]
        if detail == "sources":
            text = sources_text(knowledge, entry, tracker.get_slot("next_step_rules") or [])
        else:
            text = items_text(knowledge, entry, detail, _turn(tracker, situation), tracker)
        # the other two, then where the situation may lead (at most five, for Slack)
        buttons = more_buttons(knowledge, leave_out=detail)
        buttons += [{"title": b.title, "payload": f"/{b.intent}"} for b in entry.buttons]
        dispatcher.utter_message(text=text, buttons=buttons[:MAX_BUTTONS])
        return []


def items_text(
    knowledge: Knowledge, entry: Situation, detail: str, turn: int, tracker: Tracker
) -> str:
    """The heading and the items of this turn, filled with what the conversation knows."""
    if detail == "reasons":
        heading = entry.reasons_heading or knowledge.messages.reasons_heading
        items = entry.reasons
    else:
        heading = entry.guidance_heading or knowledge.messages.guidance_heading
        items = entry.guidance
    role = tracker.get_slot("role")
    values = {
        "company": str(tracker.get_slot("company") or ""),
        "person": str(tracker.get_slot("person") or ""),
        "role": f"the {role} role" if role else "",
    }
    chosen = rotate(list(items), turn, ITEMS_PER_LIST)
    bullets = "\n".join(f"• {render(i.text, values, stand_ins(knowledge))}" for i in chosen)
    return f"{heading}\n{bullets}"


def sources_text(knowledge: Knowledge, entry: Situation, step_rules: list[str]) -> str:
    """Where this situation's advice comes from, each source with its year: first the
    research behind the waiting times that dated the last next step (`step_rules`,
    names of the knowledge file's timing rules), then that behind the reasons and tips."""
    timing = knowledge.timing
    facts = [
        fact
        for rule in step_rules
        if isinstance(rule, str) and rule in timing.__fields__
        for fact in getattr(timing, rule).facts
    ]
    facts += [fact for item in [*entry.reasons, *entry.guidance] for fact in item.facts]
    names = source_names(knowledge, facts)
    if any(item.points for item in [*entry.reasons, *entry.guidance]):
        names.append(knowledge.sources["article"].name)
    return str(knowledge.messages.sources_line).format(sources=", ".join(names))


def _turn(tracker: Tracker, situation: str) -> int:
    """Which items to show: the next ones each time the situation was coached again."""
    return max(times_coached(tracker, situation) - 1, 0)
