"""Conversations untouched for the retention period are deleted, events and records,
on SQLite and on PostgreSQL; and deleting leaves nothing personal behind (SQLite's
secure_delete, SQL errors without values, log lines without ids)."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from actions.records.database import engine, migrate
from actions.records.tables import applications, contacts, follow_ups, reminders
from callback_coach.launcher import PROJECT_ROOT
from callback_coach.retention import (
    DEFAULT_RETENTION_DAYS,
    EVENTS,
    remove_expired,
    retention_days,
)
from tests.support.databases import fresh_postgres_database

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
DAYS = 180
LONG_AGO = NOW - timedelta(days=DAYS + 20)
RECENTLY = NOW - timedelta(days=10)
# In what people wrote, so that it can be looked for where it must not be.
MARKER = "Zanzibar-Quokka-Interview"


def events_table(url: str) -> None:
    """Rasa's own `events` table, as its SQL tracker store creates it."""
    from rasa.core.tracker_store import SQLTrackerStore

    SQLTrackerStore.Base.metadata.create_all(engine(url))


def add_events(url: str, sender_id: str, *moments: datetime) -> None:
    rows = [
        {
            "sender_id": sender_id,
            "type_name": "user",
            "timestamp": moment.timestamp(),
            "data": json.dumps({"event": "user", "text": f"{MARKER} at {moment}"}),
        }
        for moment in moments
    ]
    table = sa.Table("events", sa.MetaData(), autoload_with=engine(url))
    with engine(url).begin() as connection:
        connection.execute(table.insert(), rows)


def add_records(
    url: str,
    sender_id: str,
    created: datetime,
    updated: datetime | None = None,
    reminder_due: datetime | None = None,
    reminder_status: str = "delivered",
) -> None:
    """An application with a contact and a follow-up, and a reminder."""
    with Session(engine(url), future=True) as session, session.begin():
        application_id = session.execute(
            applications.insert().values(
                sender_id=sender_id,
                company=MARKER,
                company_key=MARKER.casefold(),
                situation="waiting",
                created_at=created,
                updated_at=updated or created,
            )
        ).inserted_primary_key[0]
        session.execute(
            contacts.insert().values(
                sender_id=sender_id, application_id=application_id, name=f"{MARKER} person"
            )
        )
        session.execute(
            follow_ups.insert().values(
                sender_id=sender_id,
                application_id=application_id,
                sent_on=date(2025, 1, 1),
                recorded_at=created,
            )
        )
        session.execute(
            reminders.insert().values(
                sender_id=sender_id,
                channel="rest",
                application_id=application_id,
                company=MARKER,
                due_at=reminder_due or created,
                status=reminder_status,
                created_at=created,
            )
        )


def senders(url: str) -> dict[str, set[str]]:
    """Whose rows each table holds."""
    database = engine(url)
    with database.connect() as connection:
        tables = set(sa.inspect(connection).get_table_names())
        return {
            table.name: set(connection.execute(sa.select(table.c.sender_id)).scalars())
            for table in (EVENTS, applications, contacts, follow_ups, reminders)
            if table.name in tables
        }


def row_counts(url: str) -> dict[str, int]:
    with engine(url).connect() as connection:
        tables = set(sa.inspect(connection).get_table_names())
        return {
            table.name: connection.execute(
                sa.select(sa.func.count()).select_from(table)
            ).scalar_one()
            for table in (EVENTS, applications, contacts, follow_ups, reminders)
            if table.name in tables
        }


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind, with no tables yet."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'coach.db'}"
        yield url
        engine(url).dispose()
        return
    with fresh_postgres_database(request.getfixturevalue("postgres_url"), "retention") as url:
        yield url


@pytest.fixture
def conversations(database: str) -> dict[str, str]:
    """Old and recent conversations, by what they show."""
    migrate(database)
    events_table(database)
    ids = {
        kind: f"rest:{kind}-{uuid.uuid4().hex[:6]}"
        for kind in (
            "old",
            "talked_recently",
            "records_only_old",
            "records_only_updated_recently",
            "reminder_coming",
            "reminder_overdue",
            "old_events_recent_records",
            "events_only_old",
        )
    }
    add_events(database, ids["old"], LONG_AGO, LONG_AGO + timedelta(minutes=1))
    add_records(database, ids["old"], LONG_AGO)
    add_events(database, ids["talked_recently"], LONG_AGO, RECENTLY)
    add_records(database, ids["talked_recently"], LONG_AGO)
    add_records(database, ids["records_only_old"], NOW - timedelta(days=400))
    add_records(database, ids["records_only_updated_recently"], NOW - timedelta(days=400), RECENTLY)
    add_events(database, ids["reminder_coming"], LONG_AGO)
    add_records(
        database,
        ids["reminder_coming"],
        LONG_AGO,
        reminder_due=NOW + timedelta(days=30),
        reminder_status="pending",
    )
    add_events(database, ids["reminder_overdue"], LONG_AGO)
    add_records(
        database,
        ids["reminder_overdue"],
        LONG_AGO,
        reminder_due=LONG_AGO + timedelta(days=1),
        reminder_status="pending",
    )
    add_events(database, ids["old_events_recent_records"], LONG_AGO)
    add_records(database, ids["old_events_recent_records"], RECENTLY)
    add_events(database, ids["events_only_old"], LONG_AGO, LONG_AGO, LONG_AGO)
    return ids


