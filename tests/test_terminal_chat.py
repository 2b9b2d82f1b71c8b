"""The terminal chat picks reminder turns out of the conversation's events."""

from __future__ import annotations

from typing import Any

from callback_coach.terminal_chat import reminder_messages


def user(intent: str, at: float) -> dict[str, Any]:
    return {"event": "user", "timestamp": at, "parse_data": {"intent": {"name": intent}}}


def bot(text: str, at: float, buttons: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"event": "bot", "timestamp": at, "text": text, "data": {"buttons": buttons}}


EVENTS = [
    user("no_callback", 10.0),
    bot("coaching", 11.0),
    user("reminder_due", 20.0),
    bot("old reminder", 20.5),
    user("greet", 30.0),
    bot("hello", 30.5),
    user("reminder_due", 40.0),
    bot("new reminder", 40.5, [{"title": "Write it", "payload": "/x"}]),
]


def test_only_reminder_turns_newer_than_the_last_seen_are_shown() -> None:
    messages, newest = reminder_messages(EVENTS, after=25.0)
    assert messages == [
        {"text": "new reminder", "buttons": [{"title": "Write it", "payload": "/x"}]}
    ]
    assert newest == 40.0
    assert reminder_messages(EVENTS, after=newest) == ([], 40.0)


def test_every_reminder_turn_since_start_is_shown_in_order() -> None:
    messages, _ = reminder_messages(EVENTS, after=0.0)
    assert [m["text"] for m in messages] == ["old reminder", "new reminder"]
