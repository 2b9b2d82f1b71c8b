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
