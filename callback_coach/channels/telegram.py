"""Rasa's Telegram connector, with the secret token and two fixes.

- Telegram sends the webhook's secret in the X-Telegram-Bot-Api-Secret-Token header;
  every request without the right one is refused (403) before Rasa sees it. The
  secret is registered with setWebhook at start (aiogram 2.15 has no parameter for
  it, so the request is made by name).
- Rasa 3.6 creates the output channel with asyncio.run() at start and again for each
  trigger_intent call; the first leaves a client bound to a closed event loop and the
  second fails inside the running server. Here it is created once and reused.
- Inline buttons whose payload is longer than Telegram's 64 bytes are left out (and
  logged) rather than failing the whole message.
- `api_base_url` (optional) points the Bot API client elsewhere: a local Bot API
  server, or the tests' loopback fake.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram.bot.api import TelegramAPIServer
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.telegram import TelegramInput, TelegramOutput
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_CALLBACK_DATA_BYTES = 64


class CoachTelegramOutput(TelegramOutput):
    def __init__(self, access_token: str | None, api_base_url: str | None = None) -> None:
        super().__init__(access_token)
        if api_base_url:
            self.server = TelegramAPIServer.from_base(api_base_url)

    async def send_text_with_buttons(
        self,
        recipient_id: str,
        text: str,
        buttons: list[dict[str, Any]],
        button_type: str | None = "inline",
        **kwargs: Any,
    ) -> None:
        fitting = [
            b for b in buttons if len(str(b.get("payload", "")).encode()) <= MAX_CALLBACK_DATA_BYTES
        ]
        for button in buttons:
            if button not in fitting:
                logger.warning("Left out a button whose payload is over 64 bytes: %r", button)
        if not fitting:
            await self.send_text_message(recipient_id, text)
            return
        await super().send_text_with_buttons(recipient_id, text, fitting, button_type, **kwargs)


class CoachTelegramInput(TelegramInput):
    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        if not credentials:
            cls.raise_missing_credentials_exception()
        assert credentials is not None
        secret = str(credentials.get("secret_token") or "")
        if not secret:
            raise RasaException("telegram: set secret_token (TELEGRAM_SECRET_TOKEN)")
        return cls(
            credentials.get("access_token"),
            credentials.get("verify"),
            credentials.get("webhook_url"),
            secret,
            credentials.get("api_base_url") or None,
        )

    def __init__(
        self,
        access_token: str | None,
        verify: str | None,
        webhook_url: str | None,
        secret_token: str,
        api_base_url: str | None = None,
    ) -> None:
        # debug_mode off: a bad update is logged and answered, not re-raised as a 500
        super().__init__(access_token, verify, webhook_url, debug_mode=False)
        self.secret_token = secret_token
        self.api_base_url = api_base_url
        self._output: CoachTelegramOutput | None = None

    def get_output_channel(self) -> CoachTelegramOutput:
        if self._output is None:
            output = CoachTelegramOutput(self.access_token, self.api_base_url)

            async def register_webhook() -> None:
                try:
                    await output.request(
                        "setWebhook", {"url": self.webhook_url, "secret_token": self.secret_token}
                    )
                finally:
                    # the client session belongs to this short-lived loop; a new one is
                    # made on the server's loop at the first message
                    await output.close()

            try:
                asyncio.run(register_webhook())
            except Exception as error:
                raise RasaException(f"Failed to set the Telegram webhook: {error}") from error
            self._output = output
        return self._output

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        telegram_webhook = super().blueprint(on_new_message)

        @telegram_webhook.middleware("request")
        async def from_telegram(request: Request) -> HTTPResponse | None:
            if request.method == "GET" and request.path.rstrip("/").endswith("/telegram"):
                return None  # the health check
            given = request.headers.get(SECRET_HEADER, "")
            if not hmac.compare_digest(given.encode(), self.secret_token.encode()):
                return response.text("Forbidden", status=403)
            return None

        return telegram_webhook
