"""callback_coach.rasa_server: the reused validator accepts and rejects exactly what
Rasa's own check does, with the same message."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import SlotSet

from callback_coach import rasa_server

ORIGINAL_CHECK = RemoteAction._validate_action_result

VALID = [
    {"events": [], "responses": []},
    {
        "events": [{"event": "slot", "name": "situation", "value": "rejected", "timestamp": None}],
        "responses": [
            {"text": "Sorry to hear that.", "buttons": [{"title": "Yes", "payload": "/affirm"}]}
        ],
    },
    {"events": [{"event": "followup", "name": "action_listen"}], "responses": [{"text": "hi"}]},
]
INVALID = [
    {"events": [{"event": "slot"}]},  # a slot event without a name
    {"events": [{"event": "no_such_event"}]},
    {"events": "not a list"},
    {"responses": [{"text": "x"}], "events": [{"name": "situation"}]},  # no event type
]


@pytest.fixture
def action() -> RemoteAction:
    return RemoteAction("action_coach", None)


@pytest.mark.parametrize("result", VALID)
def test_valid_answers_pass_both_checks(action: RemoteAction, result: dict[str, Any]) -> None:
    assert ORIGINAL_CHECK(action, result) is True
    assert rasa_server.validate_action_result(action, result) is True


@pytest.mark.parametrize("result", INVALID)
def test_invalid_answers_fail_both_checks_with_the_same_message(
    action: RemoteAction, result: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError) as theirs:
        ORIGINAL_CHECK(action, result)
    with pytest.raises(ValidationError) as ours:
        rasa_server.validate_action_result(action, result)
    assert ours.value.message == theirs.value.message


def test_install_replaces_the_check(action: RemoteAction, monkeypatch: pytest.MonkeyPatch) -> None:
    from rasa.nlu.utils.spacy_utils import SpacyNLP
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import Event
    from rasa.shared.core.trackers import DialogueStateTracker

    # every patch install() makes is undone after this test
    monkeypatch.setattr(RemoteAction, "_validate_action_result", ORIGINAL_CHECK)
    import rasa.core.lock_store
    import rasa.core.processor
    import rasa.core.run
    from rasa.core.agent import Agent
    from rasa.core.processor import MessageProcessor

    for owner, name in (
        (Event, "resolve_by_type"),
        (SpacyNLP, "_doc_for_text"),
        (SpacyNLP, "load_model"),
        (Domain, "states_for_tracker_history"),
        (DialogueStateTracker, "applied_events"),
        (RemoteAction, "run"),
        (MessageProcessor, "handle_message"),
        (Agent, "_create_tracker_store"),
    ):
        monkeypatch.setattr(owner, name, owner.__dict__[name])
    for module, name in (
        (rasa.core.lock_store, "RedisLockStore"),
        (rasa.core.run, "configure_app"),
        (rasa.core.processor, "DaskGraphRunner"),
    ):
        monkeypatch.setattr(module, name, getattr(module, name))
    rasa_server.install()
    assert RemoteAction._validate_action_result is rasa_server.validate_action_result
    with pytest.raises(ValidationError):
        action._validate_action_result({"events": [{"event": "no_such_event"}]})


EVENT_TYPES = sorted(rasa_server.event_validators()[1])  # type: ignore[index]

# Event-like objects: a known or unknown type, with fields that fit some event or none.
field_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
events = st.one_of(
    st.fixed_dictionaries(
        {"event": st.sampled_from([*EVENT_TYPES, "no_such_event"])},
        optional={
            name: field_values
            for name in (
                "name",
                "value",
                "text",
                "timestamp",
                "policy",
                "confidence",
                "entities",
                "intent",
                "date_time",
                "metadata",
            )
        },
    ),
    st.dictionaries(st.text(max_size=6), field_values, max_size=3),
    field_values,
)
answers = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "events": st.one_of(st.lists(events, max_size=4), field_values),
            "responses": st.one_of(
                st.lists(
                    st.dictionaries(st.sampled_from(["text", "buttons", "image"]), field_values),
                    max_size=2,
                ),
                field_values,
            ),
        },
    ),
    field_values,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(answers)
def test_any_answer_gets_the_same_verdict_and_message_as_rasas_check(result: Any) -> None:
    action = RemoteAction("action_coach", None)
    try:
        ORIGINAL_CHECK(action, result)
        theirs = None
    except ValidationError as error:
        theirs = error.message
    try:
        rasa_server.validate_action_result(action, result)
        ours = None
    except ValidationError as error:
        ours = error.message
    assert ours == theirs


@pytest.mark.parametrize("type_name", [*EVENT_TYPES, "topic"])
def test_event_classes_are_found_as_rasa_finds_them(type_name: str) -> None:
    assert rasa_server.resolve_event_class(type_name) is rasa_server.ORIGINAL_RESOLVE_BY_TYPE(
        type_name
    )


def test_an_unknown_event_type_is_refused_or_defaulted_as_rasa_does() -> None:
    with pytest.raises(ValueError, match="Unknown event name"):
        rasa_server.resolve_event_class("no_such_event")
    assert rasa_server.resolve_event_class("no_such_event", SlotSet) is SlotSet


STATES: list[dict[str, Any]] = [
    {},
    {"user": {"intent": "greet"}, "prev_action": {"action_name": "action_listen"}},
    {"prev_action": {"action_name": "utter_greet"}, "slots": {"company": (1.0,)}},
]


@pytest.fixture()
def rule_policy_log() -> Iterator[logging.Logger]:
    log = rasa_server.RULE_POLICY_LOG
    level = log.level
    yield log
    log.setLevel(level)  # setLevel, unlike assigning the level, clears the logger's cache


def test_the_rule_policys_state_text_is_rasas_when_the_debug_log_is_on(
    rule_policy_log: logging.Logger,
) -> None:
    rule_policy_log.setLevel(logging.DEBUG)
    text = rasa_server.format_states_for_debug_log(STATES)
    assert text == rasa_server.ORIGINAL_FORMAT_TRACKER_STATES(STATES)
    assert "user intent: greet" in text


def test_the_rule_policys_state_text_is_not_written_when_nobody_reads_it(
    rule_policy_log: logging.Logger,
) -> None:
    rule_policy_log.setLevel(logging.INFO)
    assert rasa_server.format_states_for_debug_log(STATES) == ""
