"""callback_coach.dialogue_history gives exactly Rasa's states and applied events, asked
after every event of generated conversations (with rewinds, restarts, loops, hidden rule
turns, trackers loaded afresh and trackers that drop their oldest events), for every
variant the policies ask for; and reads each event once, not once per question."""

from __future__ import annotations

import operator
import uuid
from collections import OrderedDict
from collections.abc import Iterable

import pytest
from hypothesis import HealthCheck, given, settings
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    DefinePrevUserUtteredFeaturization,
    Event,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from callback_coach import dialogue_history
from tests.generated_conversations import (
    DOMAIN,
    apply,
    conversations,
    max_event_histories,
    new_tracker,
)

RULE_ONLY_DATA = {"slots": ["offered_reminder"], "loops": []}


def assert_same_events(ours: list[Event], theirs: list[Event]) -> None:
    assert len(ours) == len(theirs)
    assert all(map(operator.is_, ours, theirs))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conversations, max_event_histories)
def test_states_and_applied_events_are_rasas_after_every_event(
    conversation: list[Event | str], max_event_history: int | None
) -> None:
    tracker = new_tracker(max_event_history)
    for step in conversation:
        tracker = apply(tracker, step)
        assert_same_events(
            dialogue_history.applied_events(tracker),
            dialogue_history.ORIGINAL_APPLIED_EVENTS(tracker),
        )
        for omit_unset_slots in (False, True):
            for ignore_rule_only_turns in (False, True):
                arguments = (tracker, omit_unset_slots, ignore_rule_only_turns, RULE_ONLY_DATA)
                ours = dialogue_history.states_for_tracker_history(DOMAIN, *arguments)
                theirs = dialogue_history.ORIGINAL_STATES_FOR_TRACKER_HISTORY(DOMAIN, *arguments)
                assert ours == theirs


def test_returned_states_can_be_changed_without_changing_the_next_answer() -> None:
    tracker = DialogueStateTracker(f"history-{uuid.uuid4().hex}", DOMAIN.slots)
    for event in (
        ActionExecuted("action_listen"),
        UserUttered("hi", {"name": "greet", "confidence": 1.0}),
        ActionExecuted("utter_greet"),
        ActionExecuted("action_listen"),
    ):
        tracker.update(event)
    first = dialogue_history.states_for_tracker_history(DOMAIN, tracker)
    for state in first:  # as Rasa's featurizer does when it drops the user's text
        state.pop("user", None)
        for sub_state in state.values():
            sub_state.clear()
    again = dialogue_history.states_for_tracker_history(DOMAIN, tracker)
    assert again == dialogue_history.ORIGINAL_STATES_FOR_TRACKER_HISTORY(DOMAIN, tracker)
    assert any("user" in state for state in again)


def test_only_new_events_are_replayed(monkeypatch: pytest.MonkeyPatch) -> None:
    tracker = DialogueStateTracker(f"history-{uuid.uuid4().hex}", DOMAIN.slots)
    replayed: list[Event] = []
    original_update = DialogueStateTracker.update

    def counting_update(self: DialogueStateTracker, event: Event, *args: object) -> None:
        if self is not tracker:
            replayed.append(event)
        original_update(self, event, *args)

    monkeypatch.setattr(DialogueStateTracker, "update", counting_update)
    for number in range(20):
        tracker.update(ActionExecuted("action_listen"))
        tracker.update(UserUttered(f"message {number}", {"name": "greet", "confidence": 1.0}))
        tracker.update(ActionExecuted("utter_greet"))
        # RulePolicy passes a new, equal rule_only_data dictionary every time
        dialogue_history.states_for_tracker_history(
            DOMAIN, tracker, False, True, dict(RULE_ONLY_DATA)
        )
    assert len(replayed) == len(tracker.events)  # each event replayed once, not 20 times


def test_a_message_changed_after_its_state_was_remembered_is_featurized_anew() -> None:
    tracker = DialogueStateTracker(f"history-{uuid.uuid4().hex}", DOMAIN.slots)
    for event in (
        UserUttered("hi", {"name": "greet", "confidence": 1.0}),
        ActionExecuted("action_listen"),
        ActionExecuted("utter_greet"),
        UserUttered("again", {"name": "greet", "confidence": 1.0}),
        UserUtteranceReverted(),  # "hi" is the latest message again, after action_listen
        DefinePrevUserUtteredFeaturization(False),  # "hi" now counts by its intent only
    ):
        tracker.update(event)
        ours = dialogue_history.states_for_tracker_history(DOMAIN, tracker)
        assert ours == dialogue_history.ORIGINAL_STATES_FOR_TRACKER_HISTORY(DOMAIN, tracker)
    assert ours[0]["user"] == {"intent": "greet"}


