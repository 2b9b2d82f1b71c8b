"""The action server answers only requests that carry ACTION_SERVER_TOKEN.

Rasa sends it as `Authorization: Bearer …` (endpoints.yml, action_endpoint headers).
Without it anyone who reaches the port could run our actions for any conversation,
including the one that erases a user's records. /health stays open for probes.
"""

from __future__ import annotations

from collections.abc import Mapping

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse

from callback_coach.shared_secret import carries_secret, check_secret, unauthorized

OPEN_PATHS = frozenset({"/health"})


def require_action_token(app: Sanic, env: Mapping[str, str]) -> None:
    """Refuses every request but /health without the token; a ValueError when the
    token is unset or too short, so the server does not start unprotected."""
    token = check_secret("ACTION_SERVER_TOKEN", env.get("ACTION_SERVER_TOKEN"))

    @app.middleware("request")
    async def check_token(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS or carries_secret(
            request.headers.get("Authorization"), token
        ):
            return None
        return unauthorized()