REMOVED = ("old", "records_only_old", "reminder_overdue", "events_only_old")


def test_untouched_conversations_are_removed_and_the_rest_kept(
    database: str, conversations: dict[str, str]
) -> None:
    removal = remove_expired(database, DAYS, now=NOW)
    assert removal.conversations == len(REMOVED)
    # events: 2 (old) + 1 (overdue) + 3 (events only); one of each record for the
    # three with records
    assert dict(removal.rows) == {
        "events": 6,
        "applications": 3,
        "contacts": 3,
        "follow_ups": 3,
        "reminders": 3,
    }
    kept = {kind for kind in conversations if kind not in REMOVED}
    stored = senders(database)
    for table, owners in stored.items():
        assert not owners & {conversations[kind] for kind in REMOVED}, table
    assert stored["applications"] == {conversations[kind] for kind in kept}
    assert stored["events"] == {
        conversations[kind]
        for kind in ("talked_recently", "reminder_coming", "old_events_recent_records")
    }
    # a second run finds nothing more to do
    assert remove_expired(database, DAYS, now=NOW).conversations == 0
    # a shorter retention reaches the ones touched ten days ago, but never the one
    # whose reminder is still to come
    assert remove_expired(database, 5, now=NOW).conversations == 3
    assert senders(database)["reminders"] == {conversations["reminder_coming"]}


def test_a_dry_run_counts_the_same_and_deletes_nothing(
    database: str, conversations: dict[str, str]
) -> None:
    before = row_counts(database)
    dry = remove_expired(database, DAYS, now=NOW, dry_run=True)
    assert row_counts(database) == before
    real = remove_expired(database, DAYS, now=NOW)
    assert (dry.conversations, dry.rows) == (real.conversations, real.rows)
    assert real.conversations == len(REMOVED)


def test_without_rasas_events_table_the_records_are_judged_alone(database: str) -> None:
    migrate(database)  # the action server ran; Rasa never did
    old, recent = "rest:records-old", "rest:records-recent"
    add_records(database, old, LONG_AGO)
    add_records(database, recent, RECENTLY)
    removal = remove_expired(database, DAYS, now=NOW)
    assert (removal.conversations, sum(removal.rows.values())) == (1, 4)
    assert senders(database)["applications"] == {recent}


def test_an_empty_database_is_fine(database: str) -> None:
    removal = remove_expired(database, DAYS, now=NOW)
    assert removal.conversations == 0 and not removal.rows
    assert removal.summary(dry_run=False) == (
        "Removed 0 conversation(s) untouched for the retention period: 0 row(s)."
    )


def test_the_retention_setting() -> None:
    assert retention_days({}) == DEFAULT_RETENTION_DAYS == 180
    assert retention_days({"COACH_RETENTION_DAYS": "30"}) == 30
    for wrong in ("0", "-5", "half a year", "1.5"):
        with pytest.raises(ValueError, match="COACH_RETENTION_DAYS must be a whole number"):
            retention_days({"COACH_RETENTION_DAYS": wrong})


