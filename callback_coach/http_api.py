"""Rasa's HTTP API (/conversations/..., /model/...): off unless RASA_ENABLE_API=true,
and then only with a token (RASA_API_TOKEN) that every request must carry.

Our `rasa run` wrapper (callback_coach.rasa_server) turns the variables into Rasa's
--enable-api/--auth-token options inside its own process, so the token never shows
on a command line (`ps`), and it refuses --enable-api without a token or JWT secret:
Rasa itself would serve the API to anyone who can reach the port.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from callback_coach.shared_secret import check_secret

ENABLED = {"1", "true", "yes", "on"}
DISABLED = {"", "0", "false", "no", "off"}
# Options of `rasa run` that protect the API (a JWT secret or key is Rasa's other way).
PROTECTING_OPTIONS = ("--auth-token", "--jwt-secret", "--jwt-private-key")


def api_enabled(env: Mapping[str, str]) -> bool:
    value = env.get("RASA_ENABLE_API", "").strip().lower()
    if value in ENABLED:
        return True
    if value in DISABLED:
        return False
    raise ValueError(f"RASA_ENABLE_API={value!r} must be true or false")


def api_arguments(env: Mapping[str, str]) -> list[str]:
    """The `rasa run` options the variables ask for; a clear error when the API is
    asked for without a usable token."""
    if not api_enabled(env):
        return []
    try:
        token = check_secret("RASA_API_TOKEN", env.get("RASA_API_TOKEN"))
    except ValueError as error:
        raise ValueError(
            f"RASA_ENABLE_API=true but {error}. Rasa's HTTP API is only served with a token: "
            "set RASA_API_TOKEN, or leave RASA_ENABLE_API unset to keep the API off."
        ) from None
    # "=": a token may start with "-", which would read as an option
    return ["--enable-api", f"--auth-token={token}"]


def run_arguments(argv: Sequence[str], env: Mapping[str, str]) -> list[str]:
    """`argv` of `rasa run` with the API options from the environment added."""
    arguments = list(argv)
    if len(arguments) < 2 or arguments[1] != "run":
        return arguments
    if "--enable-api" not in arguments:
        arguments += api_arguments(env)
    elif not any(
        argument == option or argument.startswith(option + "=")
        for argument in arguments
        for option in PROTECTING_OPTIONS
    ):
        raise ValueError(
            "--enable-api without --auth-token or a JWT secret would open Rasa's HTTP API "
            "to anyone; set RASA_ENABLE_API=true and RASA_API_TOKEN instead."
        )
    return arguments
