"""Checks the shared secret that our own processes send each other as a bearer token."""

from __future__ import annotations

import hmac
import re

from sanic import response
from sanic.response import HTTPResponse

# Shorter secrets are refused: they could be guessed by trying.
MINIMUM_LENGTH = 16
# Values copied from an example or typed as a stand-in: a placeholder word on its own
# or followed by a separator ("CHANGE-ME", "your-token-here", "xxx-xxx", "todo: ..."),
# or one with changeme/replaceme/placeholder anywhere. A separator must follow a word
# at the start, so a random token that happens to begin with "todo" is not refused.
_PLACEHOLDER = re.compile(
    r"^(?:<|\{\{|(?:change[-_ ]?(?:me|it|this)|replace[-_ ]?me|placeholder|example|"
    r"your|xxx+|todo|tbd|fixme|dummy|sample|secret|password|passw0rd|token|default|"
    r"test|none|null)(?:$|[-_ .:=,!]))"
    r"|change[-_ ]?me|replace[-_ ]?me|placeholder",
    re.IGNORECASE,
)
# Separators ignored when looking for one character repeated ("aaaa", "x-x-x-x").
_SEPARATORS = re.compile(r"[-_ .:]")


def bearer_header(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def carries_secret(authorization: str | None, secret: str) -> bool:
    """Whether an Authorization header is `Bearer <secret>`, compared in constant time."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token or not secret:
        return False
    return hmac.compare_digest(token.strip().encode(), secret.encode())


def unauthorized() -> HTTPResponse:
    return response.json(
        {"error": "this endpoint needs the shared secret as a bearer token"},
        status=401,
        headers={"WWW-Authenticate": "Bearer"},
    )


def is_placeholder(value: str) -> bool:
    """Whether a secret is a stand-in (`CHANGE-ME`, `your-...`, `xxx...`) or one
    character repeated, which nobody should run with."""
    return bool(_PLACEHOLDER.search(value)) or len(set(_SEPARATORS.sub("", value))) <= 1


def check_secret(name: str, value: str | None) -> str:
    """The secret from variable `name`; a clear error when it is missing, a placeholder
    or too short."""
    if not value:
        raise ValueError(f"{name} is not set: it is the shared secret this server requires")
    if is_placeholder(value):
        raise ValueError(
            f"{name} is a placeholder, not a secret: set it to a random value, e.g. "
            "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
        )
    if len(value) < MINIMUM_LENGTH:
        raise ValueError(f"{name} is too short: use at least {MINIMUM_LENGTH} characters")
    return value
