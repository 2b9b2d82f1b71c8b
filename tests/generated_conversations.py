"""Conversations for property tests of our replacements of Rasa's tracker methods: events
of every kind the tracker reacts to, with rewinds, restarts, session starts, loops,
follow-ups and trackers loaded afresh, optionally on a tracker that keeps only the
last few events."""

from __future__ import annotations

import uuid
from pathlib import Path

from hypothesis import strategies as st
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActionReverted,
    ActiveLoop,
    AllSlotsReset,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    DefinePrevUserUtteredFeaturization,
    EntitiesAdded,
    Event,
    FollowupAction,
    LoopInterrupted,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

DOMAIN = Domain.load(str(Path(__file__).resolve().parent.parent / "domain.yml"))
RELOAD = "reload"  # not an event: the tracker is rebuilt from its stored form

TEXT_SLOTS = [slot.name for slot in DOMAIN.slots if slot.type_name == "text"]
FLOAT_SLOTS = [slot.name for slot in DOMAIN.slots if slot.type_name == "float"]
# "some_form" is also run as an action: before its first ActiveLoop event Rasa treats
# those runs as ordinary actions, after it as the loop's
LOOP_NAMES = ["some_form", "other_form"]

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
loop_runs = st.builds(ActionExecuted, st.sampled_from(LOOP_NAMES))
loop_events = st.one_of(
    st.builds(ActiveLoop, st.sampled_from([None, *LOOP_NAMES])),
    st.builds(ActionExecutionRejected, st.sampled_from(LOOP_NAMES)),
    st.builds(LoopInterrupted, st.booleans()),
)
slot_values = st.one_of(
    st.builds(SlotSet, st.sampled_from(TEXT_SLOTS), st.sampled_from([None, "Acme Corp", "x"])),
    st.builds(SlotSet, st.sampled_from(FLOAT_SLOTS), st.sampled_from([None, 1.0, 3.0])),
)
# changes to the latest user message (Rasa applies them after action_listen only)
message_changes = st.one_of(
    st.builds(
        EntitiesAdded,
        st.just([{"entity": "person", "value": "Sam", "start": 0, "end": 3}]),
    ),
    st.builds(DefinePrevUserUtteredFeaturization, st.booleans()),
)
others = st.sampled_from(
    [
        UserUtteranceReverted,
        ActionReverted,
        Restarted,
        SessionStarted,
        AllSlotsReset,
        ConversationPaused,
        ConversationResumed,
    ]
).map(lambda event_class: event_class())
events = st.one_of(
    user_messages,
    actions,
    actions,
    loop_runs,
    loop_events,
    slot_values,
    message_changes,
    st.builds(BotUttered, st.sampled_from(["Hello", None])),
    st.builds(FollowupAction, st.just("action_coach")),
    others,
    st.just(RELOAD),
)
conversations = st.lists(events, min_size=1, max_size=40)
# None: every event kept; small limits drop events from the start of longer conversations
max_event_histories = st.sampled_from([None, None, 4, 30])


def new_tracker(max_event_history: int | None) -> DialogueStateTracker:
    return DialogueStateTracker(
        f"generated-{uuid.uuid4().hex}", DOMAIN.slots, max_event_history=max_event_history
    )


def reloaded(tracker: DialogueStateTracker) -> DialogueStateTracker:
    return DialogueStateTracker.from_dict(
        tracker.sender_id,
        [event.as_dict() for event in tracker.events],
        DOMAIN.slots,
        max_event_history=tracker._max_event_history,
    )


def apply(tracker: DialogueStateTracker, step: Event | str) -> DialogueStateTracker:
    """The tracker after one generated step: an event added, or the tracker reloaded."""
    if step == RELOAD:
        return reloaded(tracker)
    assert isinstance(step, Event)
    tracker.update(step)
    return tracker
