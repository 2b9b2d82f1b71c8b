"""Settings of the action server, read from the environment with working local defaults."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from actions.records.database import database_url
from actions.timeline import BusinessCalendar

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_KNOWLEDGE_FILE = PROJECT_ROOT / "knowledge" / "coaching.yml"


@dataclass(frozen=True)
class Settings:
    knowledge_file: Path
    timezone: ZoneInfo
    calendar: BusinessCalendar
    database_url: str
    # Reminders reach the user through our internal reminders channel on the Rasa
    # server (callback_coach.channels.reminders), which needs this shared secret.
    rasa_url: str = "http://127.0.0.1:5005"
    reminder_channel_secret: str | None = None
    reminder_poll_seconds: float = 30.0
    # Most a person may keep, so one conversation cannot fill the database
    # (COACH_MAX_APPLICATIONS, COACH_MAX_REMINDERS).
    max_applications: int = 200
    max_pending_reminders: int = 50


def time_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"{name!r} is not a known time zone") from error


def _count(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{name}={raw!r} must be a whole number of 1 or more")
    return int(raw)


def load_settings() -> Settings:
    """Reads the settings; an unknown time zone or holiday country is a clear error
    (UnknownCountryError is a ValueError), not a silent default."""
    tz_name = os.environ.get("COACH_TIMEZONE", "UTC")
    try:
        timezone = time_zone(tz_name)
    except ValueError as error:
        raise ValueError(f"COACH_TIMEZONE={tz_name!r} is not a known time zone") from error
    knowledge_file = Path(os.environ.get("COACH_KNOWLEDGE_FILE", str(DEFAULT_KNOWLEDGE_FILE)))
    # Public holidays of this country are not business days; most of the research
    # behind the waiting times is from the US. Empty: weekends only.
    calendar = BusinessCalendar(os.environ.get("COACH_HOLIDAY_COUNTRY", "US").strip().upper())
    poll = os.environ.get("COACH_REMINDER_POLL_SECONDS", "30")
    try:
        poll_seconds = float(poll)
    except ValueError:
        poll_seconds = -1.0
    if not 0 < poll_seconds <= 3600:
        raise ValueError(
            f"COACH_REMINDER_POLL_SECONDS={poll!r} must be a number of seconds, 0-3600"
        )
    return Settings(
        max_applications=_count(os.environ, "COACH_MAX_APPLICATIONS", 200),
        max_pending_reminders=_count(os.environ, "COACH_MAX_REMINDERS", 50),
        knowledge_file=knowledge_file,
        timezone=timezone,
        calendar=calendar,
        database_url=database_url(),
        rasa_url=os.environ.get("RASA_URL", "http://127.0.0.1:5005").rstrip("/"),
        reminder_channel_secret=os.environ.get("REMINDER_CHANNEL_SECRET") or None,
        reminder_poll_seconds=poll_seconds,
    )