def a_turn(number: int) -> list[Event]:
    return [
        UserUttered(f"message {number}", {"name": "greet", "confidence": 1.0}),
        ActionExecuted("utter_greet"),
        BotUttered("Hello"),
        ActionExecuted("action_listen"),
    ]


def test_applied_events_read_each_event_once(monkeypatch: pytest.MonkeyPatch) -> None:
    tracker = DialogueStateTracker(f"history-{uuid.uuid4().hex}", DOMAIN.slots)
    read: list[Event] = []
    original_fold = dialogue_history._fold

    def counting_fold(
        self: DialogueStateTracker,
        events: Iterable[Event],
        loop_names: set[str],
        applied: list[Event],
    ) -> None:
        events = list(events)
        read.extend(events)
        original_fold(self, events, loop_names, applied)

    monkeypatch.setattr(dialogue_history, "_fold", counting_fold)
    for number in range(50):
        for event in a_turn(number):
            tracker.update(event)
            # asked several times per event, as the processor and the policies do
            for _ in range(3):
                dialogue_history.applied_events(tracker)
    assert len(tracker.events) == 200
    assert len(read) == len(tracker.events)  # not 50 × 200 / 2
    assert_same_events(
        dialogue_history.applied_events(tracker), dialogue_history.ORIGINAL_APPLIED_EVENTS(tracker)
    )


def test_a_new_loop_name_changes_how_earlier_runs_of_that_action_count() -> None:
    tracker = DialogueStateTracker(f"history-{uuid.uuid4().hex}", DOMAIN.slots)
    for event in (
        ActionExecuted("action_listen"),
        UserUttered("hi", {"name": "greet", "confidence": 1.0}),
        ActionExecuted("some_form"),
        ActionExecuted("action_listen"),
        UserUttered("again", {"name": "inform", "confidence": 1.0}),
        ActionExecuted("some_form"),
        ActiveLoop("some_form"),
    ):
        tracker.update(event)
        dialogue_history.applied_events(tracker)
    theirs = dialogue_history.ORIGINAL_APPLIED_EVENTS(tracker)
    # the second run of the loop undoes the turn between the two runs
    assert len(theirs) == 4
    assert_same_events(dialogue_history.applied_events(tracker), theirs)


def test_applied_events_are_a_new_list_each_time() -> None:
    tracker = DialogueStateTracker(f"history-{uuid.uuid4().hex}", DOMAIN.slots)
    for event in a_turn(0):
        tracker.update(event)
    dialogue_history.applied_events(tracker).clear()
    assert_same_events(
        dialogue_history.applied_events(tracker), dialogue_history.ORIGINAL_APPLIED_EVENTS(tracker)
    )


def test_replaced_or_shortened_events_are_read_afresh() -> None:
    tracker = DialogueStateTracker(f"history-{uuid.uuid4().hex}", DOMAIN.slots)
    for number in range(3):
        for event in a_turn(number):
            tracker.update(event)
    dialogue_history.applied_events(tracker)
    kept = list(tracker.events)
    tracker.events = tracker._create_events(kept[:5])
    assert_same_events(
        dialogue_history.applied_events(tracker), dialogue_history.ORIGINAL_APPLIED_EVENTS(tracker)
    )
    tracker.events.pop()
    tracker.events.append(ActionExecuted("utter_greet"))
    assert_same_events(
        dialogue_history.applied_events(tracker), dialogue_history.ORIGINAL_APPLIED_EVENTS(tracker)
    )


def test_replays_are_kept_per_conversation_and_let_go_when_forgotten(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(dialogue_history, "_replays", OrderedDict())
    monkeypatch.setattr(dialogue_history, "MAX_CONVERSATIONS", 2)
    trackers = []
    for number in range(3):
        tracker = DialogueStateTracker(f"history-{uuid.uuid4().hex}", DOMAIN.slots)
        tracker.update(ActionExecuted("action_listen"))
        tracker.update(UserUttered(f"message {number}", {"name": "greet", "confidence": 1.0}))
        # two variants of the question, as the rule policy asks
        dialogue_history.states_for_tracker_history(DOMAIN, tracker, False, True, RULE_ONLY_DATA)
        dialogue_history.states_for_tracker_history(DOMAIN, tracker)
        trackers.append(tracker)
    first, second, third = (tracker.sender_id for tracker in trackers)
    # the conversation used longest ago is let go as a whole, not variant by variant
    assert list(dialogue_history._replays) == [second, third]
    assert len(dialogue_history._replays[third]) == 2

    dialogue_history.forget(third)
    assert list(dialogue_history._replays) == [second]
    # what is let go is worked out afresh, the same as Rasa's
    trackers[2].update(ActionExecuted("utter_greet"))
    assert dialogue_history.states_for_tracker_history(
        DOMAIN, trackers[2]
    ) == dialogue_history.ORIGINAL_STATES_FOR_TRACKER_HISTORY(DOMAIN, trackers[2])
