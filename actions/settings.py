"""Settings of the action server, read from the environment with working local defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from actions.timeline import BusinessCalendar

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_KNOWLEDGE_FILE = PROJECT_ROOT / "knowledge" / "coaching.yml"


@dataclass(frozen=True)
class Settings:
    knowledge_file: Path
    timezone: ZoneInfo
    calendar: BusinessCalendar


def load_settings() -> Settings:
    """Reads the settings; an unknown time zone or holiday country is a clear error
    (UnknownCountryError is a ValueError), not a silent default."""
    tz_name = os.environ.get("COACH_TIMEZONE", "UTC")
    try:
        timezone = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"COACH_TIMEZONE={tz_name!r} is not a known time zone") from error
    knowledge_file = Path(os.environ.get("COACH_KNOWLEDGE_FILE", str(DEFAULT_KNOWLEDGE_FILE)))
    # Public holidays of this country are not business days; most of the research
    # behind the waiting times is from the US. Empty: weekends only.
    calendar = BusinessCalendar(os.environ.get("COACH_HOLIDAY_COUNTRY", "US").strip().upper())
    return Settings(knowledge_file=knowledge_file, timezone=timezone, calendar=calendar)
