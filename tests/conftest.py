"""Shared fixtures: the trained model and the real servers, started once per test run."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from callback_coach.identity import channel_of, conversation_id
from callback_coach.launcher import (
    DEFAULT_MODEL,
    Server,
    default_environment,
    free_port,
    start_action_server,
    start_rasa_server,
)
from tests.fake_apis import FakeApis

# tmp_path folders live under var/tmp in the project instead of pytest's default
# /tmp/pytest-of-<user>, which another local user could create first (CVE-2025-71176;
# the fix is in pytest 9, which Rasa's packaging<21 pin rules out).
TEMP_ROOT = Path(__file__).resolve().parent.parent / "var" / "tmp"


def pytest_configure(config: pytest.Config) -> None:
    # read by pytest when the first tmp_path is made, which is after this hook
    TEMP_ROOT.mkdir(parents=True, exist_ok=True)
    os.environ["PYTEST_DEBUG_TEMPROOT"] = str(TEMP_ROOT)


@pytest.fixture(scope="session", autouse=True)
def records_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Actions run in-process write their records to a throw-away SQLite file."""
    from actions.records.database import migrate
    from actions.runtime import settings

    url = f"sqlite:///{tmp_path_factory.mktemp('records') / 'records.db'}"
    before = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    settings.cache_clear()
    migrate(url)
    yield url
    if before is None:
        os.environ.pop("DATABASE_URL", None)
    else:
        os.environ["DATABASE_URL"] = before
    settings.cache_clear()


@pytest.fixture(scope="module")
def fakes() -> Iterator[FakeApis]:
    """Slack's and Telegram's APIs, faked on loopback, for one test module's servers."""
    apis = FakeApis()
    apis.start()
    yield apis
    apis.stop()


@pytest.fixture(scope="session")
def model_path() -> Path:
    if not DEFAULT_MODEL.exists():
        pytest.fail(f"{DEFAULT_MODEL} is missing: run `make test`, which trains it first.")
    return DEFAULT_MODEL


def rest_conversation(sender: str) -> str:
    """The conversation id of REST sender `sender`."""
    return conversation_id("rest", sender)


@dataclass
class Assistant:
    """Both real servers, talking to one database, driven over HTTP like a client would."""

    model: Path
    database_url: str
    log_dir: Path
    token: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    rasa: Server | None = None
    actions: Server | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    # Rasa's HTTP API (off by default): the tests read trackers through it, with the token.
    api: bool = True
    env: dict[str, str] = field(default_factory=dict)

    def start(self) -> None:
        action_port, rasa_port = free_port(), free_port()
        env = default_environment()
        env["DATABASE_URL"] = self.database_url
        env["ACTION_ENDPOINT_URL"] = f"http://127.0.0.1:{action_port}/webhook"
        env["RASA_URL"] = f"http://127.0.0.1:{rasa_port}"
        env["RASA_ENABLE_API"] = "true" if self.api else "false"
        env["RASA_API_TOKEN"] = self.token if self.api else ""
        env["COACH_REMINDER_POLL_SECONDS"] = "1"
        env.update(self.extra_env)
        self.env = env
        self.actions = start_action_server(action_port, env, self.log_dir / "actions.log")
        try:
            self.rasa = start_rasa_server(self.model, rasa_port, env, self.log_dir / "rasa.log")
        except BaseException:
            self.actions.stop()  # never leave a server behind when the other fails
            raise

    def stop(self) -> None:
        for server in (self.rasa, self.actions):
            if server is not None:
                server.stop()

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def url(self) -> str:
        assert self.rasa is not None
        return self.rasa.url

    @property
    def rest_headers(self) -> dict[str, str]:
        """What a trusted integration sends with every REST request."""
        return {"Authorization": f"Bearer {self.env['REST_CHANNEL_TOKEN']}"}

    def say(self, sender: str, text: str) -> list[dict[str, Any]]:
        """`text` from REST sender `sender`, whose conversation is `rest:<sender>`."""
        response = requests.post(
            f"{self.url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text},
            headers=self.rest_headers,
            timeout=30,
        )
        response.raise_for_status()
        return response.json()

    def tracker(self, sender: str) -> dict[str, Any]:
        """The conversation `sender` (a REST sender as given to `say`, or a whole
        conversation id such as `slack:T1:U1`), read through Rasa's HTTP API."""
        conversation = sender if channel_of(sender) else rest_conversation(sender)
        response = requests.get(
            f"{self.url}/conversations/{conversation}/tracker",
            params={"token": self.token},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()

    def slots(self, sender: str) -> dict[str, Any]:
        return self.tracker(sender)["slots"]


@pytest.fixture(scope="session")
def assistant(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Assistant]:
    """The servers on a SQLite file, as a newcomer runs them."""
    directory = tmp_path_factory.mktemp("assistant")
    running = Assistant(model_path, f"sqlite:///{directory / 'coach.db'}", directory)
    running.start()
    yield running
    running.stop()


POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """PostgreSQL where it runs (always on CI); elsewhere these tests are skipped, saying why."""
    import sqlalchemy as sa

    try:
        with sa.create_engine(POSTGRES_URL).connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as error:
        message = f"PostgreSQL is not reachable at {POSTGRES_URL} (set TEST_POSTGRES_URL): {error}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return POSTGRES_URL


@pytest.fixture(scope="session")
def postgres_assistant(
    model_path: Path, postgres_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Assistant]:
    """The servers on PostgreSQL (tracker store and our own tables), shared by the tests."""
    running = Assistant(model_path, postgres_url, tmp_path_factory.mktemp("postgres"))
    running.start()
    yield running
    running.stop()
    import sqlalchemy as sa

    with sa.create_engine(postgres_url).begin() as connection:
        connection.execute(sa.text("DELETE FROM events WHERE sender_id LIKE 'rest:restart-%'"))
