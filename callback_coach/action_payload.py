"""What a custom action is sent: the conversation's latest turns, not all of it.

Rasa sends every event of the conversation with each call to the action server, so a
call cost more the longer the user had talked: building and sending the JSON, then
parsing it on the other side; a profile of a long conversation found it the largest
of the costs that grew.

Our actions read the slots, the latest message and the events of the current turn
(when the message was sent, from which channel). They are sent the events of the
last `ACTION_HISTORY_TURNS` user messages (10 by default; 0 sends everything, as
Rasa does). Everything else in the call is Rasa's: slots, latest message, active
loop, domain. An action that reports on the whole conversation gets all of it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Reversible
from typing import Any

import rasa
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

TURNS_VARIABLE = "ACTION_HISTORY_TURNS"
DEFAULT_TURNS = 10
# actions.privacy.ActionShowMyData counts the stored events of the conversation.
WHOLE_CONVERSATION_ACTIONS = frozenset({"action_show_my_data"})

ORIGINAL_ACTION_CALL_FORMAT = RemoteAction._action_call_format


def history_turns(environ: Mapping[str, str] = os.environ) -> int:
    """How many user turns an action is sent; a bad value stops start-up, saying why."""
    raw = environ.get(TURNS_VARIABLE, str(DEFAULT_TURNS))
    try:
        turns = int(raw)
    except ValueError:
        turns = -1
    if turns < 0:
        raise ValueError(f"{TURNS_VARIABLE}={raw!r} must be a whole number, 0 or more")
    return turns


def recent_events(events: Reversible[Event], turns: int) -> list[Event]:
    """The events from the `turns`-th last user message on, with the listen before it
    (which opens that turn); all events when there are fewer user messages."""
    walk = reversed(events)
    window: list[Event] = []
    users = 0
    for event in walk:
        window.append(event)
        if isinstance(event, UserUttered):
            users += 1
            if users == turns:
                before = next(walk, None)
                if isinstance(before, ActionExecuted) and before.action_name == ACTION_LISTEN_NAME:
                    window.append(before)
                break
    window.reverse()
    return window


def call_format(
    action: RemoteAction, tracker: DialogueStateTracker, domain: Domain, turns: int
) -> dict[str, Any]:
    """Rasa's request to the action server, with only the latest `turns` in "events"."""
    if turns == 0 or action.name() in WHOLE_CONVERSATION_ACTIONS:
        return ORIGINAL_ACTION_CALL_FORMAT(action, tracker, domain)
    state = tracker.current_state(EventVerbosity.NONE)
    state["events"] = [event.as_dict() for event in recent_events(tracker.events, turns)]
    call: dict[str, Any] = {
        "next_action": action.name(),
        "sender_id": tracker.sender_id,
        "tracker": state,
        "version": rasa.__version__,
    }
    if (
        not action._is_selective_domain_enabled()
        or domain.does_custom_action_explicitly_need_domain(action.name())
    ):
        call["domain"] = domain.as_dict()
    return call


def install(environ: Mapping[str, str] = os.environ) -> None:
    turns = history_turns(environ)

    def action_call_format(
        self: RemoteAction, tracker: DialogueStateTracker, domain: Domain
    ) -> dict[str, Any]:
        return call_format(self, tracker, domain, turns)

    RemoteAction._action_call_format = action_call_format
