"""Rasa's socket.io channel, as the web widget needs it.

- With session_persistence, Rasa 3.6 forgets to await python-socketio 5's
  enter_room(), so the browser never joins its session's room and gets no replies;
  here it is awaited.
- The session id comes from the browser and becomes the Rasa sender id; one that is
  not a plain token (path or SQL tricks, very long) is replaced by a fresh one.
- With replicas (LOCK_STORE_TYPE=redis) a browser's socket lives in one replica, but a
  reminder may be triggered on another: every emit then also goes through Redis
  (python-socketio's AsyncRedisManager), and the replica holding the socket delivers it.
- Messages pass the shared input guards (callback_coach.guards: length, empty text,
  control characters, rate per session); a message that is not text is ignored, and
  a socket.io packet is capped at COACH_MAX_REQUEST_BYTES like any request.
- The widget renders markdown. Our replies are plain text: markdown's special
  characters are escaped (a draft's "[recruiter's name]" blank would otherwise lose
  its brackets) and line breaks (bullet lists) become markdown hard breaks.
"""

from __future__ import annotations

import json
import logging
import os
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import quote

import socketio
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint

from callback_coach.guards import GuardSettings, guarded

logger = logging.getLogger(__name__)

SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
HARD_BREAK = "  \n"
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")


def as_markdown(text: str) -> str:
    return MARKDOWN_SPECIAL.sub(r"\\\1", text).replace("\n", HARD_BREAK)


class CoachSocketIOOutput(SocketIOOutput):
    async def _send_message(self, socket_id: str, response: Any) -> None:
        text = response.get("text") if isinstance(response, dict) else None
        if isinstance(text, str):
            response = {**response, "text": as_markdown(text)}
        await super()._send_message(socket_id, response)


class CoachSocketIOInput(SocketIOInput):
    def get_output_channel(self) -> CoachSocketIOOutput | None:
        # reminders (trigger_intent) come out the same way as replies
        return CoachSocketIOOutput(self.sio, self.bot_message_evt) if self.sio else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        handler = guarded(on_new_message)
        socketio_webhook = super().blueprint(handler)
        handler.attach(socketio_webhook)
        sio = self.sio
        assert sio is not None
        share_emits_between_replicas(sio)
        # polling transport; the websocket one is capped by Sanic's WEBSOCKET_MAX_SIZE
        sio.eio.max_http_buffer_size = GuardSettings.from_env().max_request_bytes

        async def session_request(sid: str, data: dict[str, Any] | None) -> None:
            requested = (data or {}).get("session_id")
            session_id = (
                requested
                if isinstance(requested, str) and SESSION_ID.match(requested)
                else uuid.uuid4().hex
            )
            if self.session_persistence:
                await sio.enter_room(sid, session_id)
            await sio.emit("session_confirm", session_id, room=sid)

        # replaces Rasa's handler for the same event
        sio.on("session_request", namespace=self.namespace)(session_request)

        async def handle_message(sid: str, data: dict[str, Any]) -> None:
            if not isinstance(data, dict):
                return
            if self.session_persistence:
                sender_id = data.get("session_id")
                if not (isinstance(sender_id, str) and SESSION_ID.match(sender_id)):
                    logger.warning("Ignored a socket.io message without a valid session id.")
                    return
            else:
                sender_id = sid
            text = data.get("message")
            if not isinstance(text, str):
                logger.warning("Ignored a socket.io message whose text is not a string.")
                return
            metadata = data.get(self.metadata_key) or {}
            if isinstance(metadata, str):
                try:
                    metadata = json.loads(metadata)
                except ValueError:
                    metadata = {}
            message = UserMessage(
                text,
                CoachSocketIOOutput(sio, self.bot_message_evt),
                sender_id,
                input_channel=self.name(),
                metadata=metadata if isinstance(metadata, dict) else {},
            )
            await handler(message)

        # replaces Rasa's handler: our output channel, checked session ids
        sio.on(self.user_message_evt, namespace=self.namespace)(handle_message)
        return socketio_webhook


def share_emits_between_replicas(
    sio: socketio.AsyncServer, env: Mapping[str, str] | None = None
) -> bool:
    """Routes the server's emits through Redis when the replicas share Redis.

    Swapped in before any client connects, which is when python-socketio starts the
    manager. True when Redis is used.
    """
    env = os.environ if env is None else env
    if env.get("LOCK_STORE_TYPE") != "redis":
        return False
    manager = socketio.AsyncRedisManager(redis_url(env), channel="callback_coach_socketio")
    manager.set_server(sio)
    sio.manager = manager
    return True


def redis_url(env: Mapping[str, str]) -> str:
    """The Redis of Rasa's lock store (REDIS_HOST, REDIS_PORT, REDIS_PASSWORD, REDIS_DB)."""
    password = env.get("REDIS_PASSWORD")
    credentials = f":{quote(password, safe='')}@" if password else ""
    host = env.get("REDIS_HOST") or "127.0.0.1"
    port = env.get("REDIS_PORT") or "6379"
    return f"redis://{credentials}{host}:{port}/{env.get('REDIS_DB') or '1'}"
