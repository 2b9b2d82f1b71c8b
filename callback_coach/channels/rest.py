"""Rasa's REST channel with its requests checked (docs/bad-input.md).

A POST to /webhooks/rest/webhook must be a JSON object with a string `message`, a
valid `sender` id and, optionally, an object `metadata`. Anything else gets a 4xx
with a one-line reason before Rasa sees it: 415 for another content type, 400 for
broken JSON or a wrong shape, 429 (with Retry-After) past the sender's rate limit.
The message text then passes the shared guards (callback_coach.guards).

The client cannot name another input channel (`input_channel`): the channel decides
where reminders are delivered, so it is always "rest" here.
"""

from __future__ import annotations

from typing import Any

from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from callback_coach.guards import BadRequestBody, Handler, guarded, json_body, valid_sender_id


class CoachRestInput(RestInput):
    def _extract_input_channel(self, req: Request) -> str:
        return self.name()

    def blueprint(self, on_new_message: Handler) -> Blueprint:
        # the rate limit is applied below, where it can answer 429
        handler = guarded(on_new_message, limit_rate=False)
        webhook = super().blueprint(handler)
        handler.attach(webhook)

        @webhook.middleware("request")
        async def checked(request: Request) -> HTTPResponse | None:
            if request.method != "POST":
                return None
            try:
                sender_id = _checked_sender(json_body(request))
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


def _checked_sender(body: Any) -> str:
    """The sender id of a well-formed message; BadRequestBody(400) says what is wrong."""
    if not isinstance(body, dict):
        raise BadRequestBody(400, "The body must be a JSON object.")
    if not isinstance(body.get("message"), str):
        raise BadRequestBody(400, "`message` must be a string.")
    if body.get("metadata") is not None and not isinstance(body["metadata"], dict):
        raise BadRequestBody(400, "`metadata` must be an object.")
    sender_id = body.get("sender")
    if not valid_sender_id(sender_id):
        raise BadRequestBody(
            400,
            "`sender` must be 1 to 128 characters: ASCII letters, digits and _-.:@+ (no '..').",
        )
    assert isinstance(sender_id, str)
    return sender_id
