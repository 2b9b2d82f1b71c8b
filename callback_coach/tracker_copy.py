"""A copy of a tracker made from its state, not by replaying its events.

Rasa copies the tracker before running each action (MessageProcessor._run_action), and
its copy replays every event of the conversation into a new tracker: the longer the
conversation, the more every action costs. This copy starts from the same new tracker
(`init_copy`), gives it the same events in a new deque and takes over what the replay
would have set: slot values, pause, follow-up action, latest action, user message, bot
utterance and active loop. The latest messages are the very events, found among the
events since the last restart or session start; failing that, the copy keeps the blank
it was made with, as a replay would.

A tracker that keeps only its last events may have dropped some that made its state;
its copy replays, as Rasa's does. tests/test_tracker_copy.py checks the copies equal
Rasa's after every event of generated conversations, and stay apart from their source.
"""

from __future__ import annotations

import dataclasses
from collections import deque

from rasa.shared.core.events import BotUttered, Event, Restarted, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

ORIGINAL_COPY = DialogueStateTracker.copy


def _may_have_dropped_events(tracker: DialogueStateTracker) -> bool:
    limits = (tracker.events.maxlen, tracker._max_event_history)
    return any(limit is not None and len(tracker.events) >= limit for limit in limits)


def _is_event_since_reset(utterance: Event | None, tracker: DialogueStateTracker) -> bool:
    """Whether `utterance` is one of the tracker's events since its last restart or
    session start, which a replay leaves in place as the latest one; otherwise it is
    the blank a reset gave the tracker."""
    for event in reversed(tracker.events):
        if event is utterance:
            return True
        if isinstance(event, (Restarted, SessionStarted)):
            break
    return False


def _latest_message(source: DialogueStateTracker, blank: UserUttered | None) -> UserUttered | None:
    message = source.latest_message
    if message is None:
        return blank
    if _is_event_since_reset(message, source):
        return message
    # Each tracker has a blank of its own, which EntitiesAdded and
    # DefinePrevUserUtteredFeaturization change after action_listen: copy their effect.
    if blank is not None:
        blank.entities = list(message.entities)
        blank.use_text_for_featurization = message.use_text_for_featurization
    return blank


def _latest_bot_utterance(
    source: DialogueStateTracker, blank: BotUttered | None
) -> BotUttered | None:
    utterance = source.latest_bot_utterance
    if utterance is not None and _is_event_since_reset(utterance, source):
        return utterance
    return blank  # no event changes a bot utterance


def _copy_slot_values(source: DialogueStateTracker, clone: DialogueStateTracker) -> None:
    # init_copy gave the clone copies of these slots, reset; a replay sets value and flag
    for slot in source.slots.values():
        twin = clone.slots[slot.name]
        twin._value = slot._value
        twin._has_been_set = slot._has_been_set


def copy(self: DialogueStateTracker) -> DialogueStateTracker:
    """Rasa's DialogueStateTracker.copy, without replaying the events."""
    if _may_have_dropped_events(self):
        return ORIGINAL_COPY(self)
    clone = self.init_copy()
    clone.events = deque(self.events, clone.events.maxlen)
    _copy_slot_values(self, clone)
    clone._paused = self._paused
    clone.followup_action = self.followup_action
    clone.latest_action = None if self.latest_action is None else dict(self.latest_action)
    clone.latest_message = _latest_message(self, clone.latest_message)
    clone.latest_bot_utterance = _latest_bot_utterance(self, clone.latest_bot_utterance)
    clone.active_loop = None if self.active_loop is None else dataclasses.replace(self.active_loop)
    return clone


def install() -> None:
    DialogueStateTracker.copy = copy
