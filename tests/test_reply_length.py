"""Coaching turns stay short enough to read in a chat: at most 80 words in at most two
messages, over the generated conversations of scripts/words_per_turn.py."""

from __future__ import annotations

import asyncio

from scripts.words_per_turn import measure


def test_every_coaching_turn_is_short() -> None:
    result = asyncio.run(measure())
    assert result["turns"] >= 1000
    assert result["most_messages_in_a_turn"] <= 2
    assert result["words_max"] <= 80, result
    assert result["words_p95"] <= 70, result


def test_the_longest_opening_and_step_fit_the_limit() -> None:
    """Whatever line and step the knowledge file gives a turn, the two fit in 80 words
    (the extras are added only while they fit)."""
    from actions.coaching import MAX_WORDS
    from actions.runtime import knowledge_cache

    knowledge = knowledge_cache().get()
    for name, entry in knowledge.situations.items():
        opening = max(len(line.split()) for line in entry.reassurance)
        step = max(len(text.split()) for text in entry.next_step.values())
        # placeholders become names of a few words at most
        assert opening + step + 10 <= MAX_WORDS, name
