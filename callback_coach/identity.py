"""Who a conversation belongs to, shared by the channels (Rasa server) and the actions.

Every conversation id names the channel it came from, so an id from one channel can
never be claimed through another (docs/security.md, "Whose conversation is it"):

    web:<random id the server issued>      the web widget (socket.io)
    slack:<team id>:<user id>              Slack
    telegram:<user id>                     Telegram (the person, not the chat)
    rest:<the integration's own id>        the REST channel (trusted integrations)
    terminal:<login>                       the terminal chat

The channel also says whether a message came from a private place (a web session, a
Slack DM, a Telegram private chat) or a shared one (a Slack channel, a Telegram group),
in the message metadata under PLACE_KEY. Personal records are read and changed only in
private places. The only metadata a client may send is CLIENT_METADATA: short strings
the coach uses (time zone, locale); everything else a client sends is dropped.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping

CHANNELS = ("web", "slack", "telegram", "rest", "terminal")

PLACE_KEY = "place"
PRIVATE = "private"
SHARED = "shared"

# What a client may tell us about itself, and how long each value may be.
CLIENT_METADATA = {"timezone": 64, "locale": 35}
_CLIENT_VALUE = re.compile(r"^[A-Za-z0-9_+/.-]+$")

# The part of an id a client or platform gives us: the same characters the input guard
# accepts in a sender id (callback_coach.guards), at most this long.
MAX_ID_PART = 128
_ID_PART = re.compile(r"^[A-Za-z0-9_@+-][A-Za-z0-9_.@+-]*$")


class InvalidIdPart(ValueError):
    pass


def conversation_id(channel: str, *parts: str) -> str:
    """`channel:part[:part]`; InvalidIdPart for a part that is empty, too long, holds a
    colon or anything but the characters of a plain id."""
    if channel not in CHANNELS:
        raise InvalidIdPart(f"unknown channel {channel!r}")
    for part in parts:
        if not (
            isinstance(part, str)
            and 0 < len(part) <= MAX_ID_PART
            and _ID_PART.fullmatch(part)
            and ".." not in part
        ):
            raise InvalidIdPart("an id part must be 1-128 plain characters")
    return ":".join((channel, *parts))


def channel_of(conversation: str) -> str | None:
    """The channel an id names, or None for an id without one (made before ids had it)."""
    channel, colon, _ = conversation.partition(":")
    return channel if colon and channel in CHANNELS else None


def client_metadata(raw: object) -> dict[str, str]:
    """Only the keys the coach uses, each a short plain string; the rest is dropped."""
    if not isinstance(raw, Mapping):
        return {}
    kept: dict[str, str] = {}
    for key, longest in CLIENT_METADATA.items():
        value = raw.get(key)
        if isinstance(value, str) and 0 < len(value) <= longest and _CLIENT_VALUE.match(value):
            kept[key] = value
    return kept


def in_private(metadata: object) -> bool:
    """Whether a message with this metadata came from a private place. Channels that
    have no shared places (web, REST, terminal) and the reminders channel set nothing."""
    return not (isinstance(metadata, Mapping) and metadata.get(PLACE_KEY) == SHARED)


def hashed(conversation: str) -> str:
    """A short stand-in for an id in logs, so the logs name no person."""
    return hashlib.sha256(conversation.encode()).hexdigest()[:12]


class WebSessions:
    """Web session ids that only this server can issue.

    The browser keeps `<id>.<signature>` (the widget stores what `session_confirm`
    gives it) and presents it on reload. The id is 144 random bits; the signature is an
    HMAC-SHA256 of it under WEB_SESSION_SECRET, so an id that was not issued here, or was
    changed, does not verify.
    """

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"callback-coach web session\0" + secret.encode()).digest()

    def _signature(self, session: str) -> str:
        digest = hmac.new(self._key, session.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def issue(self) -> tuple[str, str]:
        """A new session: (its id, the token the browser keeps)."""
        session = secrets.token_urlsafe(18)
        return session, f"{session}.{self._signature(session)}"

    def verify(self, token: object) -> str | None:
        """The session id in a token this server issued; None for anything else."""
        if not isinstance(token, str) or len(token) > 128:
            return None
        session, dot, signature = token.partition(".")
        if not (dot and session and signature) or not _ID_PART.fullmatch(session):
            return None
        if not hmac.compare_digest(signature.encode(), self._signature(session).encode()):
            return None
        return session
