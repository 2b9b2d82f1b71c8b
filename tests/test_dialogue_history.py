"""callback_coach.dialogue_history gives exactly Rasa's states and applied events, asked
after every event of generated conversations (with rewinds, restarts, hidden rule turns
and trackers loaded afresh), for every variant the policies ask for."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    Event,
    FollowupAction,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from callback_coach import dialogue_history

DOMAIN = Domain.load(str(Path(__file__).resolve().parent.parent / "domain.yml"))
RULE_ONLY_DATA = {"slots": ["offered_reminder"], "loops": []}
RELOAD = "reload"  # not an event: the tracker is rebuilt from its stored form

TEXT_SLOTS = [slot.name for slot in DOMAIN.slots if slot.type_name == "text"]

user_messages = st.builds(
    lambda intent, company: UserUttered(
        "some text",
        {"name": intent, "confidence": 1.0},
        [{"entity": "company", "value": company, "start": 0, "end": 4}] if company else [],
    ),
    st.sampled_from(DOMAIN.intents),
    st.sampled_from([None, "Acme Corp"]),
)
actions = st.builds(
    lambda name, hidden: ActionExecuted(name, hide_rule_turn=hidden),
    st.sampled_from(DOMAIN.action_names_or_texts),
    st.booleans(),
)
events = st.one_of(
    user_messages,
    actions,
    actions,
    st.builds(SlotSet, st.sampled_from(TEXT_SLOTS), st.sampled_from([None, "Acme Corp", "x"])),
    st.sampled_from(
        [
            UserUtteranceReverted(),
            ActionReverted(),
            Restarted(),
            SessionStarted(),
            FollowupAction("action_coach"),
            RELOAD,
        ]
    ),
)


def reloaded(tracker: DialogueStateTracker) -> DialogueStateTracker:
    return DialogueStateTracker.from_dict(
        tracker.sender_id, [event.as_dict() for event in tracker.events], DOMAIN.slots
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(events, min_size=1, max_size=40))
def test_states_and_applied_events_are_rasas_after_every_event(
    conversation: list[Event | str],
) -> None:
    tracker = DialogueStateTracker(f"history-{uuid.uuid4().hex}", DOMAIN.slots)
    for event in conversation:
        if event == RELOAD:
            tracker = reloaded(tracker)
        else:
            assert isinstance(event, Event)
            tracker.update(event)
        assert dialogue_history.applied_events(tracker) == dialogue_history.ORIGINAL_APPLIED_EVENTS(
            tracker
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
