"""Telegram, on Rasa's output channel with a receiving route of our own.

- Telegram sends the webhook's secret in the X-Telegram-Bot-Api-Secret-Token header;
  every request without the right one is refused (403). The secret (1-256 of
  A-Za-z0-9_-, as Telegram allows, and at least 16 characters) is registered with
  setWebhook at start (aiogram 2.15 has no parameter for it, so the request is made by
  name). Rasa's /set_webhook route, which would register the webhook without the
  secret, is gone.
- A conversation belongs to a person, not a chat: its id is `telegram:<user id>`
  (callback_coach.identity), the sender of the message or of the button click. Replies
  go to the chat the message came from; the metadata says whether that chat is private
  or shared (a group, a supergroup, a channel), and holds nothing else.
- Replies outside a message (reminders, through get_output_channel()) go to the
  person's private chat, whose id is their user id.
- An edited message is not a new one, and a message with no sender (a channel post)
  has no person to belong to: both are acknowledged and not passed on. So is an update
  of a kind we do not handle (a member change, a poll...), which Rasa's handler would
  fail on and Telegram would retry.
- An update that is not JSON gets 415/400, and one whose message, edit or button click
  lacks what we read (a chat id, a sender id, text as a string) gets 400, where Rasa's
  handler would fail with a 500. Messages then pass the shared input guards
  (callback_coach.guards).
- As in Rasa: `/restart` restarts the conversation and starts a new one, a shared
  location arrives as `{"lng":..., "lat":...}`. Unlike Rasa, "/bot" is not cut out of
  messages, and the bot's name (`verify`) is checked once at start, not with a getMe
  call for every update.
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
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram.bot.api import TelegramAPIServer
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.telegram import TelegramInput, TelegramOutput
from rasa.shared.constants import INTENT_MESSAGE_PREFIX
from rasa.shared.core.constants import USER_INTENT_RESTART
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from callback_coach.channels.event_memory import event_memory
from callback_coach.guards import BadRequestBody, guarded, json_body
from callback_coach.identity import PLACE_KEY, PRIVATE, SHARED, conversation_id, hashed
from callback_coach.shared_secret import check_secret

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# What setWebhook accepts as a secret_token.
_TELEGRAM_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
MAX_CALLBACK_DATA_BYTES = 64
RESTART = INTENT_MESSAGE_PREFIX + USER_INTENT_RESTART
_CHAT_ID = re.compile(r"^-?[0-9]{1,20}$")


class CoachTelegramOutput(TelegramOutput):
    """The bot's one Bot API client. A recipient is a chat id, or a conversation id
    `telegram:<user id>`, sent to the person's private chat."""

    def __init__(self, access_token: str | None, api_base_url: str | None = None) -> None:
        super().__init__(access_token)
        if api_base_url:
            self.server = TelegramAPIServer.from_base(api_base_url)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        chat = _chat_of(recipient_id)
        if chat is not None:
            await super().send_text_message(chat, text, **kwargs)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        chat = _chat_of(recipient_id)
        if chat is not None:
            await super().send_image_url(chat, image, **kwargs)

    async def send_text_with_buttons(
        self,
        recipient_id: str,
        text: str,
        buttons: list[dict[str, Any]],
        button_type: str | None = "inline",
        **kwargs: Any,
    ) -> None:
        chat = _chat_of(recipient_id)
        if chat is None:
            return
        fitting = [
            b for b in buttons if len(str(b.get("payload", "")).encode()) <= MAX_CALLBACK_DATA_BYTES
        ]
        for button in buttons:
            if button not in fitting:
                logger.warning("Left out a button whose payload is over 64 bytes: %r", button)
        if not fitting:
            await self.send_text_message(chat, text)
            return
        await super().send_text_with_buttons(chat, text, fitting, button_type, **kwargs)

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        chat = _chat_of(recipient_id)
        if chat is None:
            return
        # Unlike Rasa's, a custom payload cannot name another chat (`chat_id`): a reply
        # stays where the person wrote, or in their private chat.
        message = {key: value for key, value in json_message.items() if key != "chat_id"}
        await super().send_custom_json(chat, message, **kwargs)


class TelegramChatOutput(OutputChannel):
    """The replies to one message, all to the chat it came from, whichever conversation
    the message belongs to."""

    @classmethod
    def name(cls) -> str:
        return TelegramOutput.name()

    def __init__(self, bot: CoachTelegramOutput, chat_id: int) -> None:
        self.bot = bot
        self.chat = str(chat_id)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.bot.send_text_message(self.chat, text, **kwargs)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self.bot.send_image_url(self.chat, image, **kwargs)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self.bot.send_text_with_buttons(self.chat, text, buttons, **kwargs)

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        await self.bot.send_custom_json(self.chat, json_message, **kwargs)


@dataclass(frozen=True)
class Incoming:
    """A message to pass on: what it says, whose it is, and where it was written."""

    text: str
    conversation: str
    chat_id: int
    place: str


