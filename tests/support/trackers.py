"""Real rasa-sdk Tracker objects for action tests, and what an action run returns."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

# Wednesday 25 November 2026, noon UTC.
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)


def entity(name: str, value: str, text: str) -> dict[str, Any]:
    """An entity as the NLU marks it: `value` found in `text`."""
    start = text.index(value)
    return {"entity": name, "value": value, "start": start, "end": start + len(value)}


def make_tracker(
    text: str,
    intent: str,
    entities: list[dict[str, Any]] | None = None,
    slots: dict[str, Any] | None = None,
    history: list[dict[str, Any]] | None = None,
    ranking: list[tuple[str, float]] | None = None,
    sent_at: datetime = NOW,
) -> Tracker:
    """A conversation whose latest message is `text`, read as `intent` (and, when given,
    with the model's ranking of intents), sent at `sent_at`."""
    message: dict[str, Any] = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.99},
        "entities": entities or [],
    }
    if ranking is not None:
        message["intent_ranking"] = [{"name": n, "confidence": c} for n, c in ranking]
    events = [
        *(history or []),
        {"event": "user", "timestamp": sent_at.timestamp(), "text": text, "parse_data": message},
    ]
    return Tracker(
        sender_id=f"test-{uuid.uuid4()}",  # records of one test never meet another's
        slots=slots or {},
        latest_message=message,
        events=events,
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


async def run_action(
    action: Action, tracker: Tracker
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The events the action returns and the messages it sends."""
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, {})
    return events, dispatcher.messages


def slots_of(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
