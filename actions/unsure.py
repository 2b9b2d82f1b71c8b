"""A message the model is unsure about: the two likeliest readings as buttons (the idea
of Rasa's two-stage fallback), instead of "I didn't get that"."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from actions.knowledge import Knowledge

FALLBACK_INTENT = "nlu_fallback"
READINGS_OFFERED = 2


def reading_titles(knowledge: Knowledge) -> dict[str, str]:
    """What a button says for each reading we can offer: each situation's title, and
    the titles the knowledge file gives a few other requests."""
    titles = {name: entry.title for name, entry in knowledge.situations.items()}
    titles.update(knowledge.messages.unsure_buttons)
    return titles


def likeliest_readings(
    ranking: Iterable[Mapping[str, Any]], titles: Mapping[str, str], count: int = READINGS_OFFERED
) -> list[str]:
    """The `count` likeliest intents of the model's ranking that have a button title.

    An intent without a title (a greeting, "out of scope") is no reading to offer.
    """
    readings: list[str] = []
    for entry in ranking:
        name = str(entry.get("name") or "")
        if name != FALLBACK_INTENT and name in titles and name not in readings:
            readings.append(name)
        if len(readings) == count:
            break
    return readings


def reading_buttons(readings: list[str], titles: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"title": titles[name], "payload": f"/{name}"} for name in readings]
