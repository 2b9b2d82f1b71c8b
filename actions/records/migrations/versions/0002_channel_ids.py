"""conversation ids carry their channel (web:, slack:, telegram:, rest:, terminal:)

Moves every stored id, in our tables and in Rasa's `events` table, to the id the
channels now give the same person (actions/records/id_migration.py says how). Slack ids
need the workspace's team id: with Slack conversations stored, SLACK_TEAM_ID must be
set, or the upgrade stops and changes nothing.

The downgrade takes the channels off again. It is lossy only where the upgrade could not
keep the old id's owner apart: legacy ids (Telegram groups) go back to the group's id,
and ids that differ only in their channel or Slack team become one.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 10:00:00.000000
"""

from __future__ import annotations

import logging
import os

from alembic import op

from actions.records import id_migration

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

logger = logging.getLogger(__name__)


def upgrade() -> None:
    moves = id_migration.upgrade(op.get_bind(), os.environ.get(id_migration.SLACK_TEAM_VARIABLE))
    logger.info("Moved %d conversation ids to ids that name their channel.", len(moves))


def downgrade() -> None:
    moves = id_migration.downgrade(op.get_bind())
    logger.info("Took the channel off %d conversation ids.", len(moves))
