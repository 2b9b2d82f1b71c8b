"""callback_coach.rasa_server: the reused validator accepts and rejects exactly what
Rasa's own check does, with the same message."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

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
    monkeypatch.setattr(RemoteAction, "_validate_action_result", ORIGINAL_CHECK)
    rasa_server.install()
    assert RemoteAction._validate_action_result is rasa_server.validate_action_result
    with pytest.raises(ValidationError):
        action._validate_action_result({"events": [{"event": "no_such_event"}]})
