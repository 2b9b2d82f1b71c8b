"""Rasa's Slack connector, stricter.

- A request without a valid Slack signature (or older than five minutes) gets 401
  before Rasa sees it; Rasa's own answer would be 400.
- Slack retries an event it thinks was slow. A retry of an event already accepted
  (same event_id) is acknowledged and dropped, whatever the retry reason, so the user
  never gets a second reply. With LOCK_STORE_TYPE=redis the accepted ids are kept in
  Redis, so this holds across replicas (callback_coach/channels/event_memory.py).
- A signed request whose body is not a Slack event or interaction (broken JSON, wrong
  shape, another content type) gets 400/415 instead of Rasa's 500; messages then pass
  the shared input guards (callback_coach.guards).
- Replies go in a thread only when the user wrote in one.
- `api_base_url` (optional) points the Web API client elsewhere: a Slack-compatible
  proxy, or the tests' loopback fake.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.slack import SlackBot, SlackInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from slack_sdk.web.async_client import AsyncWebClient

from callback_coach.channels.event_memory import event_memory
from callback_coach.guards import BadRequestBody, guarded, json_body, media_type, parse_json

logger = logging.getLogger(__name__)


class CoachSlackBot(SlackBot):
    def __init__(
        self,
        token: str,
        slack_channel: str | None = None,
        thread_id: str | None = None,
        proxy: str | None = None,
        api_base_url: str | None = None,
    ) -> None:
        super().__init__(token, slack_channel, thread_id, proxy)
        if api_base_url:
            self.client = AsyncWebClient(token, proxy=proxy, base_url=api_base_url)


class CoachSlackInput(SlackInput):
    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        if not credentials:
            cls.raise_missing_credentials_exception()
        assert credentials is not None
        channel = cls(
            credentials.get("slack_token"),
            credentials.get("slack_channel"),
            credentials.get("proxy"),
            credentials.get("slack_retry_reason_header", "x-slack-retry-reason"),
            credentials.get("slack_retry_number_header", "x-slack-retry-num"),
            # Rasa drops only timeout retries; retries are judged by event id below.
            ["never"],
            True,  # threads, but only where the user wrote in one (get_metadata)
            credentials.get("slack_signing_secret", ""),
            credentials.get("conversation_granularity", "sender"),
        )
        channel.api_base_url = credentials.get("api_base_url") or None
        return channel

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.api_base_url: str | None = None
        self._seen_events = event_memory("slack")

    def get_output_channel(
        self, channel: str | None = None, thread_id: str | None = None
    ) -> CoachSlackBot:
        return CoachSlackBot(
            self.slack_token,
            channel or self.slack_channel,
            thread_id,
            self.proxy,
            self.api_base_url,
        )

    def get_metadata(self, request: Request) -> dict[str, Any]:
        metadata = super().get_metadata(request)
        metadata["thread_id"] = _thread_of(request)
        return metadata

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        handler = guarded(on_new_message)
        slack_webhook = super().blueprint(handler)
        handler.attach(slack_webhook)

        @slack_webhook.middleware("request")
        async def authentic_and_new(request: Request) -> HTTPResponse | None:
            if request.method != "POST":
                return None
            if not self.is_request_from_slack_authentic(request):
                return response.text("Not signed by Slack.", status=401)
            try:
                body = _slack_body(request)
            except BadRequestBody as bad:
                return bad.response()
            event_id = _event_id(body)
            if event_id is None:
                return None
            if not await self._seen_events.first_time(event_id):
                logger.info("Dropped Slack's retry of event %s: it was already handled.", event_id)
                return response.text("", status=200, headers={"X-Slack-No-Retry": "1"})
            return None

        return slack_webhook


def _slack_body(request: Request) -> dict[str, Any]:
    """The event (JSON) or interaction (form with a JSON `payload`), checked for the
    shape Rasa's handler reads; BadRequestBody otherwise."""
    if media_type(request) == "application/x-www-form-urlencoded":
        payload = request.form.get("payload")
        if not isinstance(payload, str):
            raise BadRequestBody(400, "An interaction needs a `payload` field.")
        body = parse_json(payload.encode())
        fields: dict[str, type] = {"user": dict, "channel": dict, "message": dict, "actions": list}
    else:
        body = json_body(request)
        fields = {"event": dict, "authorizations": list, "authed_users": list}
    if not isinstance(body, dict):
        raise BadRequestBody(400, "The body must be a JSON object.")
    for name, kind in fields.items():
        if body.get(name) is not None and not isinstance(body[name], kind):
            raise BadRequestBody(400, f"`{name}` has the wrong type.")
    parts = [body.get("event") or {}, body.get("user") or {}]
    parts += body.get("authorizations") or []
    parts += body.get("actions") or []
    for part in parts:
        if not isinstance(part, dict) or any(
            part.get(key) is not None and not isinstance(part[key], str)
            for key in ("text", "user", "id", "user_id", "type", "channel")
        ):
            raise BadRequestBody(400, "The body is not a Slack event or interaction.")
    return body


def _event_id(body: dict[str, Any]) -> str | None:
    event_id = body.get("event_id")
    return str(event_id) if event_id else None


def _thread_of(request: Request) -> str | None:
    """The thread the user wrote in; None for a message outside any thread."""
    content_type = request.headers.get("content-type")
    try:
        if content_type == "application/json":
            return (request.json.get("event") or {}).get("thread_ts")
        if content_type == "application/x-www-form-urlencoded":
            payload = json.loads(request.form["payload"][0])
            return (payload.get("message") or {}).get("thread_ts")
    except (AttributeError, KeyError, IndexError, ValueError, TypeError):
        return None
    return None
