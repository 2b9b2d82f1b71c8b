"""What every chat channel checks before a message reaches Rasa (docs/bad-input.md).

- Text: control characters (except line breaks and tabs) and unpaired surrogates are
  removed, and the rest is put in Unicode NFC. An empty or whitespace-only message
  gets a nudge (utter_empty_message), one longer than COACH_MAX_MESSAGE_CHARS gets
  utter_message_too_long; neither runs the model nor is stored in the tracker.
- Sender id: ASCII letters, digits and `_-.:@+`, at most 300 characters, no "..";
  anything else (a path or SQL trick) never reaches the tracker store.
- Rate: at most COACH_RATE_LIMIT_MESSAGES per sender in each COACH_RATE_LIMIT_SECONDS
  window. Counted in this process, or in Redis when LOCK_STORE_TYPE=redis so that
  workers and replicas share the count. The first refused message of a window gets
  utter_slow_down, later ones are dropped quietly (the REST channel answers 429).
- Body size: COACH_MAX_REQUEST_BYTES for every request to the Rasa server
  (install_request_limits, called by callback_coach.rasa_server).

Polite replies are domain responses, rendered by the loaded model's generator.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from callback_coach.identity import hashed

if TYPE_CHECKING:
    # Rasa only for types here: the action server imports this module too and should
    # not load Rasa (~70 MB) for it.
    from rasa.core.channels.channel import UserMessage

logger = logging.getLogger(__name__)

TOO_LONG_RESPONSE = "utter_message_too_long"
EMPTY_RESPONSE = "utter_empty_message"
SLOW_DOWN_RESPONSE = "utter_slow_down"

# C0 and C1 control characters except tab and line feed, DEL, and lone surrogates
# (which JSON can carry as "\ud800" but no database can store as UTF-8).
_UNWANTED_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
# A conversation id (callback_coach.identity): a channel and up to two 128-character parts.
_SENDER_ID = re.compile(r"^[A-Za-z0-9_@+:-][A-Za-z0-9_.@+:-]{0,299}$")


@dataclass(frozen=True)
class GuardSettings:
    # A few paragraphs: far more than anyone needs to describe an interview's aftermath.
    max_message_chars: int = 2000
    # The largest honest request (a 2000-character message of 4-byte characters,
    # JSON-escaped, plus channel metadata) is well under this.
    max_request_bytes: int = 64 * 1024
    # No one types or clicks 30 messages a minute; a script does.
    rate_limit_messages: int = 30
    rate_limit_seconds: int = 60
    redis_host: str | None = None
    redis_port: int = 6379
    redis_password: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> GuardSettings:
        env = os.environ if env is None else env
        use_redis = env.get("LOCK_STORE_TYPE", "").strip().lower() == "redis"
        return cls(
            max_message_chars=_positive(env, "COACH_MAX_MESSAGE_CHARS", cls.max_message_chars),
            max_request_bytes=_positive(env, "COACH_MAX_REQUEST_BYTES", cls.max_request_bytes),
            rate_limit_messages=_positive(
                env, "COACH_RATE_LIMIT_MESSAGES", cls.rate_limit_messages
            ),
            rate_limit_seconds=_positive(env, "COACH_RATE_LIMIT_SECONDS", cls.rate_limit_seconds),
            redis_host=(env.get("REDIS_HOST") or "127.0.0.1") if use_redis else None,
            redis_port=_positive(env, "REDIS_PORT", cls.redis_port),
            redis_password=env.get("REDIS_PASSWORD") or None,
        )


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {raw!r}") from None
    if value <= 0:
        raise ValueError(f"{name} must be positive, not {value}")
    return value


def clean_text(text: str) -> str:
    return unicodedata.normalize("NFC", _UNWANTED_CHARACTERS.sub("", text.replace("\r\n", "\n")))


def valid_sender_id(sender_id: object) -> bool:
    return (
        isinstance(sender_id, str)
        and _SENDER_ID.fullmatch(sender_id) is not None
        and ".." not in sender_id
    )


# --- rate limit ------------------------------------------------------------------------


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    retry_after: int  # whole seconds until the current window ends
    first_refusal: bool = False  # the first message refused in this window


class RateLimiter(Protocol):
    async def hit(self, sender_id: str) -> RateDecision: ...


class FixedWindow:
    """Counts per sender in fixed windows of `seconds`, aligned to the clock so that
    every process (and Redis) agrees on where a window starts."""

    def __init__(self, limit: int, seconds: int) -> None:
        self.limit = limit
        self.seconds = seconds

    def window(self, now: float) -> tuple[int, int]:
        index = int(now // self.seconds)
        retry_after = max(1, int((index + 1) * self.seconds - now + 0.999))
        return index, retry_after

    def decide(self, count: int, retry_after: int) -> RateDecision:
        if count <= self.limit:
            return RateDecision(True, retry_after)
        return RateDecision(False, retry_after, first_refusal=count == self.limit + 1)


class InMemoryRateLimiter(FixedWindow):
    """Per process. Remembers at most `max_senders` senders (the least recently seen
    go first), so a flood of made-up sender ids cannot exhaust memory."""

    def __init__(
        self,
        limit: int,
        seconds: int,
        max_senders: int = 100_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(limit, seconds)
        self.max_senders = max_senders
        self.clock = clock
        self._counts: OrderedDict[str, tuple[int, int]] = OrderedDict()

    async def hit(self, sender_id: str) -> RateDecision:
        index, retry_after = self.window(self.clock())
        seen_index, count = self._counts.pop(sender_id, (index, 0))
        count = count + 1 if seen_index == index else 1
        self._counts[sender_id] = (index, count)
        while len(self._counts) > self.max_senders:
            self._counts.popitem(last=False)
        return self.decide(count, retry_after)


class RedisRateLimiter(FixedWindow):
    """Shared by every worker and replica that uses the same Redis. When Redis cannot
    be reached the message is let through (and logged): chat keeps working."""

    PREFIX = "callback-coach:rate"

    def __init__(
        self, limit: int, seconds: int, host: str, port: int, password: str | None = None
    ) -> None:
        super().__init__(limit, seconds)
        from redis.asyncio import Redis

        self.redis = Redis(
            host=host, port=port, password=password, socket_timeout=1, socket_connect_timeout=1
        )

    async def hit(self, sender_id: str) -> RateDecision:
        from redis.exceptions import RedisError

        index, retry_after = self.window(time.time())
        key = f"{self.PREFIX}:{index}:{sender_id}"
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, self.seconds + 1)
                count, _ = await pipe.execute()
        except (RedisError, OSError) as error:
            logger.warning("Rate limit not checked, Redis is unreachable: %s", error)
            return RateDecision(True, retry_after)
        return self.decide(int(count), retry_after)


def rate_limiter(settings: GuardSettings) -> RateLimiter:
    if settings.redis_host:
        return RedisRateLimiter(
            settings.rate_limit_messages,
            settings.rate_limit_seconds,
            settings.redis_host,
            settings.redis_port,
            settings.redis_password,
        )
    return InMemoryRateLimiter(settings.rate_limit_messages, settings.rate_limit_seconds)


# --- the checks, applied to a channel's messages -----------------------------------------


@dataclass(frozen=True)
class Verdict:
    text: str | None  # the cleaned text to pass on; None: do not pass the message on
    reply: str | None = None  # a domain response to answer with instead
    reason: str = ""


class MessageGuard:
    def __init__(self, settings: GuardSettings, limiter: RateLimiter | None = None) -> None:
        self.settings = settings
        self.limiter = limiter or rate_limiter(settings)

    async def check(self, sender_id: object, text: object, limit_rate: bool = True) -> Verdict:
        if not valid_sender_id(sender_id):
            return Verdict(None, reason="invalid sender id")
        assert isinstance(sender_id, str)
        if limit_rate:
            decision = await self.limiter.hit(sender_id)
            if not decision.allowed:
                reply = SLOW_DOWN_RESPONSE if decision.first_refusal else None
                return Verdict(None, reply, reason="rate limit")
        return self.check_text(text)

    def check_text(self, text: object) -> Verdict:
        cleaned = clean_text(text) if isinstance(text, str) else ""
        if not cleaned.strip():
            return Verdict(None, EMPTY_RESPONSE, reason="empty message")
        if len(cleaned) > self.settings.max_message_chars:
            return Verdict(None, TOO_LONG_RESPONSE, reason="message too long")
        return Verdict(cleaned)


@functools.lru_cache(maxsize=1)
def message_guard() -> MessageGuard:
    """One per process, shared by the channels, so a sender's count is one count."""
    return MessageGuard(GuardSettings.from_env())


