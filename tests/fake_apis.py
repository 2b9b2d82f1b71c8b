"""Loopback stand-ins for Slack's Web API and Telegram's Bot API (both unreachable from
here): they answer like the real services and record every call."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from callback_coach.launcher import free_port

BOT_NAME = "callback_coach_bot"


class FakeApis:
    def __init__(self) -> None:
        self.port = free_port()
        self.calls: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._message_id = 0

    @property
    def slack_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    @property
    def telegram_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/{method}", self._slack)
        app.router.add_post("/bot{token}/{method}", self._telegram)
        started = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(self._loop)
            self._runner = web.AppRunner(app)
            self._loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", self.port)
            self._loop.run_until_complete(site.start())
            started.set()
            self._loop.run_forever()

        threading.Thread(target=serve, daemon=True).start()
        assert started.wait(10), "the fake APIs did not start"

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)

    def _record(self, service: str, method: str, body: dict[str, Any]) -> None:
        with self._lock:
            self.calls.append({"service": service, "method": method, "body": body})

    def recorded(
        self, service: str, method: str, where: Callable[[dict[str, Any]], bool] = lambda b: True
    ) -> list[dict[str, Any]]:
        with self._lock:
            return [
                c["body"]
                for c in self.calls
                if c["service"] == service and c["method"] == method and where(c["body"])
            ]

    def wait_for(
        self,
        service: str,
        method: str,
        where: Callable[[dict[str, Any]], bool],
        count: int = 1,
        timeout: float = 20,
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.recorded(service, method, where)
            if len(found) >= count:
                return found
            time.sleep(0.2)
        raise AssertionError(
            f"no {service} {method} call matched within {timeout:.0f} s: {self.calls[-5:]}"
        )

    async def _slack(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        body = (
            await request.json()
            if request.content_type == "application/json"
            else dict(await request.post())
        )
        self._record("slack", method, body)
        if request.headers.get("Authorization") != "Bearer xoxb-test-token":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if method == "chat.postMessage":
            return web.json_response(
                {"ok": True, "channel": body.get("channel"), "ts": f"{time.time():.6f}"}
            )
        if method == "chat.postEphemeral":
            if not body.get("channel") or not body.get("user"):
                return web.json_response({"ok": False, "error": "invalid_arguments"})
            return web.json_response({"ok": True, "message_ts": f"{time.time():.6f}"})
        return web.json_response({"ok": True})

    async def _telegram(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        body = dict(await request.post())
        self._record("telegram", method, body)
        if method == "getMe":
            return web.json_response(
                {
                    "ok": True,
                    "result": {
                        "id": 42,
                        "is_bot": True,
                        "first_name": "Coach",
                        "username": BOT_NAME,
                    },
                }
            )
        if method == "setWebhook":
            return web.json_response({"ok": True, "result": True})
        if method == "sendMessage":
            markup = json.loads(str(body.get("reply_markup") or "{}"))
            for row in markup.get("inline_keyboard", []):
                for button in row:
                    if len(button.get("callback_data", "").encode()) > 64:
                        # what the real Bot API answers
                        return web.json_response(
                            {
                                "ok": False,
                                "error_code": 400,
                                "description": "Bad Request: BUTTON_DATA_INVALID",
                            },
                            status=400,
                        )
            self._message_id += 1
            return web.json_response(
                {
                    "ok": True,
                    "result": {
                        "message_id": self._message_id,
                        "date": int(time.time()),
                        "chat": {"id": int(body["chat_id"]), "type": "private"},
                        "text": body.get("text", ""),
                    },
                }
            )
        return web.json_response({"ok": True, "result": True})
