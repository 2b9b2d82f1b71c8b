"""Small pieces the fault handlers share: a setting in seconds, and an error in one line."""

from __future__ import annotations

from collections.abc import Mapping


def seconds_setting(environ: Mapping[str, str], name: str, default: float, maximum: float) -> float:
    """A number of seconds from the environment; a bad value stops start-up, saying why."""
    raw = environ.get(name, str(default))
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= maximum:
        raise ValueError(f"{name}={raw!r} must be a number of seconds, 0-{maximum:g}")
    return seconds


def first_line(error: BaseException) -> str:
    """The error's first line (SQLAlchemy's and aiohttp's texts name the real cause)."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
