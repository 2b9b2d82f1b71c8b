"""Rasa's REST channel for trusted integrations, and the terminal chat's channel.

Every POST to /webhooks/rest/webhook (or /webhooks/terminal/webhook) must carry
`Authorization: Bearer <REST_CHANNEL_TOKEN>`; without it, or with a wrong one, the
answer is 401 and nothing is stored. The launcher makes a random token for each run
unless REST_CHANNEL_TOKEN is set (docs/security.md).

The body must then be a JSON object with a string `message`, a valid `sender` id and,
optionally, an object `metadata`. Anything else gets a 4xx with a one-line reason
before Rasa sees it: 415 for another content type, 400 for broken JSON or a wrong shape,
429 (with Retry-After) past the sender's rate limit. The message text then passes the
shared guards (callback_coach.guards).

The sender an integration names is its own: the conversation id is `rest:<sender>`
(`terminal:<sender>` for the terminal chat), so no REST caller can reach a web, Slack or
Telegram conversation. Of the metadata only the keys the coach reads are kept
(callback_coach.identity.client_metadata). The client cannot name another input
channel (`input_channel`): the channel decides where reminders are delivered.
"""

from __future__ import annotations

from typing import Any

from rasa.core.channels.channel import InputChannel
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from callback_coach.guards import BadRequestBody, Handler, guarded, json_body
from callback_coach.identity import InvalidIdPart, client_metadata, conversation_id
from callback_coach.shared_secret import carries_secret, check_secret, unauthorized


class CoachRestInput(RestInput):
    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        token = (credentials or {}).get("token")
        if not token:
            cls.raise_missing_credentials_exception()
        return cls(check_secret("REST_CHANNEL_TOKEN", str(token)))

    def __init__(self, token: str) -> None:
        self.token = token

    def _extract_input_channel(self, req: Request) -> str:
        return self.name()

    async def _extract_sender(self, req: Request) -> str | None:
        # checked by the middleware below, before Rasa reads it
        return conversation_id(self.name(), req.json["sender"])

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        return client_metadata(request.json.get("metadata"))

    def blueprint(self, on_new_message: Handler) -> Blueprint:
        # the rate limit is applied below, where it can answer 429
        handler = guarded(on_new_message, limit_rate=False)
        webhook = super().blueprint(handler)
        handler.attach(webhook)

        @webhook.middleware("request")
        async def checked(request: Request) -> HTTPResponse | None:
            if request.method != "POST":
                return None  # the health check
            if not carries_secret(request.headers.get("Authorization"), self.token):
                return unauthorized()
            try:
                sender_id = self._checked_sender(json_body(request))
            except BadRequestBody as bad:
                return bad.response()
            decision = await handler.guard.limiter.hit(sender_id)
            if not decision.allowed:
                return response.json(
                    {"error": "Too many messages from this sender; try again later."},
                    status=429,
                    headers={"Retry-After": str(decision.retry_after)},
                )
            return None

        return webhook

    def _checked_sender(self, body: Any) -> str:
        """The conversation id of a well-formed message; BadRequestBody(400) says what
        is wrong."""
        if not isinstance(body, dict):
            raise BadRequestBody(400, "The body must be a JSON object.")
        if not isinstance(body.get("message"), str):
            raise BadRequestBody(400, "`message` must be a string.")
        if body.get("metadata") is not None and not isinstance(body["metadata"], dict):
            raise BadRequestBody(400, "`metadata` must be an object.")
        try:
            return conversation_id(self.name(), body.get("sender"))  # type: ignore[arg-type]
        except InvalidIdPart:
            raise BadRequestBody(
                400,
                "`sender` must be 1 to 128 characters: ASCII letters, digits and _-.@+ "
                "(no ':' or '..').",
            ) from None


class CoachTerminalInput(CoachRestInput):
    """The terminal chat (`make run`): the REST channel under its own name, so its
    conversations are `terminal:<login>` and its reminders are kept for it to fetch."""

    @classmethod
    def name(cls) -> str:
        return "terminal"
