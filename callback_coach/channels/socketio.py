"""Rasa's socket.io channel, as the web widget needs it, with sessions the server issues.

- The server issues each browser's session: the first `session_request` gets a new
  random id, sent back as `<id>.<signature>` (callback_coach.identity.WebSessions, keyed
  by WEB_SESSION_SECRET). The widget keeps it and presents it on reload, which keeps
  the history; a token the server did not sign gets a fresh session, never the one it
  claims. The conversation id is `web:<id>`, and it is the socket's own: the
  `session_id` a message names is ignored. A message on a socket that has no session
  yet is dropped.
- Only the configured origins may open the socket (`origins`: COACH_WEB_ORIGINS,
  space-separated; unset: the server's own origin). Rasa's channel lets any site in.
- With session_persistence, Rasa 3.6 forgets to await python-socketio 5's
  enter_room(), so the browser never joins its session's room and gets no replies;
  here it is awaited.
- With replicas (LOCK_STORE_TYPE=redis) a browser's socket lives in one replica, but a
  reminder may be triggered on another: every emit then also goes through Redis
  (python-socketio's AsyncRedisManager), and the replica holding the socket delivers it.
- Messages pass the shared input guards (callback_coach.guards: length, empty text,
  control characters, rate per session); a message that is not text is ignored, and
  a socket.io packet is capped at COACH_MAX_REQUEST_BYTES like any request. Of the
  metadata (`customData`) only the keys the coach reads are kept.
- The widget renders markdown. Our replies are plain text: markdown's special
  characters are escaped (a draft's "[recruiter's name]" blank would otherwise lose
  its brackets) and line breaks (bullet lists) become markdown hard breaks.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import quote

import socketio
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint

from callback_coach.guards import GuardSettings, guarded
from callback_coach.identity import WebSessions, client_metadata, conversation_id, hashed
from callback_coach.shared_secret import check_secret

logger = logging.getLogger(__name__)

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
    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        credentials = credentials or {}
        secret = check_secret("WEB_SESSION_SECRET", credentials.get("session_secret"))
        channel = cls(
            credentials.get("user_message_evt", "user_uttered"),
            credentials.get("bot_message_evt", "bot_uttered"),
            credentials.get("namespace"),
            True,  # a browser's session always has its room: reminders reach it
            credentials.get("socketio_path", "/socket.io"),
            metadata_key=credentials.get("metadata_key", "metadata"),
        )
        channel.sessions = WebSessions(secret)
        channel.allowed_origins = str(credentials.get("origins") or "").split() or None
        return channel

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sessions: WebSessions | None = None
        # None: only the server's own origin (python-engineio's same-origin check)
        self.allowed_origins: list[str] | None = None

    def get_output_channel(self) -> CoachSocketIOOutput | None:
        # reminders (trigger_intent) come out the same way as replies
        return CoachSocketIOOutput(self.sio, self.bot_message_evt) if self.sio else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        sessions = self.sessions
        if sessions is None:
            raise ValueError("the web channel needs WEB_SESSION_SECRET (session_secret)")
        handler = guarded(on_new_message)
        socketio_webhook = super().blueprint(handler)
        handler.attach(socketio_webhook)
        sio = self.sio
        assert sio is not None
        share_emits_between_replicas(sio)
        # Rasa opens the socket to every origin (cors_allowed_origins=[] turns the check off).
        sio.eio.cors_allowed_origins = self.allowed_origins
        # polling transport; the websocket one is capped by Sanic's WEBSOCKET_MAX_SIZE
        sio.eio.max_http_buffer_size = GuardSettings.from_env().max_request_bytes

        async def session_request(sid: str, data: Any) -> None:
            presented = data.get("session_id") if isinstance(data, dict) else None
            session = sessions.verify(presented)
            if session is None:
                session, token = sessions.issue()
            else:
                token = str(presented)
            conversation = conversation_id("web", session)
            await sio.save_session(sid, {"conversation": conversation}, namespace=self.namespace)
            await sio.enter_room(sid, conversation, namespace=self.namespace)
            await sio.emit("session_confirm", token, room=sid, namespace=self.namespace)

        # replaces Rasa's handler for the same event
        sio.on("session_request", namespace=self.namespace)(session_request)

        async def handle_message(sid: str, data: Any) -> None:
            if not isinstance(data, dict):
                return
            socket_session = await sio.get_session(sid, namespace=self.namespace)
            sender_id = socket_session.get("conversation")
            if not isinstance(sender_id, str):
                logger.warning("Ignored a socket.io message before its session_request.")
                return
            text = data.get("message")
            if not isinstance(text, str):
                logger.warning(
                    "Ignored a socket.io message whose text is not a string (%s).",
                    hashed(sender_id),
                )
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
                metadata=client_metadata(metadata),
            )
            await handler(message)

        # replaces Rasa's handler: our output channel, the socket's own session
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
