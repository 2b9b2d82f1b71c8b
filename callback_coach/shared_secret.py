"""Checks the shared secret that our own processes send each other as a bearer token."""

from __future__ import annotations

import hmac

from sanic import response
from sanic.response import HTTPResponse

# Shorter secrets are refused: they could be guessed by trying.
MINIMUM_LENGTH = 16


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


def check_secret(name: str, value: str | None) -> str:
    """The secret from variable `name`; a clear error when it is missing or too short."""
    if not value:
        raise ValueError(f"{name} is not set: it is the shared secret this server requires")
    if len(value) < MINIMUM_LENGTH:
        raise ValueError(f"{name} is too short: use at least {MINIMUM_LENGTH} characters")
    return value
