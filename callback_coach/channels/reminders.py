"""The internal channel our own processes use for reminders, so Rasa's HTTP API can stay off.

It offers exactly two things, both only to a caller with the shared secret
(REMINDER_CHANNEL_SECRET, sent as `Authorization: Bearer …`):

- POST /webhooks/reminders/deliver  {"sender": ..., "reminder_id": ..., "channel": ...}
  The reminder scheduler (action server) triggers the `reminder_due` intent for one
  conversation; the reply goes out on `channel` ("latest": the user's latest channel),
  as Rasa's trigger_intent endpoint would send it.
- GET /webhooks/reminders/delivered?sender=...&after=<timestamp>
  The terminal chat reads what the bot said in reminder turns newer than `after`.

Anything else (another intent, the whole tracker, other conversations) needs the API.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.agent import Agent
from rasa.core.channels.channel import (
    CollectingOutputChannel,
    InputChannel,
    OutputChannel,
    UserMessage,
)
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from callback_coach.shared_secret import carries_secret, check_secret, unauthorized
from callback_coach.terminal_chat import REMINDER_INTENT, reminder_messages

logger = logging.getLogger(__name__)

MAX_SENDER_LENGTH = 256


class ReminderInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "reminders"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        secret = (credentials or {}).get("secret")
        if not secret:
            cls.raise_missing_credentials_exception()
        return cls(check_secret("REMINDER_CHANNEL_SECRET", str(secret)))

    def __init__(self, secret: str) -> None:
        self.secret = secret

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        reminders = Blueprint("callback_coach_reminders", __name__)

        @reminders.middleware("request")
        async def require_secret(request: Request) -> HTTPResponse | None:
            if carries_secret(request.headers.get("Authorization"), self.secret):
                return None
            return unauthorized()

        @reminders.route("/deliver", methods=["POST"])
        async def deliver(request: Request) -> HTTPResponse:
            body = request.json if isinstance(request.json, dict) else {}
            sender, reminder_id = body.get("sender"), body.get("reminder_id")
            channel = body.get("channel") or "latest"
            if not _valid_sender(sender) or not isinstance(reminder_id, int):
                return response.json({"error": "needs a sender and an integer reminder_id"}, 400)
            if not isinstance(channel, str):
                return response.json({"error": "channel must be a channel name"}, 400)
            agent = _ready_agent(request)
            if agent is None:
                return response.json({"error": "the model is not loaded yet"}, 503)
            async with agent.lock_store.lock(sender):
                tracker = await agent.processor.fetch_tracker_and_update_session(sender)
                output = _output_channel(request, tracker, channel)
                await agent.trigger_intent(
                    intent_name=REMINDER_INTENT,
                    entities={"reminder_id": str(reminder_id)},
                    output_channel=output,
                    tracker=tracker,
                )
            return response.json({"delivered": reminder_id})

        @reminders.route("/delivered", methods=["GET"])
        async def delivered(request: Request) -> HTTPResponse:
            sender = request.args.get("sender")
            try:
                after = float(request.args.get("after", "0"))
            except ValueError:
                return response.json({"error": "after must be a timestamp"}, 400)
            if not _valid_sender(sender):
                return response.json({"error": "needs a sender"}, 400)
            agent = _ready_agent(request)
            if agent is None:
                return response.json({"error": "the model is not loaded yet"}, 503)
            tracker = await agent.tracker_store.retrieve(sender)
            events = [event.as_dict() for event in tracker.events] if tracker else []
            messages, newest = reminder_messages(events, after)
            return response.json({"messages": messages, "newest": newest})

        return reminders


def _valid_sender(sender: Any) -> bool:
    return isinstance(sender, str) and 0 < len(sender) <= MAX_SENDER_LENGTH


def _ready_agent(request: Request) -> Agent | None:
    agent = getattr(request.app.ctx, "agent", None)
    return agent if agent is not None and agent.is_ready() else None


def _output_channel(request: Request, tracker: DialogueStateTracker, channel: str) -> OutputChannel:
    """What Rasa's trigger_intent endpoint picks for ?output_channel=`channel`: the named
    (or, for "latest", the user's latest) input channel's output, else a collector."""
    if channel == "latest":
        channel = tracker.get_latest_input_channel() or ""
    chosen: OutputChannel = CollectingOutputChannel()
    for input_channel in getattr(request.app.ctx, "input_channels", None) or []:
        if input_channel.name() == channel:
            chosen = input_channel.get_output_channel() or chosen
    return chosen
