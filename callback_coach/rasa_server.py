"""The `rasa` command with the action-response check made cheap.

For every custom action, Rasa validates the action server's answer with
`jsonschema.validate`, which first re-checks Rasa's large events schema against the
JSON-Schema meta-schema and builds a new validator each time: a third of a turn's
time in our profile. Here the validator is built and checked once and reused; the
same answers pass and fail, with the same error. The launcher, tests and benchmark run
the server as

    python -m callback_coach.rasa_server run --model ... [any `rasa run` option]

and plain `rasa run` still works, only slower per turn and without the fault
handling: a reply when the action server or the database is away
(callback_coach.action_fallback, callback_coach.tracker_outage).
"""

from __future__ import annotations

import functools
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, exceptions, validators
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

from callback_coach import action_fallback, tracker_outage


@functools.lru_cache(maxsize=1)
def action_response_validator() -> Draft202012Validator:
    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """Rasa's RemoteAction._validate_action_result with the validator reused."""
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


def install() -> None:
    RemoteAction._validate_action_result = validate_action_result
    action_fallback.install()
    tracker_outage.install()


def main() -> None:
    try:
        install()
    except ValueError as error:  # a bad setting, e.g. ACTION_TIMEOUT_SECONDS
        raise SystemExit(f"error: {error}") from None
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