def run_command(url: str, *arguments: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "callback_coach.retention", *arguments],
        env={**os.environ, "DATABASE_URL": url, **env},
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_command_prints_counts_only(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'coach.db'}"
    migrate(url)
    events_table(url)
    old = "slack:T0001:U0001"
    now = datetime.now(timezone.utc)
    add_events(url, old, now - timedelta(days=40))
    add_records(url, old, now - timedelta(days=40))
    add_records(url, "telegram:12345", now - timedelta(days=1))

    dry = run_command(url, "--days", "30", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.strip() == (
        "Would remove 1 conversation(s) untouched for the retention period: 5 row(s) "
        "(applications 1, contacts 1, events 1, follow_ups 1, reminders 1)."
    )
    # the default (180 days, or COACH_RETENTION_DAYS) keeps it
    kept = run_command(url)
    assert kept.returncode == 0 and kept.stdout.startswith("Removed 0 conversation(s)")
    monthly = run_command(url, COACH_RETENTION_DAYS="30")
    assert monthly.stdout.startswith("Removed 1 conversation(s)"), monthly.stderr
    output = dry.stdout + dry.stderr + monthly.stdout + monthly.stderr
    assert "T0001" not in output and "12345" not in output and MARKER not in output
    assert senders(url)["applications"] == {"telegram:12345"}

    refused = run_command(url, "--days", "0")
    assert refused.returncode == 2 and "error: --days must be at least 1" in refused.stderr
    wrong = run_command(url, COACH_RETENTION_DAYS="never")
    assert wrong.returncode == 2 and "error: COACH_RETENTION_DAYS" in wrong.stderr


# --- nothing personal left behind --------------------------------------------------------


def test_deleted_rows_are_overwritten_in_the_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'coach.db'}"
    migrate(url)
    events_table(url)
    add_events(url, "rest:gone", LONG_AGO)
    add_records(url, "rest:gone", LONG_AGO)
    with engine(url).connect() as connection:
        assert connection.exec_driver_sql("PRAGMA secure_delete").scalar_one() == 1
    assert remove_expired(url, DAYS, now=NOW).conversations == 1
    engine(url).dispose()  # the last connection checkpoints the write-ahead log
    leftovers = b"".join(path.read_bytes() for path in tmp_path.iterdir())
    assert MARKER.encode() not in leftovers


def test_the_tracker_stores_sqlite_connections_overwrite_deleted_rows(tmp_path: Path) -> None:
    from callback_coach.tracker_store import ForgetfulSQLTrackerStore

    store = ForgetfulSQLTrackerStore(dialect="sqlite", db=str(tmp_path / "rasa.db"))
    try:
        assert store.engine.hide_parameters
        with store.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA secure_delete").scalar_one() == 1
    finally:
        store.engine.dispose()


def test_sql_errors_show_no_values(database: str) -> None:
    """SQLAlchemy would add the statement's values to the error (and so to any log of
    it). PostgreSQL's own DETAIL lines, e.g. for a NOT NULL violation, may still quote
    a row: the server writes them, not SQLAlchemy."""
    statement = sa.text("INSERT INTO no_such_table (name) VALUES (:name)")
    with pytest.raises(sa.exc.DBAPIError) as raised, engine(database).begin() as connection:
        connection.execute(statement, {"name": MARKER})
    assert MARKER not in str(raised.value)
    assert "parameters hidden" in str(raised.value)


def test_the_tracker_stores_postgresql_engine_hides_values(postgres_url: str) -> None:
    from callback_coach.tracker_store import ForgetfulSQLTrackerStore

    store = ForgetfulSQLTrackerStore(dialect="postgresql", host=postgres_url)
    try:
        assert store.engine.hide_parameters
    finally:
        store.engine.dispose()


SOURCES = [
    path
    for folder in ("callback_coach", "actions")
    for path in sorted((PROJECT_ROOT / folder).rglob("*.py"))
]
LOG_METHODS = {"debug", "info", "warning", "error", "exception", "critical"}


def personal_arguments(call: ast.Call) -> list[str]:
    """The arguments of a logger call that name a sender id, or a message's text,
    other than through hashed()."""
    found = []
    for argument in call.args[1:]:
        nodes = list(ast.walk(argument))
        if any(
            isinstance(node, ast.Call) and getattr(node.func, "id", "") == "hashed"
            for node in nodes
        ):
            continue
        names = {node.id for node in nodes if isinstance(node, ast.Name)} | {
            node.attr for node in nodes if isinstance(node, ast.Attribute)
        }
        message_text = any(
            isinstance(node, ast.Attribute)
            and node.attr == "text"
            and "message" in ast.unparse(node.value)
            for node in nodes
        )
        if names & {"sender_id", "sender", "recipient_id", "conversation"} or message_text:
            found.append(ast.unparse(argument))
    return found


def test_log_lines_name_no_sender_and_quote_no_message() -> None:
    problems = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in LOG_METHODS
                and getattr(node.func.value, "id", "") in {"logger", "logging"}
            ):
                problems += [
                    f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}: {argument}"
                    for argument in personal_arguments(node)
                ]
    assert problems == []
    # and the check finds them
    bad = ast.parse('logger.info("%s %s %s", message.sender_id, message.text, hashed(sender))')
    call = bad.body[0]
    assert isinstance(call, ast.Expr) and isinstance(call.value, ast.Call)
    assert personal_arguments(call.value) == ["message.sender_id", "message.text"]
