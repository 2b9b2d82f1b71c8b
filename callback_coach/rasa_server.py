"""The `rasa` command with the costliest parts of a turn made cheap, same results.

- The action-response check. For every custom action, Rasa validates the action
  server's answer with `jsonschema.validate`, which first re-checks Rasa's large events
  schema against the JSON-Schema meta-schema and builds a new validator each time (a
  third of a turn in our first profile), then tries every event against all 23 event
  schemas. Here the validators are built once and each event is checked against the
  one schema its `event` names; only an answer that fails gets Rasa's full check, so
  the same answers pass and fail, with the same error.
- Event classes by name: Rasa walks all Event subclasses for every event it reads.
- spaCy's entity recogniser ran twice per message: once on the lower-cased text for
  the features (where nothing reads its result) and once on the cased text in our
  entity extractor. It now runs only on the cased text.
- spaCy's model without the tables serving never reads whole, and loaded once instead
  of once per graph node (callback_coach/nlu/lean_spacy.py): about 175 MB less per Rasa
  process.
- The graph runs in plain order rather than through dask (callback_coach/graph_runner.py).
- The dialogue history's states, which the rule policy rebuilt from every event of the
  conversation several times per message, and the applied events, re-read from the
  first event on every call (callback_coach/dialogue_history.py).
- The tracker's copy before each action, which replayed every event of the
  conversation (callback_coach/tracker_copy.py).
- The rule policy's debug text of every state, written for each prediction even with
  the debug log off.
- Custom actions are sent the conversation's latest turns, not every event of it
  (callback_coach/action_payload.py).

The launcher, tests and benchmark run the server as

    python -m callback_coach.rasa_server run --model ... [any `rasa run` option]

and plain `rasa run` still works, only slower per turn and without the fault
handling: a reply when the action server or the database is away
(callback_coach.action_fallback, callback_coach.tracker_outage).

It also makes Rasa's Redis lock store safe between replicas (callback_coach/lock_store.py)
and caps request sizes (callback_coach.guards).
"""

from __future__ import annotations

import copy
import functools
import logging
import os
import sys
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, exceptions, validators
from rasa.core.actions.action import RemoteAction
from rasa.core.policies.rule_policy import RulePolicy
from rasa.nlu.utils.spacy_utils import SpacyNLP
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.events import Event
from spacy.language import Language
from spacy.tokens import Doc

from callback_coach import (
    action_fallback,
    action_payload,
    dialogue_history,
    graph_runner,
    http_api,
    lock_store,
    tracker_copy,
    tracker_outage,
)
from callback_coach.cors_origins import check_cors_origins
from callback_coach.guards import install_request_limits
from callback_coach.nlu import lean_spacy


@functools.lru_cache(maxsize=1)
def action_response_validator() -> Draft202012Validator:
    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


@functools.lru_cache(maxsize=1)
def event_validators() -> tuple[Draft202012Validator, dict[str, Draft202012Validator]] | None:
    """A validator for the answer without the per-event `oneOf`, and one per event type;
    None if the event schemas are not told apart by a distinct `event` constant."""
    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    outline = copy.deepcopy(schema)
    event_schemas = outline["properties"]["events"]["items"].pop("oneOf")
    by_type: dict[str, Draft202012Validator] = {}
    for event_schema in event_schemas:
        name = event_schema.get("properties", {}).get("event", {}).get("const")
        if not isinstance(name, str) or name in by_type:
            return None
        by_type[name] = validator_class(event_schema)
    return validator_class(outline), by_type


def surely_valid(result: Any) -> bool:
    """True only if Rasa's full check passes too: an event that matches the schema of
    the type it names matches no other (each requires a different `event`), which is
    what `oneOf` asks."""
    checks = event_validators()
    if checks is None:
        return False
    outline, by_type = checks
    if not outline.is_valid(result):
        return False
    for event in result.get("events") or []:
        event_check = by_type.get(event["event"])
        if event_check is None or not event_check.is_valid(event):
            return False
    return True


def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """Rasa's RemoteAction._validate_action_result, cheaper and with the same outcome."""
    if surely_valid(result):
        return True
    error: ValidationError | None = exceptions.best_match(
        action_response_validator().iter_errors(result)
    )
    if error is not None:
        error.message += (
            ". Failed to validate Action server response from API, make sure your "
            "response from the Action endpoint is valid. For more information about "
            f"the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


@functools.cache
def _event_class(type_name: str) -> type[Event] | None:
    return ORIGINAL_RESOLVE_BY_TYPE(type_name)


def resolve_event_class(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
    """Rasa's Event.resolve_by_type, remembering the classes it found."""
    try:
        return _event_class(type_name)
    except ValueError:
        if default is not None:
            return default
        raise


ORIGINAL_RESOLVE_BY_TYPE = Event.resolve_by_type


def doc_for_features(self: SpacyNLP, model: Language, text: str) -> Doc:
    """SpacyNLP's document for tokens and features, without named entities when the
    text is lower-cased (our extractor finds them on the cased text)."""
    if self._config.get("case_sensitive"):
        return model(self._preprocess_text(text))
    return model(self._preprocess_text(text), disable=["ner"])


ORIGINAL_FORMAT_TRACKER_STATES = RulePolicy.format_tracker_states
# Rasa's structlog drops a debug entry when this stdlib logger would (filter_by_level).
RULE_POLICY_LOG = logging.getLogger(RulePolicy.__module__)


def format_states_for_debug_log(states: list[dict[str, Any]]) -> str:
    """Rasa's text of the dialogue states for its debug log, written only when the
    debug log is on: the rule policy wrote it out, one line per state of the whole
    conversation, for every prediction."""
    if RULE_POLICY_LOG.isEnabledFor(logging.DEBUG):
        return ORIGINAL_FORMAT_TRACKER_STATES(states)
    return ""


def install() -> None:
    dialogue_history.install()
    tracker_copy.install()
    graph_runner.install()
    lean_spacy.install()
    RemoteAction._validate_action_result = validate_action_result
    Event.resolve_by_type = staticmethod(resolve_event_class)
    RulePolicy.format_tracker_states = staticmethod(format_states_for_debug_log)
    SpacyNLP._doc_for_text = doc_for_features
    lock_store.install()
    install_request_limits()
    action_fallback.install()
    action_payload.install()
    tracker_outage.install()


def main() -> None:
    try:
        install()
    except ValueError as error:  # a bad setting, e.g. ACTION_TIMEOUT_SECONDS
        sys.exit(f"error: {error}")
    try:  # Rasa's HTTP API only when asked for, and then only with a token
        sys.argv = http_api.run_arguments(sys.argv, os.environ)
        check_cors_origins(sys.argv)
    except ValueError as error:
        sys.exit(f"error: {error}")
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
