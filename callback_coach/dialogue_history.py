"""The dialogue history's states, worked out once per event instead of once per use.

For each prediction Rasa's RulePolicy turns the whole conversation into a list of
states by replaying every event into a fresh tracker (`Domain.states_for_tracker_history`),
several times per prediction and two or three predictions per message; it also
recomputes the list of applied events each time. A turn therefore cost more the longer
the conversation: with 50 turns, a third more than at the start.

Here both results are remembered per conversation and only the events added since are
replayed. The remembered work is reused only while the events already replayed are
the very same objects, in the same order, at the start of the tracker's applied events
(a rewind, restart or a tracker loaded afresh starts over), so the states returned are
exactly Rasa's; tests/test_dialogue_history.py checks that on generated conversations.
One kind of event changes history rather than adding to it: DefinePrevUserUtteredFeaturization
and EntitiesAdded change the latest user message object itself. If that message is already
in a remembered state (possible after a rewind), the replay starts over.

The applied events are worked out the same way, on the tracker itself: Rasa's loop
over the events carries only the list built so far, so the list for the first events
is kept and only the events added since go through the loop. Two things send it back
to the first event: the events are not provably the ones already read (another deque,
fewer events, or a different first or last-read event: a deque with a maximum length
drops from the left), or a new event activates a loop whose name no earlier event
named (Rasa treats that loop's earlier executions by names gathered from all events).
"""

from __future__ import annotations

import itertools
import json
import operator
from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rasa.shared.core.constants import ACTION_LISTEN_NAME, PREVIOUS_ACTION
from rasa.shared.core.domain import Domain, State, SubState
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    DefinePrevUserUtteredFeaturization,
    EntitiesAdded,
    Event,
    Restarted,
    SessionStarted,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

ORIGINAL_STATES_FOR_TRACKER_HISTORY = Domain.states_for_tracker_history
ORIGINAL_APPLIED_EVENTS = DialogueStateTracker.applied_events

# Conversations whose replays are kept. A replay holds its conversation's events, and it
# is of use only while the tracker store keeps the tracker with those very events, so
# the store forgets a conversation here when it lets go of it (`forget`); this bound is
# for the stores that never do.
MAX_CONVERSATIONS = 500


@dataclass
class Replay:
    """How far a conversation's history has been replayed, and what it gave."""

    tracker: DialogueStateTracker
    events: list[Event] = field(default_factory=list)
    states: list[State] = field(default_factory=list)
    last_ml_action_sub_state: SubState | None = None
    turn_was_hidden: bool = False
    # the user message in the latest remembered state
    featurized_message: UserUttered | None = None


# sender id -> one replay per variant of the question (a few per policy)
_replays: OrderedDict[str, dict[tuple[Any, ...], Replay]] = OrderedDict()


def forget(sender_id: str) -> None:
    """Lets go of a conversation's replays: its tracker is no longer kept in memory, or
    its user asked to be forgotten."""
    _replays.pop(sender_id, None)


def _copy(state: State) -> State:
    # sub-state values are strings and tuples: two levels make the copy independent
    return {name: dict(sub_state) for name, sub_state in state.items()}


def _add_state(
    domain: Domain,
    replay: Replay,
    prior: DialogueStateTracker,
    hide_rule_turn: bool,
    omit_unset_slots: bool,
    ignore_rule_only_turns: bool,
    rule_only_data: dict[str, Any] | None,
    states: list[State],
) -> None:
    """The body of Rasa's loop in Domain.states_for_tracker_history, for one prior
    tracker; the loop's variables live in `replay`."""
    if ignore_rule_only_turns:
        if not replay.turn_was_hidden:
            replay.last_ml_action_sub_state = domain._get_prev_action_sub_state(prior)
        if not prior.followup_action and prior.latest_action_name != prior.active_loop_name:
            replay.turn_was_hidden = hide_rule_turn
        if replay.turn_was_hidden:
            return
    state = domain.get_active_state(prior, omit_unset_slots=omit_unset_slots)
    if ignore_rule_only_turns:
        domain._remove_rule_only_features(state, rule_only_data)
        if states:
            domain._substitute_rule_only_user_input(state, states[-1])
        if replay.last_ml_action_sub_state:
            state[PREVIOUS_ACTION] = replay.last_ml_action_sub_state
    # copied: its sub-states may be the replayed tracker's own dictionaries
    states.append(_copy(domain._clean_state(state)))
    replay.featurized_message = prior.latest_message


def _changes_a_remembered_message(replay: Replay, event: Event) -> bool:
    """Whether `event` changed (when the tracker took it) the user message of a state
    already remembered: those events act on the latest message right after action_listen."""
    return (
        isinstance(event, (DefinePrevUserUtteredFeaturization, EntitiesAdded))
        and replay.tracker.latest_action_name == ACTION_LISTEN_NAME
        and replay.tracker.latest_message is replay.featurized_message
    )


def _replay_new_events(
    domain: Domain,
    replay: Replay,
    applied: list[Event],
    arguments: tuple[bool, bool, dict[str, Any] | None],
    remembered: bool = True,
) -> bool:
    """Replays the applied events `replay` has not seen; False, leaving `replay` half
    done, if one of them changed a message already in states `remembered` from an
    earlier call."""
    for event in applied[len(replay.events) :]:
        if remembered and _changes_a_remembered_message(replay, event):
            return False
        if isinstance(event, ActionExecuted):
            _add_state(
                domain, replay, replay.tracker, event.hide_rule_turn, *arguments, replay.states
            )
        replay.tracker.update(event)
        replay.events.append(event)
    return True


