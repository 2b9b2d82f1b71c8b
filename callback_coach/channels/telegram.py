"""Rasa's Telegram connector, with the secret token and two fixes.

- Telegram sends the webhook's secret in the X-Telegram-Bot-Api-Secret-Token header;
  every request without the right one is refused (403) before Rasa sees it. The
  secret is registered with setWebhook at start (aiogram 2.15 has no parameter for
  it, so the request is made by name).
- Rasa 3.6 creates the output channel with asyncio.run() at start and again for each
  trigger_intent call; the first leaves a client bound to a closed event loop and the
  second fails inside the running server. Here it is created once and reused.
- An update that is not JSON gets 415/400, and one whose message, edit or button
  click lacks what Rasa reads (a chat id, text as a string) gets 400, where Rasa's
  handler would fail with a 500. An update of a kind we do not handle (a member
  change, a poll...) is acknowledged with 200, where Rasa's handler would also fail
  and Telegram would retry it. Messages then pass the shared input guards
  (callback_coach.guards).
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

from callback_coach.guards import BadRequestBody, guarded, json_body

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
        handler = guarded(on_new_message)
        telegram_webhook = super().blueprint(handler)
        handler.attach(telegram_webhook)

        @telegram_webhook.middleware("request")
        async def from_telegram(request: Request) -> HTTPResponse | None:
            if request.method == "GET" and request.path.rstrip("/").endswith("/telegram"):
                return None  # the health check
            given = request.headers.get(SECRET_HEADER, "")
            if not hmac.compare_digest(given.encode(), self.secret_token.encode()):
                return response.text("Forbidden", status=403)
            if request.method != "POST" or not request.path.rstrip("/").endswith("/webhook"):
                return None
            try:
                handled = _handled_update(json_body(request))
            except BadRequestBody as bad:
                return bad.response()
            return None if handled else response.text("success")

        return telegram_webhook


def _handled_update(update: Any) -> bool:
    """Whether Rasa's handler should read this update: True for a message, an edit or a
    button click in the shape it reads, False for another kind of update;
    BadRequestBody for a body that is not an update."""
    if not isinstance(update, dict):
        raise BadRequestBody(400, "The body must be a JSON object.")
    click, edit, message = (
        update.get(key) for key in ("callback_query", "edited_message", "message")
    )
    if click is not None:
        if not isinstance(click, dict) or not isinstance(click.get("data"), str):
            raise BadRequestBody(400, "A button click needs `data` as a string.")
        _check_message(click.get("message"))
        return True
    if edit is not None:
        _check_message(edit)
        return isinstance(edit.get("text"), str)
    if message is not None:
        _check_message(message)
        return True
    return False


def _check_message(message: Any) -> None:
    chat = message.get("chat") if isinstance(message, dict) else None
    chat_id = chat.get("id") if isinstance(chat, dict) else None
    if not isinstance(chat_id, int) or isinstance(chat_id, bool):
        raise BadRequestBody(400, "A message needs a chat with a numeric `id`.")
    assert isinstance(message, dict)
    if message.get("text") is not None and not isinstance(message["text"], str):
        raise BadRequestBody(400, "A message's `text` must be a string.")
    location = message.get("location")
    if location is not None and not (
        isinstance(location, dict)
        and all(
            isinstance(location.get(key), (int, float)) and not isinstance(location[key], bool)
            for key in ("latitude", "longitude")
        )
    ):
        raise BadRequestBody(400, "A location needs a numeric latitude and longitude.")