Handler = Callable[["UserMessage"], Awaitable[Any]]


class GuardedHandler:
    """Wraps the handler Rasa gives a channel's blueprint: a message passes the checks
    on its way in, or is answered with a domain response (or dropped) instead."""

    def __init__(
        self, on_new_message: Handler, guard: MessageGuard | None = None, limit_rate: bool = True
    ) -> None:
        self.on_new_message = on_new_message
        self.guard = guard or message_guard()
        self.limit_rate = limit_rate
        self.app: Sanic | None = None

    def attach(self, blueprint: Blueprint) -> None:
        """Lets the handler find the loaded model (for the replies) once the server runs."""

        async def remember_app(app: Sanic, _loop: Any) -> None:
            self.app = app

        blueprint.listener("before_server_start")(remember_app)

    async def __call__(self, message: UserMessage) -> None:
        verdict = await self.guard.check(message.sender_id, message.text, self.limit_rate)
        if verdict.text is not None:
            message.text = self.button_or_words(verdict.text)
            await self.on_new_message(message)
            return
        logger.info(
            "Did not pass on a %s message from %s: %s.",
            message.input_channel,
            hashed(str(message.sender_id)),
            verdict.reason,
        )
        if verdict.reply:
            await self.reply(message, verdict.reply)

    def button_or_words(self, text: str) -> str:
        """Rasa takes `/intent{"entity": "value"}` as a ready-made prediction. From a user
        only what our buttons send passes as one; other text starting with "/" is read as
        words, without the slashes."""
        agent = getattr(self.app.ctx, "agent", None) if self.app else None
        domain = getattr(agent, "domain", None)
        intents = set(domain.intents) if domain is not None else set()
        if not text.startswith("/") or is_button_payload(text, intents):
            return text
        return text.lstrip("/ ") or text

    async def reply(self, message: UserMessage, response_name: str) -> None:
        agent = getattr(self.app.ctx, "agent", None) if self.app else None
        if agent is None or agent.domain is None or message.output_channel is None:
            return  # no model loaded yet: Rasa could not have answered either
        from rasa.shared.core.trackers import DialogueStateTracker

        tracker = DialogueStateTracker(message.sender_id, agent.domain.slots)
        rendered = await agent.nlg.generate(response_name, tracker, message.output_channel.name())
        if rendered:
            await message.output_channel.send_response(message.sender_id, rendered)


