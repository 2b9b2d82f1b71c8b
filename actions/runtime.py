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
