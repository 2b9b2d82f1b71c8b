"""Secrets only from the environment: none in tracked files, every secret-like setting
a ${VAR} reference, and the API/secret settings refuse what would leave a door open.
(The servers themselves are checked in test_security.py.)"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callback_coach import http_api
from callback_coach.credentials import enabled_channels
from callback_coach.launcher import (
    PROJECT_ROOT,
    SECRET_VARIABLES,
    default_environment,
    random_secret,
    rasa_command,
    secret_problems,
)
from callback_coach.shared_secret import (
    MINIMUM_LENGTH,
    carries_secret,
    check_secret,
    is_placeholder,
)

REMINDERS = "callback_coach.channels.reminders.ReminderInput"
TOKEN = "k7Qm2xV9pL4wR8nT"
assert len(TOKEN) == MINIMUM_LENGTH
# Shapes of real credentials (the tests' fakes are deliberately not of these shapes).
CREDENTIAL_SHAPES = {
    "Slack token": re.compile(r"xox[abposr]-\d{6,}-[A-Za-z0-9-]{10,}"),
    "Telegram bot token": re.compile(r"\b\d{8,10}:[A-Za-z0-9_-]{35}\b"),
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "AWS key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36}\b"),
    # a URL with a password, except the docs' placeholders user:pass / user:password
    "password in a URL": re.compile(r"[a-z+]+://[^\s:/@${}]+:(?!pass(word)?@)[^\s@${}]+@"),
}
SECRET_KEY = re.compile(r"(token|secret|password|authorization)", re.IGNORECASE)


def tracked_files() -> list[Path]:
    listing = subprocess.run(
        ["git", "ls-files", "-z"], cwd=PROJECT_ROOT, capture_output=True, check=True
    ).stdout
    return [PROJECT_ROOT / name for name in listing.decode().split("\0") if name]


def test_no_credential_is_committed() -> None:
    files = tracked_files()
    assert any(path.name == "credentials.yml" for path in files)
    found = []
    for path in files:
        if path.suffix in {".png", ".jpg", ".gz", ".ico"} or not path.is_file():
            continue
        if path == Path(__file__).resolve():  # the shapes themselves
            continue
        text = path.read_text(encoding="utf-8", errors="ignore")
        found += [
            f"{path.name}: {kind}"
            for kind, shape in CREDENTIAL_SHAPES.items()
            if shape.search(text)
        ]
    assert found == []


@pytest.mark.parametrize("name", ["credentials.yml", "endpoints.yml"])
def test_every_secret_setting_comes_from_the_environment(name: str) -> None:
    secret_lines = [
        line.strip()
        for line in (PROJECT_ROOT / name).read_text().splitlines()
        if ":" in line
        and not line.lstrip().startswith("#")
        and SECRET_KEY.search(line.split(":")[0])
    ]
    assert secret_lines  # the files do have such settings
    for line in secret_lines:
        assert re.search(r"\$\{[A-Z_]+\}", line), line


def test_the_launcher_makes_fresh_shared_secrets_unless_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    generated = (
        "ACTION_SERVER_TOKEN",
        "REMINDER_CHANNEL_SECRET",
        "REST_CHANNEL_TOKEN",
        "WEB_SESSION_SECRET",
    )
    for name in (*generated, "RASA_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    first, second = default_environment(), default_environment()
    for name in generated:
        assert check_secret(name, first[name]) != second[name]
    assert secret_problems(first) == []
    assert "RASA_API_TOKEN" not in first  # the API stays off: no token is made up for it
    monkeypatch.setenv("ACTION_SERVER_TOKEN", "set-by-the-operator-123")
    assert default_environment()["ACTION_SERVER_TOKEN"] == "set-by-the-operator-123"


def test_the_reminders_channel_runs_only_with_its_secret() -> None:
    credentials = {REMINDERS: {"secret": "${REMINDER_CHANNEL_SECRET}"}}
    assert REMINDERS not in enabled_channels(credentials, {})
    assert REMINDERS in enabled_channels(credentials, {"REMINDER_CHANNEL_SECRET": TOKEN})


def test_rasa_listens_where_rasa_host_says_and_on_loopback_by_default() -> None:
    model = Path("model.tar.gz")
    command = rasa_command(model, 5005)
    assert command[command.index("--interface") + 1] == "127.0.0.1"
    assert "--enable-api" not in command and not any("auth-token" in part for part in command)
    moved = rasa_command(model, 5005, host="10.0.0.5")
    assert moved[moved.index("--interface") + 1] == "10.0.0.5"


# --- Rasa's HTTP API settings ------------------------------------------------------------

RUN = ["rasa", "run", "--model", "m.tar.gz"]


@pytest.mark.parametrize("value", ["", "false", "0", "no", "off", "FALSE"])
def test_the_api_is_off_unless_asked_for(value: str) -> None:
    assert http_api.run_arguments(RUN, {"RASA_ENABLE_API": value, "RASA_API_TOKEN": TOKEN}) == RUN
    assert http_api.run_arguments(RUN, {}) == RUN


def test_the_api_is_on_with_its_token_when_asked_for() -> None:
    env = {"RASA_ENABLE_API": "true", "RASA_API_TOKEN": "-" + TOKEN}
    assert http_api.run_arguments(RUN, env) == [*RUN, "--enable-api", f"--auth-token=-{TOKEN}"]


@pytest.mark.parametrize(
    "env, problem",
    [
        ({"RASA_ENABLE_API": "true"}, "RASA_API_TOKEN is not set"),
        ({"RASA_ENABLE_API": "yes", "RASA_API_TOKEN": "short"}, "too short"),
        ({"RASA_ENABLE_API": "maybe", "RASA_API_TOKEN": TOKEN}, "must be true or false"),
    ],
)
def test_the_api_without_a_usable_token_is_refused(env: dict[str, str], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        http_api.run_arguments(RUN, env)


def test_rasas_own_api_flag_needs_a_token_or_jwt_secret() -> None:
    with pytest.raises(ValueError, match="--enable-api without --auth-token"):
        http_api.run_arguments([*RUN, "--enable-api"], {})
    for protected in (["--auth-token", TOKEN], [f"--auth-token={TOKEN}"], ["--jwt-secret", TOKEN]):
        arguments = [*RUN, "--enable-api", *protected]
        assert http_api.run_arguments(arguments, {}) == arguments
    other = ["rasa", "train", "--enable-api"]  # only `rasa run` is the wrapper's business
    assert http_api.run_arguments(other, {}) == other


# --- the shared-secret check -------------------------------------------------------------


def test_only_the_exact_bearer_secret_passes() -> None:
    assert carries_secret(f"Bearer {TOKEN}", TOKEN)
    assert carries_secret(f"bearer {TOKEN}", TOKEN)
    for header in (None, "", TOKEN, f"Basic {TOKEN}", f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}"):
        assert not carries_secret(header, TOKEN), header
    assert not carries_secret("Bearer ", "")  # an empty secret never matches


@given(st.text(max_size=80))
def test_no_other_header_passes(header: str) -> None:
    if header.partition(" ")[2].strip() != TOKEN:
        assert not carries_secret(header, TOKEN)


def test_a_missing_or_short_secret_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="ACTION_SERVER_TOKEN is not set"):
        check_secret("ACTION_SERVER_TOKEN", None)
    with pytest.raises(ValueError, match="at least 16 characters"):
        check_secret("ACTION_SERVER_TOKEN", TOKEN[:-1])
    assert check_secret("ACTION_SERVER_TOKEN", TOKEN) == TOKEN


# What people copy from an example or type in as a stand-in; the deploy files' own
# placeholder (deploy/helm/secrets.example.yaml) among them.
PLACEHOLDERS = [
    "change-me",
    "changeme",
    "CHANGE-ME",
    "Change_Me_Before_Production",
    "xoxb-CHANGE-ME",
    "secret",
    "Password",
    "password: hunter2-long-enough",
    "placeholder",
    "my-placeholder-value-1234",
    "your-secret-here",
    "YOUR_TOKEN_GOES_HERE_1234",
    "<your token>",
    "{{ .Values.secret }}",
    "xxx",
    "xxxxxxxxxxxxxxxxxxxxxxxx",
    "XXXX-XXXX-XXXX-XXXX",
    "todo",
    "TODO: generate one",
    "example",
    "example-token-0123456789",
    "aaaaaaaaaaaaaaaaaaaaaaaa",
    "0000000000000000",
    "z-z-z-z-z-z-z-z-z-z",
]


@pytest.mark.parametrize("value", PLACEHOLDERS)
def test_a_placeholder_is_refused_naming_the_variable(value: str) -> None:
    assert is_placeholder(value)
    with pytest.raises(ValueError, match="^WEB_SESSION_SECRET is a placeholder, not a secret"):
        check_secret("WEB_SESSION_SECRET", value)


@pytest.mark.parametrize(
    "value",
    [
        TOKEN,
        "set-by-the-operator-123",
        "slack-signing-secret",  # tests/test_channels.py's
        "telegram-secret-token",
        "8f14e45fceea167a5a36dedd4bea2543",  # the shape of Slack's signing secrets
        "todolist-of-2026-and-more",  # a word only when a separator follows
        "xx-is-not-three-x",
    ],
)
def test_a_real_looking_secret_is_not_a_placeholder(value: str) -> None:
    assert not is_placeholder(value)
    assert check_secret("REST_CHANNEL_TOKEN", value) == value


def test_random_secrets_are_never_taken_for_placeholders() -> None:
    made = {random_secret() for _ in range(2000)}
    assert len(made) == 2000
    assert not any(is_placeholder(secret) for secret in made)


def test_the_launcher_checks_every_secret_that_is_set() -> None:
    assert secret_problems({}) == []
    assert secret_problems({name: "" for name in SECRET_VARIABLES}) == []  # empty is unset
    fine = {name: random_secret() for name in SECRET_VARIABLES}
    assert secret_problems(fine) == []
    problems = secret_problems(
        {
            **fine,
            "SLACK_SIGNING_SECRET": "CHANGE-ME",
            "TELEGRAM_SECRET_TOKEN": "short-one",
            "REST_CHANNEL_TOKEN": "r" * 32,
        }
    )
    assert [problem.split(" is ")[0] for problem in problems] == [
        "REST_CHANNEL_TOKEN",
        "SLACK_SIGNING_SECRET",
        "TELEGRAM_SECRET_TOKEN",
    ]
    assert "placeholder" in problems[0] and "placeholder" in problems[1]
    assert "too short" in problems[2]
