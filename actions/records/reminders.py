"""Reminders: stored with their owner and channel, delivered once by the scheduler."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from actions.records.tables import reminders

PENDING, DELIVERED, CANCELLED = "pending", "delivered", "cancelled"


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored here is UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


@dataclass(frozen=True)
class Reminder:
    id: int
    sender_id: str
    channel: str
    step: str | None
    company: str | None
    due_at: datetime
    status: str


def count_pending(session: Session, sender_id: str) -> int:
    return int(
        session.execute(
            sa.select(sa.func.count()).where(
                reminders.c.sender_id == sender_id, reminders.c.status == PENDING
            )
        ).scalar_one()
    )


def add(
    session: Session,
    sender_id: str,
    channel: str,
    due_at: datetime,
    now: datetime,
    step: str | None = None,
    company: str | None = None,
    application_id: int | None = None,
) -> Reminder:
    reminder_id = session.execute(
        reminders.insert().values(
            sender_id=sender_id,
            channel=channel,
            due_at=as_utc(due_at),
            step=step,
            company=company,
            application_id=application_id,
            status=PENDING,
            created_at=as_utc(now),
        )
    ).inserted_primary_key[0]
    found = get(session, sender_id, reminder_id)
    assert found is not None
    return found


def get(session: Session, sender_id: str, reminder_id: int) -> Reminder | None:
    row = session.execute(
        sa.select(reminders).where(
            reminders.c.id == reminder_id, reminders.c.sender_id == sender_id
        )
    ).first()
    return _reminder(row) if row is not None else None


def pending(session: Session, sender_id: str) -> list[Reminder]:
    rows = session.execute(
        sa.select(reminders)
        .where(reminders.c.sender_id == sender_id, reminders.c.status == PENDING)
        .order_by(reminders.c.due_at, reminders.c.id)
    ).all()
    return [_reminder(row) for row in rows]


def cancel(session: Session, sender_id: str, reminder_id: int) -> bool:
    """Cancels one of the sender's pending reminders; False when there is no such one."""
    return _leave_pending(session, sender_id, reminder_id, status=CANCELLED)


def claim_due(
    session: Session, now: datetime, lease: timedelta, limit: int = 50, per_person: int = 3
) -> list[Reminder]:
    """Takes up to `limit` due reminders nobody holds, for `lease`: the longest due
    first, and at most `per_person` of one person's, so that someone with many due
    reminders cannot keep everyone else waiting (the rest go in the next rounds).

    The conditional UPDATE makes the claim atomic, so two schedulers (replicas) never
    take the same reminder at once.
    """
    now = as_utc(now)
    free = sa.or_(reminders.c.claimed_until.is_(None), reminders.c.claimed_until < now)
    candidates = session.execute(
        sa.select(reminders)
        .where(reminders.c.status == PENDING, reminders.c.due_at <= now, free)
        .order_by(reminders.c.due_at, reminders.c.id)
        .limit(limit * per_person)
    ).all()
    taken: dict[str, int] = {}
    due: list[sa.Row] = []
    for row in candidates:
        if taken.get(row.sender_id, 0) < per_person and len(due) < limit:
            taken[row.sender_id] = taken.get(row.sender_id, 0) + 1
            due.append(row)
    claimed = []
    for row in due:
        result = session.execute(
            reminders.update()
            .where(reminders.c.id == row.id, reminders.c.status == PENDING, free)
            .values(claimed_until=now + lease)
        )
        if result.rowcount == 1:
            claimed.append(_reminder(row))
    return claimed


def still_pending(session: Session, reminder: Reminder) -> bool:
    """Whether a claimed reminder is still pending: cancelled, or its owner forgotten,
    since the claim, it must not be delivered."""
    found = get(session, reminder.sender_id, reminder.id)
    return found is not None and found.status == PENDING


def release(session: Session, reminder_id: int, retry_at: datetime) -> None:
    """Gives a claimed reminder back; nobody takes it again before `retry_at`."""
    session.execute(
        reminders.update()
        .where(reminders.c.id == reminder_id, reminders.c.status == PENDING)
        .values(claimed_until=as_utc(retry_at))
    )


def mark_delivered(session: Session, sender_id: str, reminder_id: int, now: datetime) -> bool:
    """True only for the first caller: a reminder is delivered once."""
    return _leave_pending(
        session, sender_id, reminder_id, status=DELIVERED, delivered_at=as_utc(now)
    )


def _leave_pending(session: Session, sender_id: str, reminder_id: int, **values: object) -> bool:
    """Moves one of the sender's pending reminders on; False when it is not (or no longer)
    pending, so of two callers racing only the first wins."""
    result = session.execute(
        reminders.update()
        .where(
            reminders.c.id == reminder_id,
            reminders.c.sender_id == sender_id,
            reminders.c.status == PENDING,
        )
        .values(**values)
    )
    return bool(result.rowcount == 1)


def _reminder(row: Row) -> Reminder:
    return Reminder(
        id=row.id,
        sender_id=row.sender_id,
        channel=row.channel,
        step=row.step,
        company=row.company,
        due_at=as_utc(row.due_at),
        status=row.status,
    )
