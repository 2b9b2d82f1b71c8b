"""callback_coach.action_payload: an action is sent Rasa's request with only the latest
turns' events; an action that reports on the whole conversation gets all of it."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from callback_coach import action_payload

DOMAIN = Domain.load(str(Path(__file__).resolve().parent.parent / "domain.yml"))


def endpoint(selective_domain: bool) -> EndpointConfig:
    return EndpointConfig("http://127.0.0.1:1/webhook", enable_selective_domain=selective_domain)


def conversation(turns: int) -> DialogueStateTracker:
    """A tracker as Rasa keeps one: a session start, then user turns coached by the action."""
    tracker = DialogueStateTracker(f"payload-{uuid.uuid4().hex}", DOMAIN.slots)
    for event in (ActionExecuted("action_session_start"), SessionStarted()):
        tracker.update(event)
    for number in range(turns):
        for event in (
            ActionExecuted("action_listen"),
            UserUttered(
                f"message {number}",
                {"name": "no_callback", "confidence": 0.9},
                input_channel="rest",
            ),
            ActionExecuted("action_coach"),
            BotUttered(f"reply {number}"),
            SlotSet("situation", "no_callback"),
        ):
            tracker.update(event)
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(UserUttered("latest", {"name": "rejected", "confidence": 0.9}))
    return tracker


def as_json(value: Any) -> Any:
    return json.loads(json.dumps(value))


@pytest.mark.parametrize("turns", [1, 3, 10])
def test_the_window_opens_with_the_listen_before_the_oldest_user_message(turns: int) -> None:
    tracker = conversation(25)
    window = action_payload.recent_events(tracker.events, turns)
    users = [event for event in window if isinstance(event, UserUttered)]
    assert len(users) == turns
    assert users[-1].text == "latest"
    assert isinstance(window[0], ActionExecuted) and window[0].action_name == "action_listen"
    assert window[1] is users[0]
    events = list(tracker.events)
    assert events[-len(window) :] == window  # the very events, in order, up to the last


def test_a_short_conversation_is_sent_whole() -> None:
    tracker = conversation(2)
    assert action_payload.recent_events(tracker.events, 10) == list(tracker.events)


@pytest.mark.parametrize("selective_domain", [False, True])
def test_everything_but_the_events_is_rasas_own_request(selective_domain: bool) -> None:
    tracker = conversation(25)
    action = RemoteAction("action_coach", endpoint(selective_domain))
    ours = as_json(action_payload.call_format(action, tracker, DOMAIN, 10))
    rasas = as_json(action_payload.ORIGINAL_ACTION_CALL_FORMAT(action, tracker, DOMAIN))

    window = action_payload.recent_events(tracker.events, 10)
    assert ours["tracker"]["events"] == as_json([event.as_dict() for event in window])
    assert len(ours["tracker"]["events"]) < len(rasas["tracker"]["events"]) / 2
    assert rasas["tracker"]["events"][-len(window) :] == ours["tracker"]["events"]
    del ours["tracker"]["events"], rasas["tracker"]["events"]
    assert ours == rasas
    assert ("domain" in ours) is not selective_domain


def test_no_limit_and_whole_conversation_actions_get_rasas_request() -> None:
    tracker = conversation(25)
    for name, turns in (("action_coach", 0), ("action_show_my_data", 10)):
        action = RemoteAction(name, endpoint(True))
        ours = action_payload.call_format(action, tracker, DOMAIN, turns)
        assert ours == action_payload.ORIGINAL_ACTION_CALL_FORMAT(action, tracker, DOMAIN)
        assert len(ours["tracker"]["events"]) == len(tracker.events)


def test_the_request_stays_the_same_size_as_the_conversation_grows() -> None:
    action = RemoteAction("action_coach", endpoint(True))
    sizes = [
        len(json.dumps(action_payload.call_format(action, conversation(turns), DOMAIN, 10)))
        for turns in (20, 200)
    ]
    assert sizes[1] <= sizes[0] * 1.05


def test_install_sends_the_window_from_every_remote_action(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        RemoteAction, "_action_call_format", action_payload.ORIGINAL_ACTION_CALL_FORMAT
    )
    action_payload.install({"ACTION_HISTORY_TURNS": "2"})
    request = RemoteAction("action_coach", endpoint(True))._action_call_format(
        conversation(25), DOMAIN
    )
    events: list[dict[str, Any]] = request["tracker"]["events"]
    assert [event["event"] for event in events].count("user") == 2


@pytest.mark.parametrize("value", ["-1", "ten", "2.5", ""])
def test_a_bad_setting_stops_start_up_saying_why(value: str) -> None:
    with pytest.raises(ValueError, match="ACTION_HISTORY_TURNS"):
        action_payload.history_turns({"ACTION_HISTORY_TURNS": value})


def test_the_default_is_ten_turns() -> None:
    assert action_payload.history_turns({}) == 10
    assert action_payload.history_turns({"ACTION_HISTORY_TURNS": "0"}) == 0
