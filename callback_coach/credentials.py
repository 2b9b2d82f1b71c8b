"""Which channels Rasa starts: those in credentials.yml whose required variables are set.

Rasa refuses to start when a ${VAR} in credentials.yml is unset, so the launcher
writes a copy with only the enabled channels, and in them only the keys whose
variables are set. Values stay ${VAR} references: no secret is written to disk.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

# Keys a channel cannot work without; the others are optional.
REQUIRED_KEYS = {
    "callback_coach.channels.rest.CoachRestInput": ("token",),
    "callback_coach.channels.rest.CoachTerminalInput": ("token",),
    "callback_coach.channels.socketio.CoachSocketIOInput": ("session_secret",),
    "callback_coach.channels.reminders.ReminderInput": ("secret",),
    "callback_coach.channels.slack.CoachSlackInput": ("slack_token", "slack_signing_secret"),
    "callback_coach.channels.telegram.CoachTelegramInput": (
        "access_token",
        "verify",
        "webhook_url",
        "secret_token",
    ),
}
_VARIABLE = re.compile(r"\$\{([^}]+)\}")


def enabled_channels(credentials: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    enabled: dict[str, Any] = {}
    for channel, settings in credentials.items():
        if not isinstance(settings, Mapping):
            enabled[channel] = settings  # e.g. `rest:` needs nothing
            continue
        kept = {
            key: value
            for key, value in settings.items()
            if all(env.get(name) for name in _VARIABLE.findall(str(value)))
        }
        if all(key in kept for key in REQUIRED_KEYS.get(channel, ())):
            enabled[channel] = kept
    return enabled


def write_enabled_credentials(source: Path, target: Path, env: Mapping[str, str]) -> list[str]:
    """Writes the enabled channels of `source` to `target`; returns their names."""
    credentials = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    enabled = enabled_channels(credentials, env)
    lines = ["# Written by callback_coach/credentials.py from credentials.yml; do not edit."]
    for channel, settings in enabled.items():
        lines.append(f"{channel}:")
        # Written by hand: Rasa fills in ${VAR} only where the value is not quoted.
        lines += [f"  {key}: {value}" for key, value in (settings or {}).items()]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return list(enabled)
