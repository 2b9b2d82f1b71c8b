"""The scheduler when the Rasa server cannot be reached: nothing is lost, it tries again."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from actions.records import reminders
from actions.records.database import session_scope
from actions.runtime import settings
from callback_coach.launcher import free_port
from callback_coach.reminder_scheduler import RETRY_AFTER, ReminderScheduler


async def test_a_reminder_stays_pending_while_rasa_is_down_and_is_retried_later() -> None:
    me = f"sched-{uuid.uuid4()}"
    now = datetime.now(timezone.utc)
    nobody_listens = f"http://127.0.0.1:{free_port()}"
    config = replace(settings(), rasa_url=nobody_listens, reminder_channel_secret="s" * 24)
    with session_scope(config.database_url) as session:
        due = reminders.add(session, me, "rest", now - timedelta(minutes=1), now)

    scheduler = ReminderScheduler(config)
    assert await scheduler.deliver_due(now) == 0

    with session_scope(config.database_url) as session:
        assert [r.id for r in reminders.pending(session, me)] == [due.id]
        # held back until the retry time, then free to be claimed again
        early = reminders.claim_due(session, now + RETRY_AFTER / 2, timedelta(minutes=1))
        again = reminders.claim_due(session, now + RETRY_AFTER * 2, timedelta(minutes=1))
    assert due.id not in [r.id for r in early]
    assert due.id in [r.id for r in again]


def test_the_scheduler_needs_the_reminder_channel_secret() -> None:
    with pytest.raises(ValueError, match="REMINDER_CHANNEL_SECRET"):
        ReminderScheduler(replace(settings(), reminder_channel_secret=None))
