"""The records module on a real SQLite file and on PostgreSQL: schema by migration,
applications per company + role, per-sender isolation, reminder claims, deletion."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from actions.records import applications, privacy, reminders
from actions.records.applications import Report
from actions.records.database import VERSION_TABLE, engine, migrate, session_scope
from actions.records.tables import metadata

# Far ahead of the real clock: the action servers other tests leave running on the same
# PostgreSQL database poll for due reminders by real time, and would claim these first.
NOW = datetime(2099, 11, 25, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'records.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    migrate(url)
    yield url


def sender() -> str:
    return f"user-{uuid.uuid4()}"


def test_migrations_create_every_table_and_can_run_again(database: str) -> None:
    migrate(database)  # a second start changes nothing and does not fail
    names = set(sa.inspect(engine(database)).get_table_names())
    assert {table.name for table in metadata.sorted_tables} <= names
    assert VERSION_TABLE in names


def test_an_application_is_updated_by_company_and_role(database: str) -> None:
    me = sender()
    with session_scope(database) as session:
        first = applications.record(
            session,
            me,
            Report(company="Acme", situation="no_callback", role="data analyst", person="Maria"),
            NOW,
        )
        other_role = applications.record(
            session, me, Report(company="Acme", situation="no_callback", role="designer"), NOW
        )
        later = NOW + timedelta(hours=1)
        # "Acme rejected me" with the role named: the analyst application changes
        rejected = applications.record(
            session,
            me,
            Report(
                company="ACME.", situation="rejected", role="Data Analyst", person="Maria Lopez"
            ),
            later,
        )
    assert rejected.id == first.id != other_role.id
    assert rejected.situation == "rejected"
    assert rejected.contacts == ("Maria Lopez",)  # the fuller name replaced "Maria"
    with session_scope(database) as session:
        stored = applications.all_of(session, me)
    assert {(a.company, a.role, a.situation) for a in stored} == {
        ("Acme", "data analyst", "rejected"),
        ("Acme", "designer", "no_callback"),
    }


def test_without_a_role_the_latest_application_at_the_company_is_meant(database: str) -> None:
    me = sender()
    with session_scope(database) as session:
        applications.record(session, me, Report(company="Initech", situation="no_callback"), NOW)
        updated = applications.record(
            session,
            me,
            Report(
                company="initech",
                situation="on_hold",
                next_step="check_back",
                next_step_date=date(2026, 12, 9),
                follow_ups_done=2,
                last_follow_up=date(2026, 11, 20),
            ),
            NOW + timedelta(minutes=5),
        )
    assert updated.situation == "on_hold"
    assert updated.next_step_date == date(2026, 12, 9)
    assert updated.follow_ups_done == 2
    assert updated.last_follow_up == date(2026, 11, 20)


def test_the_list_puts_the_soonest_step_first(database: str) -> None:
    me = sender()
    with session_scope(database) as session:
        for company, day in (
            ("Late", date(2026, 12, 20)),
            ("Undated", None),
            ("Soon", date(2026, 12, 1)),
        ):
            applications.record(
                session,
                me,
                Report(company=company, situation="no_callback", next_step_date=day),
                NOW,
            )
        assert [a.company for a in applications.all_of(session, me)] == ["Soon", "Late", "Undated"]


def test_no_user_sees_or_changes_another_users_records(database: str) -> None:
    me, someone_else = sender(), sender()
    with session_scope(database) as session:
        mine = applications.record(session, me, Report(company="Acme", situation="rejected"), NOW)
        reminder = reminders.add(session, me, "rest", NOW + timedelta(days=1), NOW)
    with session_scope(database) as session:
        assert applications.all_of(session, someone_else) == []
        assert applications.get(session, someone_else, mine.id) is None
        assert applications.find(session, someone_else, "Acme", None) is None
        assert reminders.pending(session, someone_else) == []
        assert not reminders.cancel(session, someone_else, reminder.id)
        assert not reminders.mark_delivered(session, someone_else, reminder.id, NOW)
        # recording "Acme" for someone else makes their own application
        theirs = applications.record(
            session, someone_else, Report(company="Acme", situation="on_hold"), NOW
        )
    assert theirs.id != mine.id
    with session_scope(database) as session:
        assert applications.get(session, me, mine.id).situation == "rejected"  # type: ignore[union-attr]
        assert [r.id for r in reminders.pending(session, me)] == [reminder.id]


def test_a_due_reminder_is_claimed_by_one_scheduler_and_delivered_once(database: str) -> None:
    me = sender()
    with session_scope(database) as session:
        due = reminders.add(
            session, me, "rest", NOW - timedelta(minutes=1), NOW - timedelta(days=1)
        )
        reminders.add(session, me, "rest", NOW + timedelta(days=2), NOW)
    with session_scope(database) as session:
        claimed = [r.id for r in reminders.claim_due(session, NOW, timedelta(minutes=2))]
    with session_scope(database) as session:
        claimed_again = reminders.claim_due(session, NOW, timedelta(minutes=2))
    assert due.id in claimed
    assert due.id not in [r.id for r in claimed_again]
    with session_scope(database) as session:
        assert reminders.mark_delivered(session, me, due.id, NOW)
        assert not reminders.mark_delivered(session, me, due.id, NOW)
    # a delivered reminder is never claimed again, even after the lease
    with session_scope(database) as session:
        later = reminders.claim_due(session, NOW + timedelta(hours=1), timedelta(minutes=2))
        assert due.id not in [r.id for r in later]
        assert [r.due_at.date() for r in reminders.pending(session, me)] == [date(2099, 11, 27)]


def test_a_released_reminder_waits_for_its_retry_time(database: str) -> None:
    me = sender()
    with session_scope(database) as session:
        due = reminders.add(session, me, "rest", NOW - timedelta(minutes=1), NOW)
        assert [
            r.id
            for r in reminders.claim_due(session, NOW, timedelta(minutes=2))
            if r.sender_id == me
        ] == [due.id]
        reminders.release(session, due.id, NOW + timedelta(seconds=30))
        soon = reminders.claim_due(session, NOW + timedelta(seconds=10), timedelta(minutes=2))
        retry = reminders.claim_due(session, NOW + timedelta(seconds=31), timedelta(minutes=2))
    assert due.id not in [r.id for r in soon]
    assert due.id in [r.id for r in retry]


def test_a_cancelled_reminder_is_never_delivered(database: str) -> None:
    me = sender()
    with session_scope(database) as session:
        reminder = reminders.add(session, me, "rest", NOW - timedelta(minutes=1), NOW)
        assert reminders.cancel(session, me, reminder.id)
        assert not reminders.cancel(session, me, reminder.id)
        assert reminder.id not in [
            r.id for r in reminders.claim_due(session, NOW, timedelta(minutes=1))
        ]
        assert reminders.pending(session, me) == []


def test_deleting_leaves_nothing_of_the_user_and_everything_of_others(database: str) -> None:
    me, someone_else = sender(), sender()
    with session_scope(database) as session:
        for who in (me, someone_else):
            application = applications.record(
                session,
                who,
                Report(company="Acme", situation="no_callback", person="Maria", follow_ups_done=1),
                NOW,
            )
            reminders.add(session, who, "rest", NOW, NOW, application_id=application.id)
    with session_scope(database) as session:
        removed = privacy.delete_everything(session, me)
    assert removed == {"reminders": 1, "follow_ups": 1, "contacts": 1, "applications": 1}
    with engine(database).connect() as connection:
        for table in metadata.sorted_tables:
            owners = connection.execute(sa.select(table.c.sender_id)).scalars().all()
            assert me not in owners, table.name
            assert someone_else in owners, table.name
