"""A socket.io client that talks to the Rasa server as the web widget does."""

from __future__ import annotations

import threading
import time
from typing import Any

import socketio


class WidgetClient:
    """Connects, asks for a session (presenting `token` if given, as a reload does) and
    collects what the bot says. `token` is then what the server issued."""

    def __init__(self, url: str, token: str | None = None, origin: str | None = None) -> None:
        self.url = url
        self.client = socketio.Client(reconnection=False)
        self.replies: list[dict[str, Any]] = []
        self.token: str | None = None
        self._confirmed = threading.Event()
        self.client.on("bot_uttered", self.replies.append)
        self.client.on("session_confirm", self._confirm)
        headers = {"Origin": origin} if origin else {}
        self.client.connect(
            url,
            transports=["polling"],
            socketio_path="socket.io",
            wait_timeout=30,
            headers=headers,
        )
        self.client.emit("session_request", {"session_id": token} if token else {})
        if not self._confirmed.wait(30):
            raise AssertionError("no session_confirm")

    def _confirm(self, token: Any) -> None:
        self.token = token.get("session_id") if isinstance(token, dict) else token
        self._confirmed.set()

    @property
    def conversation(self) -> str:
        """The conversation id the server gave this browser: web:<session id>."""
        assert self.token is not None
        return "web:" + self.token.split(".", 1)[0]

    def say(self, text: str, **extra: Any) -> None:
        self.client.emit("user_uttered", {"message": text, "session_id": self.token, **extra})

    def wait_for(self, count: int, timeout: float = 30) -> list[dict[str, Any]]:
        """The replies so far, once there are `count` of them (or the time is up)."""
        deadline = time.monotonic() + timeout
        while len(self.replies) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        return list(self.replies)

    def texts(self) -> str:
        return "\n".join(str(r.get("text", "")).replace("\\", "") for r in self.replies)

    def close(self) -> None:
        # without waiting for the pending long poll, which the server holds up to 25 s
        self.client.eio.disconnect(abort=True)
