"""The origins given to `rasa run --cors`: a pattern must be anchored at its end.

sanic-cors (held at 2.0.1 by Rasa 3.6, no fixed release) compares a plain origin
exactly, but matches an origin that looks like a regular expression with `re.match`,
which anchors only the start (CVE-2026-37737): `https://coach\\.example\\.org` would
also let `https://coach.example.org.evil.test` in. Our `rasa run` wrapper refuses such
a pattern with a clear error instead of serving it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sanic_cors.core import probably_regex

ALLOW_ALL = "*"  # handled by sanic-cors before any matching


def cors_values(argv: Sequence[str]) -> list[str]:
    """The values of every --cors option (`--cors a b`, `--cors=a`) in a command line."""
    values: list[str] = []
    collecting = False
    for argument in argv:
        if argument.startswith("--cors="):
            values.append(argument.partition("=")[2])
            collecting = False
        elif argument == "--cors":
            collecting = True
        elif argument.startswith("-"):
            collecting = False
        elif collecting:
            values.append(argument)
    return values


def check_cors_origins(argv: Sequence[str]) -> None:
    """A clear error for an origin pattern that sanic-cors would match unanchored."""
    for origin in cors_values(argv):
        # sanic-cors' own test of whether it will match the value as a pattern
        if origin != ALLOW_ALL and probably_regex(origin) and not origin.endswith("$"):
            raise ValueError(
                f"--cors {origin!r} is a pattern, and sanic-cors matches patterns only at "
                "the start of the origin, so longer origins would pass too. Give the exact "
                "origin (https://site.example), or end the pattern with $."
            )
