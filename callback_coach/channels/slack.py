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
- A conversation belongs to one person: its id is `slack:<team id>:<user id>`
  (callback_coach.identity), whichever DM or channel they write in. A message whose
  signed body names no team, or no valid user, gets 400 and is not passed on.
- The metadata passed on is what replies need (the channel, the thread, the bot's own
  user ids) and the place: private for a DM, shared for anything others can read
  (a channel, a group DM, a mention in a channel). In a shared place every reply is
  ephemeral (chat.postEphemeral), so only the person who wrote sees it.
- Replies outside a message (reminders, through get_output_channel() with no channel)
  go to the person's DM: the recipient `slack:T:U` is posted to `U`.
- Replies go in a thread only when the user wrote in one.
- The signing secret must be at least 16 characters (a real one is 32 hex digits), so a
  placeholder left in the settings stops the channel at start.
- `api_base_url` (optional) points the Web API client elsewhere: a Slack-compatible
  proxy, or the tests' loopback fake.
"""

from __future__ import annotations

import asyncio
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
from callback_coach.identity import (
    PLACE_KEY,
    PRIVATE,
    SHARED,
    InvalidIdPart,
    channel_of,
    conversation_id,
    hashed,
)
from callback_coach.shared_secret import check_secret

logger = logging.getLogger(__name__)


class CoachSlackBot(SlackBot):
    """Posts to `slack_channel`, or without one to the recipient's DM; with `only_for`
    (a Slack user id) every post is ephemeral, seen by that user alone."""

    def __init__(
        self,
        token: str,
        slack_channel: str | None = None,
        thread_id: str | None = None,
        proxy: str | None = None,
        api_base_url: str | None = None,
        only_for: str | None = None,
    ) -> None:
        super().__init__(token, slack_channel, thread_id, proxy)
        if api_base_url:
            self.client = AsyncWebClient(token, proxy=proxy, base_url=api_base_url)
        self.only_for = only_for

    async def _post_message(self, channel: str, **kwargs: Any) -> None:
        # Every send_* of SlackBot posts through here, to `slack_channel or recipient_id`.
        destination = _slack_destination(channel)
        if destination is None:
            logger.warning("Sent nothing to %s: not a Slack conversation.", hashed(channel))
            return
        if self.thread_id:
            kwargs["thread_ts"] = self.thread_id
        if self.only_for:
            await self.client.chat_postEphemeral(channel=destination, user=self.only_for, **kwargs)
        else:
            await self.client.chat_postMessage(channel=destination, **kwargs)

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        # Unlike Rasa's, a custom payload cannot name another channel: a reply stays
        # where the person wrote, or in their DM.
        message = {key: value for key, value in json_message.items() if key != "channel"}
        message.setdefault("as_user", True)
        await self._post_message(self.slack_channel or recipient_id, **message)


class CoachSlackInput(SlackInput):
    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        if not credentials:
            cls.raise_missing_credentials_exception()
        assert credentials is not None
        secret = credentials.get("slack_signing_secret")
        channel = cls(
            credentials.get("slack_token"),
            credentials.get("slack_channel"),
            credentials.get("proxy"),
            credentials.get("slack_retry_reason_header", "x-slack-retry-reason"),
            credentials.get("slack_retry_number_header", "x-slack-retry-num"),
            # Rasa drops only timeout retries; retries are judged by event id below.
            ["never"],
            True,  # threads, but only where the user wrote in one (get_metadata)
            check_secret("SLACK_SIGNING_SECRET", str(secret) if secret else None),
            # one conversation per person, never per channel or thread
            "sender",
        )
        channel.api_base_url = credentials.get("api_base_url") or None
        return channel

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.api_base_url: str | None = None
        self._seen_events = event_memory("slack")

    def get_output_channel(
        self,
        channel: str | None = None,
        thread_id: str | None = None,
        only_for: str | None = None,
    ) -> CoachSlackBot:
        # Without a channel (a reminder) the reply goes to the person's DM, never to the
        # configured `slack_channel`, which others read.
        return CoachSlackBot(
            self.slack_token, channel, thread_id, self.proxy, self.api_base_url, only_for
        )

    def get_metadata(self, request: Request) -> dict[str, Any]:
        metadata = super().get_metadata(request)
        metadata["thread_id"] = _thread_of(request)
        metadata[PLACE_KEY] = _place_of(request)
        return metadata

    async def process_message(
        self,
        request: Request,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        text: str,
        sender_id: str | None,
        metadata: dict[str, Any] | None,
    ) -> HTTPResponse:
        """Rasa calls this with the Slack user id as `sender_id`; the message is passed on
        under the person's conversation id, in a task of its own (Slack wants an answer
        within 3 s). Rasa's retry check is left out: the middleware drops retries."""
        team = _team_of(request)
        try:
            conversation = conversation_id("slack", team or "", sender_id or "")
        except InvalidIdPart:
            return response.text("A Slack message needs a team and a user.", status=400)
        assert sender_id is not None
        metadata = metadata or {}
        shared = metadata.get(PLACE_KEY) != PRIVATE
        output = self.get_output_channel(
            metadata.get("out_channel"),
            metadata.get("thread_id"),
            only_for=sender_id if shared else None,
        )
        message = UserMessage(
            text, output, conversation, input_channel=self.name(), metadata=metadata
        )

        async def handle() -> None:
            await on_new_message(message)

        task = asyncio.create_task(handle())
        # the loop keeps only a weak reference to a task
        self._background_tasks.add(task)
        task.add_done_callback(self._background_tasks.discard)
        return response.text("")

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
                body = request.ctx.slack_body = _slack_body(request)
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
    interaction = media_type(request) == "application/x-www-form-urlencoded"
    if interaction:
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
    if interaction and not isinstance((body.get("user") or {}).get("id"), str):
        # Rasa's handler reads it unchecked (a 500 without it)
        raise BadRequestBody(400, "An interaction needs a `user` with an `id`.")
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


def _checked_body(request: Request) -> dict[str, Any]:
    """The signed body the middleware checked."""
    body = getattr(request.ctx, "slack_body", None)
    return body if isinstance(body, dict) else {}


def _team_of(request: Request) -> str | None:
    """The workspace a signed event or interaction came from."""
    body = _checked_body(request)
    if media_type(request) == "application/x-www-form-urlencoded":
        team, user = body.get("team"), body.get("user") or {}
        candidates = [team.get("id") if isinstance(team, dict) else None, user.get("team_id")]
    else:
        candidates = [body.get("team_id")]
    return next((c for c in candidates if isinstance(c, str) and c), None)


def _place_of(request: Request) -> str:
    """Private for a DM; shared for anywhere others read (channels, group DMs)."""
    body = _checked_body(request)
    if media_type(request) == "application/x-www-form-urlencoded":
        channel = (body.get("channel") or {}).get("id")
        private = isinstance(channel, str) and channel.startswith("D")
    else:
        private = (body.get("event") or {}).get("channel_type") == "im"
    return PRIVATE if private else SHARED


def _slack_destination(channel: str) -> str | None:
    """Where to post for `slack_channel or recipient_id`: a Slack channel or user id as
    it is, a conversation id `slack:T:U` as the user `U` (their DM); None for another
    channel's conversation."""
    if channel_of(channel) is None:
        return channel
    name, _, rest = channel.partition(":")
    user = rest.partition(":")[2]
    return user if name == "slack" and user else None


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