# Intents a user never sends, even by a button: the reminders channel triggers
# reminder_due with a reminder's id; Rasa's own session events are not the user's to send.
INTERNAL_INTENTS = frozenset({"reminder_due", "session_start", "nlu_fallback"})
# Entities our buttons carry (domain.yml: "Only in button payloads"), and their longest value.
BUTTON_ENTITIES = frozenset({"draft_kind", "reminder_date", "reminder_id", "detail"})
MAX_BUTTON_VALUE = 64
_SHORTCUT = re.compile(r"^/([A-Za-z_][A-Za-z0-9_]*)(\{.*\})?$", re.DOTALL)


def is_button_payload(text: str, intents: set[str]) -> bool:
    """Whether `text` is a shortcut one of our buttons could have sent: a known intent
    that is not internal, with only button entities and short plain values."""
    match = _SHORTCUT.fullmatch(text)
    if match is None or match[1] not in intents or match[1] in INTERNAL_INTENTS:
        return False
    if match[2] is None:
        return True
    try:
        entities = json.loads(match[2])
    except ValueError:
        return False
    return isinstance(entities, dict) and all(
        name in BUTTON_ENTITIES
        and isinstance(value, (str, int))
        and not isinstance(value, bool)
        and len(str(value)) <= MAX_BUTTON_VALUE
        for name, value in entities.items()
    )


def guarded(on_new_message: Handler, limit_rate: bool = True) -> GuardedHandler:
    return GuardedHandler(on_new_message, limit_rate=limit_rate)


# --- request bodies ----------------------------------------------------------------------


class BadRequestBody(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def response(self) -> HTTPResponse:
        return response.json({"error": self.message}, status=self.status)


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def media_type(request: Request) -> str:
    return (request.headers.get("content-type") or "").split(";")[0].strip().lower()


def parse_json(raw: bytes) -> Any:
    """Strict JSON (no NaN or Infinity); a body that is not raises BadRequestBody(400)."""
    try:
        return json.loads(raw, parse_constant=_no_constants)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise BadRequestBody(400, "The body is not valid JSON.") from None


def json_body(request: Request) -> Any:
    """The request's JSON body; 415 for another content type, 400 for broken JSON.
    The parsed body is kept on the request, where Sanic's `request.json` finds it."""
    if media_type(request) != "application/json":
        raise BadRequestBody(415, "Send the body as JSON, with Content-Type: application/json.")
    body = parse_json(request.body)
    request.parsed_json = body
    return body


# --- the Rasa server ---------------------------------------------------------------------


def limit_request_size(app: Sanic, settings: GuardSettings) -> None:
    # A larger body gets Sanic's 413 as soon as its Content-Length is read.
    app.config.REQUEST_MAX_SIZE = settings.max_request_bytes
    app.config.WEBSOCKET_MAX_SIZE = settings.max_request_bytes  # the widget's socket.io


def install_request_limits() -> None:
    """Makes `rasa run` (our wrapper) cap every request body at COACH_MAX_REQUEST_BYTES."""
    import rasa.core.run

    configure_app = rasa.core.run.configure_app
    if getattr(configure_app, "limits_request_size", False):
        return

    @functools.wraps(configure_app)
    def configure_limited_app(*args: Any, **kwargs: Any) -> Sanic:
        app = configure_app(*args, **kwargs)
        limit_request_size(app, GuardSettings.from_env())
        return app

    configure_limited_app.limits_request_size = True  # type: ignore[attr-defined]
    rasa.core.run.configure_app = configure_limited_app
