"""callback_coach.tracker_copy copies a tracker exactly as Rasa's replay does, after every
event of generated conversations: every attribute, the same event objects, and a copy
that changes apart from its source just as Rasa's copy does."""

from __future__ import annotations

import copy
import operator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActiveLoop,
    ConversationPaused,
    DefinePrevUserUtteredFeaturization,
    EntitiesAdded,
    Event,
    LoopInterrupted,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

from callback_coach import tracker_copy
from tests.generated_conversations import (
    TEXT_SLOTS,
    apply,
    conversations,
    max_event_histories,
    new_tracker,
)


def attributes(tracker: DialogueStateTracker) -> dict[str, Any]:
    # our caches are not the tracker's state
    return {name: value for name, value in vars(tracker).items() if not name.startswith("_coach_")}


def is_one_of(item: object, events: Any) -> bool:
    return any(event is item for event in events)


def assert_same_utterance(ours: Any, theirs: Any, source: Any, events: Any) -> None:
    """The very event a replay leaves in place; otherwise an equal blank of the copy's own."""
    if is_one_of(theirs, events):
        assert ours is theirs
    else:
        assert type(ours) is type(theirs)
        assert ours == theirs
        assert ours is not source
        assert not is_one_of(ours, events)


def assert_same_copy(
    ours: DialogueStateTracker, theirs: DialogueStateTracker, source: DialogueStateTracker
) -> None:
    our_attributes, their_attributes = attributes(ours), attributes(theirs)
    assert our_attributes.keys() == their_attributes.keys()
    for name, their_value in their_attributes.items():
        our_value = our_attributes[name]
        if name == "events":
            assert our_value is not source.events
            assert our_value.maxlen == their_value.maxlen
            assert len(our_value) == len(their_value)
            assert all(map(operator.is_, our_value, their_value))
        elif name == "slots":
            assert our_value.keys() == their_value.keys()
            for slot_name, their_slot in their_value.items():
                our_slot = our_value[slot_name]
                assert our_slot is not source.slots[slot_name]
                assert type(our_slot) is type(their_slot)
                assert our_slot.value == their_slot.value
                assert our_slot.has_been_set == their_slot.has_been_set
                assert vars(our_slot) == vars(their_slot)
        elif name in ("latest_message", "latest_bot_utterance"):
            # events of the source that a short deque may have dropped count too
            events = [*source.events, *theirs.events]
            assert_same_utterance(our_value, their_value, getattr(source, name), events)
        elif name in ("latest_action", "active_loop"):
            assert our_value == their_value
            assert our_value is None or our_value is not getattr(source, name)
        else:
            assert our_value == their_value, name
    assert ours.current_state(EventVerbosity.ALL) == theirs.current_state(EventVerbosity.ALL)


def snapshot(tracker: DialogueStateTracker) -> Any:
    return (
        copy.deepcopy(tracker.current_state(EventVerbosity.ALL)),
        list(tracker.events),
        {name: (slot.value, slot.has_been_set) for name, slot in tracker.slots.items()},
    )


def changes() -> list[Event]:
    """Events for a copy that change each part of its state in place or anew."""
    return [
        SlotSet(TEXT_SLOTS[0], "changed"),
        LoopInterrupted(True),
        ActionExecutionRejected("some_form"),
        ActionExecuted("action_listen"),
        UserUttered("changed", {"name": "greet", "confidence": 1.0}),
        ConversationPaused(),
        ActiveLoop("other_form"),
    ]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conversations, max_event_histories, st.booleans())
def test_the_copy_is_rasas_after_every_event(
    conversation: list[Event | str], max_event_history: int | None, with_model_id: bool
) -> None:
    tracker = new_tracker(max_event_history)
    for step in conversation:
        tracker = apply(tracker, step)
        if with_model_id:  # init_copy does not carry these: neither may the copy
            tracker.model_id, tracker.assistant_id = "model-1", "assistant-1"
        before = snapshot(tracker)
        ours = tracker_copy.copy(tracker)
        theirs = tracker_copy.ORIGINAL_COPY(tracker)
        assert_same_copy(ours, theirs, tracker)

        for change in changes():
            ours.update(change)
            theirs.update(change)
        assert_same_copy(ours, theirs, tracker)
        assert snapshot(tracker) == before


def test_the_blank_message_after_a_reset_is_copied_with_its_changes() -> None:
    tracker = new_tracker(None)
    for event in (
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted("action_listen"),
        # no user message yet: these change the blank message the reset left
        EntitiesAdded([{"entity": "company", "value": "Acme", "start": 0, "end": 4}]),
        DefinePrevUserUtteredFeaturization(True),
    ):
        tracker.update(event)
    before = snapshot(tracker)
    ours = tracker_copy.copy(tracker)
    theirs = tracker_copy.ORIGINAL_COPY(tracker)
    assert_same_copy(ours, theirs, tracker)
    assert ours.latest_message is not None
    assert ours.latest_message.use_text_for_featurization is True
    added = EntitiesAdded([{"entity": "person", "value": "Sam", "start": 0, "end": 3}])
    ours.update(added)
    theirs.update(added)
    assert_same_copy(ours, theirs, tracker)
    assert len(ours.latest_message.entities) == 2
    assert snapshot(tracker) == before


def test_the_copy_replays_no_event(monkeypatch: pytest.MonkeyPatch) -> None:
    tracker = new_tracker(None)
    for number in range(50):
        tracker.update(ActionExecuted("action_listen"))
        tracker.update(UserUttered(f"message {number}", {"name": "greet", "confidence": 1.0}))
        tracker.update(ActionExecuted("utter_greet"))
    replayed: list[Event] = []

    def counting_update(self: DialogueStateTracker, event: Event, *args: object) -> None:
        replayed.append(event)

    monkeypatch.setattr(DialogueStateTracker, "update", counting_update)
    clone = tracker_copy.copy(tracker)
    assert replayed == []
    assert len(clone.events) == 150
