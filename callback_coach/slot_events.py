"""The action server leaves out slot events that change nothing.

Our actions set every slot they work out on every turn (company, role, interview
date and so on), whether or not the message changed it. In the benchmark's
conversations, about a third of all stored events gave a slot the value it already
had. Rasa checks, applies, stores (one database row each) and keeps in memory every
one of them. The action server now drops a slot event that gives a slot the value it
holds at that point, starting from the slots in the request's tracker. Rasa's slots
end up the same.

Two cases are left as they are:
- form validation actions (`validate_…`): Rasa's form reads their slot events as
  what the user filled in;
- everything after the first event that could change slots some other way (a
  restart, a reset, a rewind, a new session): only slot events, bot messages,
  follow-ups and reminders are known not to.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from rasa_sdk.executor import ActionExecutor

RunAction = Callable[[ActionExecutor, Any], Awaitable[Any]]
VALIDATION_PREFIX = "validate_"
# Events that leave the other slots' values as they are.
SLOT_NEUTRAL_EVENTS = frozenset({"slot", "bot", "followup", "reminder", "cancel_reminder"})


def _same(value: Any, other: Any) -> bool:
    """Equal as JSON, which Rasa stores: 1 and True, or 0 and 0.0, are different."""
    try:
        return json.dumps(value, sort_keys=True) == json.dumps(other, sort_keys=True)
    except (TypeError, ValueError):
        return False


def changing_events(events: list[Any], slots: Mapping[str, Any]) -> list[Any]:
    """`events` without the slot events that give a slot the value it already has."""
    values = dict(slots)
    kept: list[Any] = []
    for index, event in enumerate(events):
        kind = event.get("event") if isinstance(event, dict) else None
        if kind not in SLOT_NEUTRAL_EVENTS:
            return kept + events[index:]
        name = event.get("name")
        if kind == "slot" and isinstance(name, str):
            if name in values and _same(values[name], event.get("value")):
                continue
            values[name] = event.get("value")
        kept.append(event)
    return kept


def without_unchanged_slots(
    action_call: dict[str, Any], response: dict[str, Any] | None
) -> dict[str, Any] | None:
    """The executor's answer to `action_call` without the slot events that change
    nothing."""
    action_name = action_call.get("next_action") or ""
    if not response or action_name.startswith(VALIDATION_PREFIX):
        return response
    slots = (action_call.get("tracker") or {}).get("slots")
    if not isinstance(slots, Mapping):  # the guards answer a malformed call before this
        return response
    response["events"] = changing_events(response.get("events") or [], slots)
    return response


def install() -> None:
    """Wraps ActionExecutor.run as it is now, so other wrappers (the records outage's
    apology) stay in place."""
    run: RunAction = ActionExecutor.run
    if getattr(run, "without_unchanged_slots", False):
        return

    async def run_without_unchanged_slots(self: ActionExecutor, action_call: Any) -> Any:
        return without_unchanged_slots(action_call, await run(self, action_call))

    run_without_unchanged_slots.without_unchanged_slots = True  # type: ignore[attr-defined]
    ActionExecutor.run = run_without_unchanged_slots
