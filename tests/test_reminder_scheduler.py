"""The scheduler when the Rasa server cannot be reached: nothing is lost, it tries again."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from actions.records import privacy, reminders
from actions.records.database import migrate, session_scope
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


def test_one_persons_many_due_reminders_do_not_hold_up_another(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fair.db'}"
    migrate(url)
    now = datetime.now(timezone.utc)
    with session_scope(url) as session:
        for minutes in range(10, 0, -1):  # ten of one person's, all due before the other's
            reminders.add(session, "rest:busy", "rest", now - timedelta(minutes=minutes), now)
        reminders.add(session, "rest:other", "rest", now - timedelta(seconds=1), now)
        claimed = reminders.claim_due(session, now, timedelta(minutes=1), limit=4, per_person=3)
        owners = [r.sender_id for r in claimed]
        assert owners.count("rest:busy") == 3 and owners.count("rest:other") == 1
        # the longest due first
        busy = [r.due_at for r in claimed if r.sender_id == "rest:busy"]
        assert busy == sorted(busy)
        # the rest in the next rounds
        later = reminders.claim_due(session, now, timedelta(minutes=1), limit=4, per_person=3)
        assert [r.sender_id for r in later] == ["rest:busy"] * 3


async def test_a_reminder_cancelled_after_its_claim_is_not_delivered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'recheck.db'}"
    migrate(url)
    now = datetime.now(timezone.utc)
    config = replace(settings(), database_url=url, reminder_channel_secret="r3minder-" * 3)
    with session_scope(url) as session:
        reminders.add(session, "rest:gone", "rest", now - timedelta(minutes=1), now)
    scheduler = ReminderScheduler(config)
    claim = scheduler._claim

    def claim_then_forget(moment: datetime) -> list[reminders.Reminder]:
        claimed = claim(moment)
        with session_scope(url) as session:  # "forget me" in between
            privacy.delete_everything(session, "rest:gone")
        return claimed

    triggered: list[int] = []

    async def trigger(http: object, reminder: reminders.Reminder) -> bool:
        triggered.append(reminder.id)
        return True

    monkeypatch.setattr(scheduler, "_claim", claim_then_forget)
    monkeypatch.setattr(scheduler, "_trigger", trigger)
    assert await scheduler.deliver_due(now) == 0
    assert triggered == []
    # without the deletion it would have gone out
    with session_scope(url) as session:
        again = reminders.add(session, "rest:kept", "rest", now - timedelta(minutes=1), now)
    monkeypatch.setattr(scheduler, "_claim", claim)
    assert await scheduler.deliver_due(now) == 1
    assert triggered == [again.id]
