"""Channels switch on when their variables are set; no secret is written to disk."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.shared.utils.io import read_config_file

from actions.settings import PROJECT_ROOT
from callback_coach.credentials import write_enabled_credentials

REST = "callback_coach.channels.rest.CoachRestInput"
TERMINAL = "callback_coach.channels.rest.CoachTerminalInput"
SLACK = "callback_coach.channels.slack.CoachSlackInput"
TELEGRAM = "callback_coach.channels.telegram.CoachTelegramInput"
SOCKETIO = "callback_coach.channels.socketio.CoachSocketIOInput"
WEB_PAGE = "callback_coach.channels.webpage.WebPageInput"
TELEGRAM_ENV = {
    "TELEGRAM_TOKEN": "123:abc",
    "TELEGRAM_BOT_NAME": "coach_bot",
    "TELEGRAM_WEBHOOK_URL": "https://example.org/webhooks/telegram/webhook",
    "TELEGRAM_SECRET_TOKEN": "s3cret",
}


def generate(tmp_path: Path, env: dict[str, str]) -> tuple[list[str], Path]:
    target = tmp_path / "credentials.yml"
    return write_enabled_credentials(PROJECT_ROOT / "credentials.yml", target, env), target


OWN_SECRETS = {"REST_CHANNEL_TOKEN": "r" * 8 + "e" * 8, "WEB_SESSION_SECRET": "w" * 8 + "s" * 8}


def test_without_variables_only_the_channels_that_need_none_run(tmp_path: Path) -> None:
    channels, _ = generate(tmp_path, {"SLACK_TOKEN": "xoxb-1"})  # signing secret missing
    # REST, the terminal and the widget's socket need their secrets (the launcher makes them)
    assert channels == [WEB_PAGE]


def test_the_launchers_secrets_enable_rest_the_terminal_and_the_widget(tmp_path: Path) -> None:
    channels, target = generate(tmp_path, OWN_SECRETS)
    assert channels == [REST, TERMINAL, SOCKETIO, WEB_PAGE]
    written = target.read_text()
    assert "${REST_CHANNEL_TOKEN}" in written and "${WEB_SESSION_SECRET}" in written
    assert "origins" not in written  # COACH_WEB_ORIGINS unset: the server's own origin


def test_a_channel_with_its_variables_is_enabled_and_read_by_rasa(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {**OWN_SECRETS, **TELEGRAM_ENV, "SLACK_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "shh"}
    channels, target = generate(tmp_path, env)
    assert channels == [REST, TERMINAL, SOCKETIO, WEB_PAGE, SLACK, TELEGRAM]
    written = target.read_text()
    assert "s3cret" not in written and "shh" not in written  # references, not secrets
    assert "api_base_url" not in written  # optional and unset: left out
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    loaded = read_config_file(str(target))  # what `rasa run` does with it
    assert loaded[TELEGRAM]["secret_token"] == "s3cret"
    assert loaded[SLACK]["slack_signing_secret"] == "shh"


def test_widget_text_is_plain_text_in_markdown() -> None:
    from callback_coach.channels.socketio import as_markdown

    assert as_markdown("Hi [recruiter's name],\n• one_two") == (
        "Hi \\[recruiter's name\\],  \n• one\\_two"
    )
    assert as_markdown("<img src=x onerror=alert(1)>") == "\\<img src=x onerror=alert(1)\\>"
