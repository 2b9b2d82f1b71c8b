"""Schema revision 0002: stored conversation ids move to ids that name their channel, on
SQLite and PostgreSQL, in our tables and in Rasa's events table; the mapping itself."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, UserUttered

from actions.records import id_migration
from actions.records.database import VERSION_TABLE, alembic_config, engine, migrate
from actions.records.id_migration import SlackTeamNeeded, new_id, old_id, user_channel
from tests.support.databases import fresh_postgres_database

NOW = datetime(2099, 1, 2, 3, 4, tzinfo=timezone.utc)
TEAM = "T0TEAM"
TABLES = ("applications", "contacts", "follow_ups", "reminders", "events")


def said(channel: str | None) -> Event:
    return UserUttered("hello", input_channel=channel)


# Old id -> (events in order, the channel of its reminder or None for no reminder, new id)
OLD_CONVERSATIONS: dict[str, tuple[list[Event], str | None, str]] = {
    "4f1c2a9e0b": (
        [ActionExecuted("action_listen"), said("socketio"), BotUttered("hi")],
        "socketio",
        "web:4f1c2a9e0b",
    ),
    "crm-42": ([said("rest"), BotUttered("hi")], None, "rest:crm-42"),
    "terminal-root": ([said("rest")], "rest", "terminal:root"),
    "123456": ([said("telegram")], "telegram", "telegram:123456"),
    "-100777": ([said("telegram")], "telegram", "legacy:telegram-group:-100777"),
    "U0SLACK": ([said("slack"), BotUttered("hi")], "slack", f"slack:{TEAM}:U0SLACK"),
    # the latest message on the user's own channel counts, not a reminder turn's
    "switched": (
        [said("rest"), said("socketio"), said("reminders"), said(None), said("collector")],
        "rest",
        "web:switched",
    ),
    # no message stored: the reminder says where the user is
    "555": ([], "telegram", "telegram:555"),
    # nothing says: Rasa's default channel
    "quiet": ([], None, "rest:quiet"),
    # already moved (a database that saw the new code): left alone
    "web:newer": ([said("socketio")], "socketio", "web:newer"),
}
EXPECTED = {old: new for old, (_, _, new) in OLD_CONVERSATIONS.items()}


def at_0001(url: str, with_events: bool = True) -> None:
    command.upgrade(alembic_config(url), "0001")
    if with_events:
        SQLTrackerStore.Base.metadata.create_all(engine(url))


def seed(url: str, with_events: bool = True) -> None:
    """Every old conversation with an application, a contact, a follow-up, its reminder
    and its events (two applications for one of them)."""
    with engine(url).begin() as connection:
        for old, (events, reminder_channel, _) in OLD_CONVERSATIONS.items():
            for company in ("Acme", "Globex") if old == "crm-42" else ("Acme",):
                application_id = connection.execute(
                    sa.text(
                        "INSERT INTO applications (sender_id, company, company_key, situation,"
                        " created_at, updated_at) VALUES (:s, :c, :k, 'no_callback', :t, :t)"
                        " RETURNING id"
                    ),
                    {"s": old, "c": company, "k": company.casefold(), "t": NOW},
                ).scalar_one()
                connection.execute(
                    sa.text(
                        "INSERT INTO contacts (sender_id, application_id, name)"
                        " VALUES (:s, :a, 'Maria')"
                    ),
                    {"s": old, "a": application_id},
                )
                connection.execute(
                    sa.text(
                        "INSERT INTO follow_ups (sender_id, application_id, recorded_at)"
                        " VALUES (:s, :a, :t)"
                    ),
                    {"s": old, "a": application_id, "t": NOW},
                )
            if reminder_channel is not None:
                connection.execute(
                    sa.text(
                        "INSERT INTO reminders (sender_id, channel, due_at, created_at)"
                        " VALUES (:s, :c, :t, :t)"
                    ),
                    {"s": old, "c": reminder_channel, "t": NOW},
                )
            if with_events:
                for event in events:
                    data = event.as_dict()
                    connection.execute(
                        sa.text(
                            "INSERT INTO events (sender_id, type_name, timestamp, data)"
                            " VALUES (:s, :t, :ts, :d)"
                        ),
                        {
                            "s": old,
                            "t": event.type_name,
                            "ts": data["timestamp"],
                            "d": json.dumps(data),
                        },
                    )


def snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row's id and owner (and a reminder's channel, an event's data), per table."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    with engine(url).connect() as connection:
        present = set(sa.inspect(connection).get_table_names())
        for table in TABLES:
            if table not in present:
                continue
            extra = {"reminders": ", channel", "events": ", data"}.get(table, "")
            rows[table] = [
                tuple(row)
                for row in connection.execute(
                    sa.text(f"SELECT id, sender_id{extra} FROM {table} ORDER BY id")
                )
            ]
    return rows


def moved(before: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[tuple[Any, ...]]]:
    """`before` as revision 0002 leaves it: new owners; terminal reminders on "terminal"."""
    after: dict[str, list[tuple[Any, ...]]] = {}
    for table, rows in before.items():
        after[table] = []
        for row_id, owner, *rest in rows:
            owner = EXPECTED[owner]
            if table == "reminders" and owner.startswith("terminal:") and rest == ["rest"]:
                rest = ["terminal"]
            after[table].append((row_id, owner, *rest))
    return after


def revision(url: str) -> str:
    with engine(url).connect() as connection:
        return connection.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar_one()


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """An empty database of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('migration') / 'coach.db'}"
        return
    with fresh_postgres_database(request.getfixturevalue("postgres_url"), "mig") as url:
        yield url


