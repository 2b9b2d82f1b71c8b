"""The project's own tables (SQLAlchemy Core). Alembic migrations create and change them.

Every row carries the Rasa sender id of its owner, and every query filters on it, so
no user can read or change another's records.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

applications = sa.Table(
    "applications",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("company", sa.String(255), nullable=False),
    # casefolded company, so "Acme" and "acme" are one application
    sa.Column("company_key", sa.String(255), nullable=False),
    sa.Column("role", sa.String(255)),
    sa.Column("situation", sa.String(64), nullable=False),
    sa.Column("next_step", sa.String(64)),
    sa.Column("next_step_date", sa.Date),
    sa.Column("interview_date", sa.Date),
    sa.Column("promised_date", sa.Date),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

contacts = sa.Table(
    "contacts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column(
        "application_id",
        sa.Integer,
        sa.ForeignKey("applications.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("name", sa.String(255), nullable=False),
    sa.UniqueConstraint("application_id", "name"),
)

follow_ups = sa.Table(
    "follow_ups",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column(
        "application_id",
        sa.Integer,
        sa.ForeignKey("applications.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("sent_on", sa.Date),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
)

reminders = sa.Table(
    "reminders",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    # the Rasa channel to answer on ("rest", "socketio", "slack", "telegram"...)
    sa.Column("channel", sa.String(64), nullable=False),
    sa.Column(
        "application_id",
        sa.Integer,
        sa.ForeignKey("applications.id", ondelete="SET NULL"),
    ),
    sa.Column("step", sa.String(64)),
    sa.Column("company", sa.String(255)),
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=False, index=True),
    # pending -> delivered | cancelled
    sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
    # a scheduler that takes a due reminder holds it until then; another may take it after
    sa.Column("claimed_until", sa.DateTime(timezone=True)),
    sa.Column("delivered_at", sa.DateTime(timezone=True)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
