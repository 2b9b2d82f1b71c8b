"""Words and messages per coaching turn, over generated conversations.

.venv/bin/python -m scripts.words_per_turn

Each conversation tells the coach one situation with some of the details people give
(company, person, role, when the interview was, a promised date, follow-ups sent), then
the same situation again, then a date; every turn runs the real coaching action on a
real rasa-sdk Tracker, with the knowledge file as it is. Prints the median and the 95th
percentile of the words per turn, and the most messages in a turn.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import statistics
import sys
import tempfile
from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.coaching import ActionCoach
from actions.knowledge import SITUATIONS
from actions.records.database import migrate

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
DETAILS: list[tuple[str, list[dict[str, str]]]] = [
    ("", []),
    (" at Brightwave", [{"entity": "ORG", "value": "Brightwave"}]),
    (" with Dana", [{"entity": "PERSON", "value": "Dana"}]),
    (" for the analyst job", [{"entity": "role", "value": "analyst"}]),
]
WHEN = ["", " yesterday", " two weeks ago", " three months ago", " they said by Friday"]
FOLLOW_UPS = ["", " and I followed up once", " and I followed up twice"]


def tracker(
    sender: str, text: str, intent: str, entities: list[dict[str, Any]], slots: dict
) -> Tracker:
    message = {"text": text, "intent": {"name": intent, "confidence": 0.99}, "entities": entities}
    event = {"event": "user", "timestamp": NOW.timestamp(), "text": text, "parse_data": message}
    return Tracker(sender, slots, message, [event], False, None, {}, "action_listen")


def date_entities(text: str, when: str) -> list[dict[str, Any]]:
    value = when.strip().removeprefix("they said by ").strip()
    if not value:
        return []
    start = text.index(value)
    return [{"entity": "DATE", "value": value, "start": start, "end": start + len(value)}]


async def turn(
    sender: str, text: str, intent: str, entities: list, slots: dict
) -> tuple[int, int, dict]:
    dispatcher = CollectingDispatcher()
    events = await ActionCoach().run(dispatcher, tracker(sender, text, intent, entities, slots), {})
    slots = {**slots, **{e["name"]: e["value"] for e in events if e.get("event") == "slot"}}
    words = sum(len(str(m.get("text") or "").split()) for m in dispatcher.messages)
    return words, len(dispatcher.messages), slots


async def measure() -> dict[str, Any]:
    migrate()
    words: list[int] = []
    most_messages = 0
    for number, (situation, (detail, entities), when, follow) in enumerate(
        itertools.product(SITUATIONS, DETAILS, WHEN, FOLLOW_UPS)
    ):
        # a sender of its own per conversation, so the opening lines vary as for people
        # (and the same each run, so the figures repeat)
        sender = f"words-{number}"
        first = f"it happened{detail}{when}{follow}"
        said = [
            (first, situation, entities + date_entities(first, when)),
            ("still the same", situation, []),
            ("it was on the 10th", "inform", [{"entity": "DATE", "value": "the 10th"}]),
        ]
        slots: dict[str, Any] = {}
        for text, intent, found in said:
            count, messages, slots = await turn(sender, text, intent, found, slots)
            words.append(count)
            most_messages = max(most_messages, messages)
    ordered = sorted(words)
    return {
        "turns": len(words),
        "words_median": statistics.median(words),
        "words_p95": ordered[int(0.95 * (len(ordered) - 1))],
        "words_max": ordered[-1],
        "most_messages_in_a_turn": most_messages,
    }


def main() -> int:
    # The actions keep records: a throw-away database, not the user's.
    os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/words.db"
    print(json.dumps(asyncio.run(measure()), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