@pytest.fixture
def old_database(fresh_url: str) -> str:
    """A database at revision 0001 holding conversations under old ids."""
    at_0001(fresh_url)
    seed(fresh_url)
    return fresh_url


def test_every_row_moves_to_its_channels_id(
    old_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_TEAM_ID", TEAM)
    before = snapshot(old_database)
    migrate(old_database)
    after = snapshot(old_database)
    assert revision(old_database) == "0002"
    assert after == moved(before)
    assert {len(rows) for rows in before.values()} == {len(rows) for rows in after.values()}
    owners = {owner for rows in after.values() for _, owner, *_ in rows}
    assert owners == set(EXPECTED.values())


def test_slack_conversations_without_a_team_id_stop_the_upgrade_unchanged(
    old_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SLACK_TEAM_ID", raising=False)
    before = snapshot(old_database)
    with pytest.raises(SlackTeamNeeded, match="SLACK_TEAM_ID"):
        migrate(old_database)
    assert snapshot(old_database) == before
    assert revision(old_database) == "0001"


def test_a_malformed_team_id_stops_the_upgrade(
    old_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_TEAM_ID", "T0:TEAM")
    with pytest.raises(SlackTeamNeeded, match="SLACK_TEAM_ID"):
        migrate(old_database)
    assert revision(old_database) == "0001"


def test_upgrading_again_changes_nothing(
    old_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_TEAM_ID", TEAM)
    migrate(old_database)
    once = snapshot(old_database)
    migrate(old_database)
    assert snapshot(old_database) == once
    # even the move itself, run on ids that have all moved already
    command.stamp(alembic_config(old_database), "0001")
    migrate(old_database)
    assert snapshot(old_database) == once


def test_downgrade_gives_the_old_ids_back(
    old_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_TEAM_ID", TEAM)
    before = snapshot(old_database)
    migrate(old_database)
    command.downgrade(alembic_config(old_database), "0001")
    assert revision(old_database) == "0001"
    unmoved = {"web:newer"}  # was new already, so it loses its channel too
    assert snapshot(old_database) == {
        table: [
            (row_id, "newer" if owner in unmoved else owner, *rest) for row_id, owner, *rest in rows
        ]
        for table, rows in before.items()
    }


def test_without_rasas_table_the_reminders_say_the_channel(
    fresh_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Rasa creates `events` at its first start, which may come after ours
    monkeypatch.setenv("SLACK_TEAM_ID", TEAM)
    at_0001(fresh_url, with_events=False)
    seed(fresh_url, with_events=False)
    migrate(fresh_url)
    owners = {owner for rows in snapshot(fresh_url).values() for _, owner, *_ in rows}
    assert "events" not in snapshot(fresh_url)
    # "crm-42" has no reminder and now no message either; "switched" has a rest reminder
    assert owners == {
        "web:4f1c2a9e0b",
        "rest:crm-42",
        "terminal:root",
        "telegram:123456",
        "legacy:telegram-group:-100777",
        f"slack:{TEAM}:U0SLACK",
        "rest:switched",
        "telegram:555",
        "rest:quiet",
        "web:newer",
    }


# The mapping itself


@pytest.mark.parametrize(
    ("old", "channel", "expected"),
    [
        ("4f1c2a9e0b", "socketio", "web:4f1c2a9e0b"),
        ("crm-42", "rest", "rest:crm-42"),
        ("terminal-root", "rest", "terminal:root"),
        # the launcher's login rule: the terminal chat now asks for terminal:jane-doe
        ("terminal-jane.doe", "rest", "terminal:jane-doe"),
        ("terminal-", "rest", "rest:terminal-"),
        ("123456", "telegram", "telegram:123456"),
        ("-100777", "telegram", "legacy:telegram-group:-100777"),
        ("0", "telegram", "legacy:telegram-group:0"),
        ("U0SLACK", "slack", f"slack:{TEAM}:U0SLACK"),
        ("someone", "cmdline", "legacy:cmdline:someone"),
        ("someone", "odd:channel name", "legacy:odd-channel-name:someone"),
        ("web:abc", "rest", "web:abc"),
        ("slack:T1:U1", "socketio", "slack:T1:U1"),
        ("legacy:telegram-group:-5", "telegram", "legacy:telegram-group:-5"),
    ],
)
def test_new_id(old: str, channel: str, expected: str) -> None:
    assert new_id(old, channel, TEAM) == expected


@pytest.mark.parametrize("team", [None, "", "T0:TEAM"])
def test_only_slack_needs_the_team(team: str | None) -> None:
    with pytest.raises(SlackTeamNeeded, match="SLACK_TEAM_ID"):
        new_id("U0SLACK", "slack", team)
    assert new_id("slack:T1:U1", "slack", team) == "slack:T1:U1"
    assert new_id("crm-42", "rest", team) == "rest:crm-42"


def test_planned_moves_leave_moved_ids_out() -> None:
    moves = id_migration.planned_moves(
        ["web:newer", "crm-42", "U0SLACK", "555"],
        {"U0SLACK": "slack", "crm-42": "reminders"},
        {"555": "telegram", "crm-42": "socketio"},
        TEAM,
    )
    assert moves == [
        id_migration.Move("555", "telegram:555"),
        id_migration.Move("U0SLACK", f"slack:{TEAM}:U0SLACK"),
        id_migration.Move("crm-42", "web:crm-42"),
    ]


@pytest.mark.parametrize(
    ("value", "expected"), [(None, None), ("", None), ("  ", None), (" T0TEAM\n", "T0TEAM")]
)
def test_checked_slack_team(value: str | None, expected: str | None) -> None:
    assert id_migration.checked_slack_team(value) == expected


@pytest.mark.parametrize("value", ["T0:TEAM", "T0 TEAM", "x" * 129])
def test_a_malformed_slack_team_is_refused(value: str) -> None:
    with pytest.raises(SlackTeamNeeded, match="SLACK_TEAM_ID"):
        id_migration.checked_slack_team(value)


@pytest.mark.parametrize(
    ("latest_user", "reminder", "expected"),
    [
        ("socketio", "rest", "socketio"),
        ("reminders", "telegram", "telegram"),
        ("collector", None, "rest"),
        (None, "slack", "slack"),
        ("", "latest", "rest"),
        (None, None, "rest"),
    ],
)
def test_user_channel(latest_user: str | None, reminder: str | None, expected: str) -> None:
    assert user_channel(latest_user, reminder) == expected


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        ("web:4f1c2a9e0b", "4f1c2a9e0b"),
        ("rest:crm-42", "crm-42"),
        ("terminal:root", "terminal-root"),
        ("telegram:123456", "123456"),
        ("legacy:telegram-group:-100777", "-100777"),
        ("legacy:cmdline:someone", "someone"),
        (f"slack:{TEAM}:U0SLACK", "U0SLACK"),
        ("never-moved", "never-moved"),
        ("other:thing", "other:thing"),
    ],
)
def test_old_id(new: str, expected: str) -> None:
    assert old_id(new) == expected


@pytest.mark.parametrize("old", sorted(old for old in EXPECTED if old != "web:newer"))
def test_old_id_undoes_the_move(old: str) -> None:
    assert old_id(EXPECTED[old]) == old