def states_for_tracker_history(
    self: Domain,
    tracker: DialogueStateTracker,
    omit_unset_slots: bool = False,
    ignore_rule_only_turns: bool = False,
    rule_only_data: dict[str, Any] | None = None,
) -> list[State]:
    """Rasa's Domain.states_for_tracker_history, replaying only new events."""
    # RulePolicy builds a new rule_only_data dictionary for each call: key on its content
    rule_only_key = json.dumps(rule_only_data, sort_keys=True, default=str)
    variant = (id(self), omit_unset_slots, ignore_rule_only_turns, rule_only_key)
    applied = tracker.applied_events()
    arguments = (omit_unset_slots, ignore_rule_only_turns, rule_only_data)
    replays = _replays.setdefault(tracker.sender_id, {})
    replay = replays.get(variant)
    if (
        replay is None
        or len(replay.events) > len(applied)
        or not all(map(operator.is_, replay.events, applied))
        or not _replay_new_events(self, replay, applied, arguments)
    ):
        # from the start, every message is featurized as it is now, as in Rasa's replay
        replay = Replay(tracker.init_copy())
        _replay_new_events(self, replay, applied, arguments, remembered=False)
    replays[variant] = replay
    _replays.move_to_end(tracker.sender_id)
    while len(_replays) > MAX_CONVERSATIONS:
        _replays.popitem(last=False)

    # The state after the last event is not kept: later events may come before the
    # next action and change it.
    states = [_copy(state) for state in replay.states]
    current = Replay(
        replay.tracker,
        last_ml_action_sub_state=replay.last_ml_action_sub_state,
        turn_was_hidden=replay.turn_was_hidden,
    )
    _add_state(self, current, replay.tracker, False, *arguments, states)
    return states


@dataclass
class AppliedPrefix:
    """Rasa's applied events of the first `count` events of one tracker's deque."""

    events: deque[Event]
    count: int
    first: Event | None
    last: Event | None
    loop_names: set[str]
    applied: list[Event]


def _loop_names(events: Iterable[Event]) -> set[str]:
    return {event.name for event in events if isinstance(event, ActiveLoop) and event.name}


def _fold(
    tracker: DialogueStateTracker,
    events: Iterable[Event],
    loop_names: set[str],
    applied: list[Event],
) -> None:
    """The body of Rasa's loop in DialogueStateTracker.applied_events, continuing from
    `applied` (changed in place)."""
    for event in events:
        if isinstance(event, (Restarted, SessionStarted)):
            applied.clear()
        elif isinstance(event, ActionReverted):
            tracker._undo_till_previous(ActionExecuted, applied)
        elif isinstance(event, UserUtteranceReverted):
            # the user's message, then the action before it (action_listen)
            tracker._undo_till_previous(UserUttered, applied)
            tracker._undo_till_previous(ActionExecuted, applied)
        elif (
            isinstance(event, ActionExecuted)
            and event.action_name in loop_names
            and not tracker._first_loop_execution_or_unhappy_path(event.action_name, applied)
        ):
            tracker._undo_till_previous_loop_execution(event.action_name, applied)
        else:
            applied.append(event)


def _from_start(tracker: DialogueStateTracker) -> AppliedPrefix:
    events = tracker.events
    prefix = AppliedPrefix(
        events,
        len(events),
        events[0] if events else None,
        events[-1] if events else None,
        _loop_names(events),
        [],
    )
    _fold(tracker, events, prefix.loop_names, prefix.applied)
    return prefix


def _continues(prefix: AppliedPrefix, events: deque[Event]) -> bool:
    """Whether `events` still begin with the events `prefix` was built from."""
    if prefix.events is not events or len(events) < prefix.count:
        return False
    if prefix.count == 0:
        return True
    return events[0] is prefix.first and events[prefix.count - 1] is prefix.last


def _events_after(events: deque[Event], count: int) -> list[Event]:
    # from the right end: the cost is that of the new events, not of the whole deque
    newest_first = list(itertools.islice(reversed(events), len(events) - count))
    newest_first.reverse()
    return newest_first


def applied_events(self: DialogueStateTracker) -> list[Event]:
    """Rasa's DialogueStateTracker.applied_events, reading only the events added since
    the last call."""
    events = self.events
    prefix: AppliedPrefix | None = getattr(self, "_coach_applied_events", None)
    # dropped while it is being extended: an error halfway leaves no half-read prefix
    self._coach_applied_events = None
    if prefix is None or not _continues(prefix, events):
        prefix = _from_start(self)
    elif len(events) > prefix.count:
        new_events = _events_after(events, prefix.count)
        if _loop_names(new_events) <= prefix.loop_names:
            _fold(self, new_events, prefix.loop_names, prefix.applied)
            prefix.count = len(events)
            prefix.last = new_events[-1]
        else:
            prefix = _from_start(self)
    self._coach_applied_events = prefix
    return list(prefix.applied)


def install() -> None:
    Domain.states_for_tracker_history = states_for_tracker_history
    DialogueStateTracker.applied_events = applied_events
