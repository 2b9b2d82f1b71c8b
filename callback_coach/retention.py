"""Deletes every conversation nobody has touched for COACH_RETENTION_DAYS (default 180).

    python -m callback_coach.retention [--days N] [--dry-run]      (make retention)

A conversation is its id: Rasa's tracker events (the `events` table) and our records
(actions/records/tables.py). It was last touched at the newest of its events'
timestamps and its records' created/updated/recorded/delivered times, so records whose
conversation has no events left are judged by their own times. A conversation with a
pending reminder due in the future is kept, however old: the reminder still has to
reach its owner.

Each conversation is removed in its own transaction, which checks again that it is
still untouched and has no reminder coming, so a message that arrives meanwhile keeps
it. Rasa's tracker store notices the events are gone at the next message
(callback_coach.tracker_store compares the stored event count). On SQLite the deleted
rows are overwritten (secure_delete, callback_coach.sqlite_tuning).

The output is counts only: the ids are personal.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from actions.records.database import database_url, engine
from actions.records.privacy import TABLES_BY_DELETE_ORDER, delete_everything
from actions.records.reminders import PENDING, as_utc
from actions.records.tables import applications, follow_ups, reminders

RETENTION_VARIABLE = "COACH_RETENTION_DAYS"
DEFAULT_RETENTION_DAYS = 180
# Rasa's SQL tracker store's table (rasa.core.tracker_store.SQLTrackerStore.SQLEvent);
# only the columns used here, so this module needs no Rasa import.
EVENTS = sa.table("events", sa.column("sender_id"), sa.column("timestamp"))
# When each kind of record was last written.
RECORD_TIMES = (
    applications.c.created_at,
    applications.c.updated_at,
    follow_ups.c.recorded_at,
    reminders.c.created_at,
    reminders.c.delivered_at,
)


@dataclass
class Removal:
    """What a run removed (or, dry, would remove)."""

    conversations: int = 0
    rows: Counter[str] = field(default_factory=Counter)  # by table

    def summary(self, dry_run: bool) -> str:
        verb = "Would remove" if dry_run else "Removed"
        tables = ", ".join(f"{table} {count}" for table, count in sorted(self.rows.items()))
        return (
            f"{verb} {self.conversations} conversation(s) untouched for the retention "
            f"period: {sum(self.rows.values())} row(s)" + (f" ({tables})." if tables else ".")
        )


def retention_days(env: Mapping[str, str] = os.environ) -> int:
    """COACH_RETENTION_DAYS, a whole number of days of at least 1."""
    raw = env.get(RETENTION_VARIABLE) or str(DEFAULT_RETENTION_DAYS)
    try:
        days = int(raw)
    except ValueError:
        days = 0
    if days < 1:
        raise ValueError(f"{RETENTION_VARIABLE} must be a whole number of days, at least 1")
    return days


def present_tables(connection: Connection) -> set[str]:
    """The tables that exist: Rasa creates `events` at its first start, the action
    server ours."""
    return set(sa.inspect(connection).get_table_names())


def last_touched(
    connection: Connection, tables: set[str], sender_ids: list[str] | None = None
) -> dict[str, datetime]:
    """The newest activity of each conversation (of `sender_ids`, or of all of them).

    A conversation whose events carry no timestamp at all is left out, and so kept."""
    newest: dict[str, datetime] = {}

    def note(sender_id: str, moment: datetime) -> None:
        if sender_id not in newest or moment > newest[sender_id]:
            newest[sender_id] = moment

    undated: set[str] = set()
    if "events" in tables:
        query = sa.select(EVENTS.c.sender_id, sa.func.max(EVENTS.c.timestamp)).group_by(
            EVENTS.c.sender_id
        )
        if sender_ids is not None:
            query = query.where(EVENTS.c.sender_id.in_(sender_ids))
        for sender_id, timestamp in connection.execute(query):
            if timestamp is None:
                undated.add(sender_id)
            else:
                note(sender_id, datetime.fromtimestamp(float(timestamp), timezone.utc))
    for column in RECORD_TIMES:
        if column.table.name not in tables:
            continue
        owner = column.table.c.sender_id
        query = sa.select(owner, sa.func.max(column)).group_by(owner)
        if sender_ids is not None:
            query = query.where(owner.in_(sender_ids))
        for sender_id, moment in connection.execute(query):
            if moment is not None:
                note(sender_id, as_utc(moment))
    for sender_id in undated:
        newest.pop(sender_id, None)
    return newest


def reminder_coming(
    connection: Connection, tables: set[str], now: datetime, sender_ids: list[str] | None = None
) -> set[str]:
    """Conversations with a pending reminder due after `now`."""
    if reminders.name not in tables:
        return set()
    query = sa.select(reminders.c.sender_id).where(
        reminders.c.status == PENDING, reminders.c.due_at > now
    )
    if sender_ids is not None:
        query = query.where(reminders.c.sender_id.in_(sender_ids))
    return set(connection.execute(query.distinct()).scalars())


def expired(connection: Connection, tables: set[str], cutoff: datetime, now: datetime) -> list[str]:
    """The conversations last touched before `cutoff` with no reminder coming."""
    keep = reminder_coming(connection, tables, now)
    return sorted(
        sender_id
        for sender_id, moment in last_touched(connection, tables).items()
        if moment < cutoff and sender_id not in keep
    )


def remove_conversation(
    session: Session, tables: set[str], sender_id: str, cutoff: datetime, now: datetime
) -> dict[str, int] | None:
    """Deletes a conversation's events and records if it is still expired; the rows
    removed per table, or None when it was touched meanwhile."""
    connection = session.connection()
    moment = last_touched(connection, tables, [sender_id]).get(sender_id)
    if moment is None or moment >= cutoff or reminder_coming(connection, tables, now, [sender_id]):
        return None
    removed: dict[str, int] = {}
    if "events" in tables:
        result = session.execute(EVENTS.delete().where(EVENTS.c.sender_id == sender_id))
        removed["events"] = int(result.rowcount or 0)
    if all(table.name in tables for table in TABLES_BY_DELETE_ORDER):
        removed.update(delete_everything(session, sender_id))
    return removed


def remove_expired(
    url: str, days: int, now: datetime | None = None, dry_run: bool = False
) -> Removal:
    """Removes every conversation untouched for `days` days from the database at `url`.
    A dry run makes the same deletions and rolls them back, so it counts the same."""
    moment = now or datetime.now(timezone.utc)
    cutoff = moment - timedelta(days=days)
    database = engine(url)
    with database.connect() as connection:
        tables = present_tables(connection)
        candidates = expired(connection, tables, cutoff, moment)
    removal = Removal()
    for sender_id in candidates:
        with Session(database, future=True) as session:
            removed = remove_conversation(session, tables, sender_id, cutoff, moment)
            if dry_run:
                session.rollback()
            else:
                session.commit()
        if removed is not None:
            removal.conversations += 1
            removal.rows.update({table: count for table, count in removed.items() if count})
    return removal


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Delete every conversation untouched for the retention period "
        f"({RETENTION_VARIABLE}, default {DEFAULT_RETENTION_DAYS} days) from DATABASE_URL."
    )
    parser.add_argument("--days", type=int, help=f"instead of {RETENTION_VARIABLE}")
    parser.add_argument("--dry-run", action="store_true", help="count only, delete nothing")
    args = parser.parse_args(argv)
    try:
        days = retention_days() if args.days is None else args.days
        if days < 1:
            raise ValueError("--days must be at least 1")
        if os.environ.get("POSTGRESQL_SCHEMA"):
            # Rasa's events would be in that schema, where this command does not look
            raise ValueError("POSTGRESQL_SCHEMA is set: this command supports only the default")
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    removal = remove_expired(database_url(), days, dry_run=args.dry_run)
    print(removal.summary(args.dry_run))
    return 0


if __name__ == "__main__":
    sys.exit(main())
