"""What every action shares: the settings, the knowledge and the records' database."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk import Tracker
from sqlalchemy.orm import Session

from actions.knowledge import KnowledgeCache
from actions.records.database import session_scope
from actions.settings import Settings, load_settings, time_zone
from actions.timeline import DAY_FIRST, MONTH_FIRST

# Channels whose user never wrote themselves: Rasa's HTTP API ("collector" answers a
# trigger_intent call). Replies for them go to the channel the user last came from.
NOT_A_USER_CHANNEL = frozenset({"collector", "", "None"})
DEFAULT_CHANNEL = "rest"


@functools.lru_cache(maxsize=1)
def settings() -> Settings:
    return load_settings()


@functools.lru_cache(maxsize=1)
def knowledge_cache() -> KnowledgeCache:
    return KnowledgeCache(settings().knowledge_file)


@contextmanager
def records() -> Iterator[Session]:
    """The one database session of this action run."""
    with session_scope(settings().database_url) as session:
        yield session


def user_channel(tracker: Tracker) -> str:
    """The channel the user wrote from most recently ("rest", "socketio", "slack"...)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            channel = str(event.get("input_channel") or "")
            if channel not in NOT_A_USER_CHANNEL:
                return channel
    return DEFAULT_CHANNEL


def entity_value(tracker: Tracker, name: str) -> Any:
    return next(tracker.get_latest_entity_values(name), None)


def user_timezone(tracker: Tracker) -> ZoneInfo:
    """The time zone the channel reports for the user (message metadata "timezone",
    e.g. from the web widget), else the configured default. A bad value is ignored."""
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    name = metadata.get("timezone") if isinstance(metadata, dict) else None
    if isinstance(name, str) and name:
        try:
            return time_zone(name)
        except ValueError:
            pass
    return settings().timezone


def user_locale(tracker: Tracker) -> str | None:
    """The locale the channel reports for the user (message metadata "locale", e.g.
    "en-GB" from the web widget), else None."""
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    name = metadata.get("locale") if isinstance(metadata, dict) else None
    return name if isinstance(name, str) and name.strip() else None


# Locales that write a numeric date month first ("10/12" is 12 October); everyone else
# writes the day first. Without a locale we keep the month first, as before.
MONTH_FIRST_LOCALES = frozenset({"en-us", "es-us", "en-ph", "en-as", "en-gu", "en-pr", "en-um"})


def date_order(locale: str | None) -> str:
    """How a user with this locale writes "10/12": MONTH_FIRST or DAY_FIRST."""
    if not locale:
        return MONTH_FIRST
    tag = "-".join(locale.strip().replace("_", "-").lower().split("-")[:2])
    if tag in MONTH_FIRST_LOCALES or tag in ("en", "c", "posix"):
        return MONTH_FIRST
    return DAY_FIRST