class CoachTelegramInput(TelegramInput):
    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        if not credentials:
            cls.raise_missing_credentials_exception()
        assert credentials is not None
        raw_secret = credentials.get("secret_token")
        secret = check_secret("TELEGRAM_SECRET_TOKEN", str(raw_secret) if raw_secret else None)
        if not _TELEGRAM_SECRET.fullmatch(secret):
            raise ValueError(
                "TELEGRAM_SECRET_TOKEN may hold only A-Z, a-z, 0-9, _ and -, at most 256 "
                "characters (Telegram's rule)"
            )
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
        super().__init__(access_token, verify, webhook_url, debug_mode=False)
        self.secret_token = secret_token
        self.api_base_url = api_base_url
        self._output: CoachTelegramOutput | None = None
        self._seen_updates = event_memory("telegram")

    def get_output_channel(self) -> CoachTelegramOutput:
        if self._output is None:
            output = CoachTelegramOutput(self.access_token, self.api_base_url)

            async def register_webhook() -> None:
                try:
                    me = await output.get_me()
                    if self.verify and me.username != self.verify:
                        raise RasaException(
                            f"the token is the bot {me.username!r}'s, not {self.verify!r}'s"
                        )
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
        telegram_webhook = Blueprint("telegram_webhook", __name__)
        handler.attach(telegram_webhook)
        bot = self.get_output_channel()  # registers the webhook before the server starts

        @telegram_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @telegram_webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            given = request.headers.get(SECRET_HEADER, "")
            if not hmac.compare_digest(given.encode(), self.secret_token.encode()):
                return response.text("Forbidden", status=403)
            try:
                update = json_body(request)
                incoming = _incoming(update)
            except BadRequestBody as bad:
                return bad.response()
            if incoming is None:
                return response.text("success")
            # Telegram sends an update again when it thinks the first try failed, and a
            # recorded request could be replayed: each update id is taken once.
            update_id = update.get("update_id")
            if isinstance(update_id, int) and not await self._seen_updates.first_time(
                str(update_id)
            ):
                logger.info("Dropped a Telegram update already handled.")
                return response.text("success")
            output = TelegramChatOutput(bot, incoming.chat_id)
            texts = [RESTART, "/start"] if incoming.text == RESTART else [incoming.text]
            for text in texts:
                message = UserMessage(
                    text,
                    output,
                    incoming.conversation,
                    input_channel=self.name(),
                    metadata={PLACE_KEY: incoming.place},
                )
                try:
                    await handler(message)
                except Exception:
                    # answered all the same: Telegram would only send it again
                    logger.exception(
                        "Failed to handle a Telegram message of %s.", hashed(incoming.conversation)
                    )
            return response.text("success")

        return telegram_webhook


def _incoming(update: Any) -> Incoming | None:
    """The message to pass on from an update: a message or a button click from a
    person. None for an update to acknowledge only; BadRequestBody for a body that is
    not an update."""
    if not isinstance(update, dict):
        raise BadRequestBody(400, "The body must be a JSON object.")
    click, edit, message = (
        update.get(key) for key in ("callback_query", "edited_message", "message")
    )
    if click is not None:
        if not isinstance(click, dict) or not isinstance(click.get("data"), str):
            raise BadRequestBody(400, "A button click needs `data` as a string.")
        _check_message(click.get("message"))
        return _from_person(click.get("from"), click["message"], click["data"])
    if edit is not None:
        _check_message(edit)
        return None
    if message is not None:
        _check_message(message)
        text = message.get("text")
        location = message.get("location")
        if text is None and location is not None:
            lng, lat = location["longitude"], location["latitude"]
            text = f'{{"lng":{lng}, "lat":{lat}}}'  # as Rasa's connector writes it
        if text is None:
            return None
        return _from_person(message.get("from"), message, text)
    return None


def _from_person(sender: Any, message: dict[str, Any], text: str) -> Incoming | None:
    if sender is None:
        return None
    sender_id = sender.get("id") if isinstance(sender, dict) else None
    if not isinstance(sender_id, int) or isinstance(sender_id, bool):
        raise BadRequestBody(400, "`from` needs a numeric `id`.")
    chat = message["chat"]
    return Incoming(
        text,
        conversation_id("telegram", str(sender_id)),
        chat["id"],
        PRIVATE if chat.get("type") == "private" else SHARED,
    )


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


def _chat_of(recipient: str) -> str | None:
    """The chat to send to: a chat id as it is, `telegram:<user id>` as the person's
    private chat; None (and logged) for anything else."""
    channel, colon, user = recipient.partition(":")
    chat = user if colon and channel == "telegram" else recipient
    if _CHAT_ID.fullmatch(chat):
        return chat
    logger.warning("Sent nothing to %s: not a Telegram chat.", hashed(recipient))
    return None
