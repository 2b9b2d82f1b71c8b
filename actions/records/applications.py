"""Each application (company + role) of a candidate, what happened and what comes next."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from actions.records.tables import applications, contacts, follow_ups


def company_key(name: str) -> str:
    """'Acme', ' acme ' and 'ACME.' are one company."""
    return re.sub(r"\s+", " ", name).strip(" .,!?").casefold()


@dataclass(frozen=True)
class Report:
    """What one coaching turn learnt about an application."""

    company: str
    situation: str
    role: str | None = None
    person: str | None = None
    next_step: str | None = None
    next_step_date: date | None = None
    interview_date: date | None = None
    promised_date: date | None = None
    follow_ups_done: int = 0
    last_follow_up: date | None = None


@dataclass(frozen=True)
class Application:
    id: int
    company: str
    role: str | None
    situation: str
    next_step: str | None
    next_step_date: date | None
    interview_date: date | None
    promised_date: date | None
    contacts: tuple[str, ...]
    follow_ups_done: int
    last_follow_up: date | None
    updated_at: datetime


def find(session: Session, sender_id: str, company: str, role: str | None) -> Application | None:
    """The sender's application at this company: the one with this role, else one whose
    role is not known yet, else (no role given) the one they spoke about last."""
    rows = session.execute(
        sa.select(applications)
        .where(
            applications.c.sender_id == sender_id,
            applications.c.company_key == company_key(company),
        )
        .order_by(applications.c.updated_at.desc(), applications.c.id.desc())
    ).all()
    if role:
        wanted = role.casefold()
        chosen = next((r for r in rows if (r.role or "").casefold() == wanted), None)
        chosen = chosen or next((r for r in rows if not r.role), None)
    else:
        chosen = rows[0] if rows else None
    return _load(session, chosen) if chosen is not None else None


def record(session: Session, sender_id: str, report: Report, now: datetime) -> Application:
    """Creates or updates the application the report is about; returns it as stored."""
    existing = find(session, sender_id, report.company, report.role)
    values = {
        "situation": report.situation,
        "next_step": report.next_step,
        "next_step_date": report.next_step_date,
        "updated_at": now,
    }
    # Facts learnt earlier stay when this turn did not mention them.
    for name in ("role", "interview_date", "promised_date"):
        value = getattr(report, name)
        if value is not None:
            values[name] = value
    if (
        existing
        and existing.role
        and report.role
        and existing.role.casefold() == report.role.casefold()
    ):
        values["role"] = existing.role  # keep the spelling first given
    if existing is None:
        application_id = session.execute(
            applications.insert().values(
                sender_id=sender_id,
                company=report.company.strip(),
                company_key=company_key(report.company),
                created_at=now,
                **values,
            )
        ).inserted_primary_key[0]
        known_follow_ups = 0
    else:
        application_id = existing.id
        session.execute(
            applications.update()
            .where(applications.c.id == application_id, applications.c.sender_id == sender_id)
            .values(**values)
        )
        known_follow_ups = existing.follow_ups_done
    if report.person:
        _add_contact(session, sender_id, application_id, report.person)
    for number in range(known_follow_ups, report.follow_ups_done):
        last = number == report.follow_ups_done - 1
        session.execute(
            follow_ups.insert().values(
                sender_id=sender_id,
                application_id=application_id,
                sent_on=report.last_follow_up if last else None,
                recorded_at=now,
            )
        )
    stored = get(session, sender_id, application_id)
    assert stored is not None
    return stored


def count(session: Session, sender_id: str) -> int:
    """How many applications the sender has on record."""
    return int(
        session.execute(
            sa.select(sa.func.count()).where(applications.c.sender_id == sender_id)
        ).scalar_one()
    )


def get(session: Session, sender_id: str, application_id: int) -> Application | None:
    row = session.execute(
        sa.select(applications).where(
            applications.c.id == application_id, applications.c.sender_id == sender_id
        )
    ).first()
    return _load(session, row) if row is not None else None


def all_of(session: Session, sender_id: str) -> list[Application]:
    """The sender's applications, the most urgent next step first, undated ones last."""
    rows = session.execute(
        sa.select(applications)
        .where(applications.c.sender_id == sender_id)
        .order_by(
            applications.c.next_step_date.is_(None),
            applications.c.next_step_date,
            applications.c.updated_at.desc(),
        )
    ).all()
    return [_load(session, row) for row in rows]


def _add_contact(session: Session, sender_id: str, application_id: int, name: str) -> None:
    names = session.execute(
        sa.select(contacts.c.name).where(
            contacts.c.application_id == application_id, contacts.c.sender_id == sender_id
        )
    ).scalars()
    # "Maria" after "Maria Lopez" is the same person: keep the fuller name.
    for known in names:
        if known.casefold().startswith(name.casefold()):
            return
        if name.casefold().startswith(known.casefold()):
            session.execute(
                contacts.update()
                .where(contacts.c.application_id == application_id, contacts.c.name == known)
                .values(name=name.strip())
            )
            return
    session.execute(
        contacts.insert().values(
            sender_id=sender_id, application_id=application_id, name=name.strip()
        )
    )


def _load(session: Session, row: Row) -> Application:
    names = tuple(
        session.execute(
            sa.select(contacts.c.name)
            .where(contacts.c.application_id == row.id)
            .order_by(contacts.c.id)
        ).scalars()
    )
    sent = session.execute(
        sa.select(sa.func.count(), sa.func.max(follow_ups.c.sent_on)).where(
            follow_ups.c.application_id == row.id
        )
    ).one()
    return Application(
        id=row.id,
        company=row.company,
        role=row.role,
        situation=row.situation,
        next_step=row.next_step,
        next_step_date=row.next_step_date,
        interview_date=row.interview_date,
        promised_date=row.promised_date,
        contacts=names,
        follow_ups_done=int(sent[0]),
        last_follow_up=sent[1],
        updated_at=row.updated_at,
    )
