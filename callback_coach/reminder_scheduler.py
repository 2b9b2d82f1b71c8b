"""Delivers due reminders through the Rasa server's internal reminders channel.

The channel (callback_coach.channels.reminders) triggers the `reminder_due` intent as
Rasa's trigger_intent API would, but needs only REMINDER_CHANNEL_SECRET, so Rasa's
HTTP API can stay off.

Runs inside the action server. Reminders live in the database, so they survive
restarts: one that fell due while everything was down goes out on the first poll
after start. Each is delivered once: a scheduler claims it atomically, and the
action that speaks it marks it delivered in the same step (see actions.reminding).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone

import aiohttp
import sqlalchemy.exc

from actions.records import reminders
from actions.records.database import session_scope
from actions.records.reminders import Reminder
from actions.settings import Settings
from callback_coach.shared_secret import bearer_header

logger = logging.getLogger(__name__)

# Long enough for one delivery; a crashed scheduler's claims expire after it.
CLAIM_LEASE = timedelta(minutes=2)
# When Rasa is down or refuses, try the reminder again after this long.
RETRY_AFTER = timedelta(seconds=30)
REQUEST_TIMEOUT_SECONDS = 30


class ReminderScheduler:
    def __init__(self, settings: Settings) -> None:
        if not settings.reminder_channel_secret:
            raise ValueError(
                "reminders need REMINDER_CHANNEL_SECRET, the reminders channel's secret"
            )
        self.settings = settings
        self.headers = bearer_header(settings.reminder_channel_secret)

    async def run_forever(self) -> None:
        logger.info(
            "Reminder scheduler started: every %.0f s, via %s.",
            self.settings.reminder_poll_seconds,
            self.settings.rasa_url,
        )
        while True:
            try:
                await self.deliver_due()
            except sqlalchemy.exc.OperationalError as error:  # one line, not a traceback
                logger.warning(
                    "Reminders wait: the records database is unreachable (%s).",
                    str(error).strip().splitlines()[0],
                )
            except Exception:  # a bad poll must not end the scheduler
                logger.exception("Reminder delivery failed; trying again at the next poll.")
            await asyncio.sleep(self.settings.reminder_poll_seconds)

    async def deliver_due(self, now: datetime | None = None) -> int:
        """Triggers every due reminder once; returns how many went out."""
        moment = now or datetime.now(timezone.utc)
        claimed = await asyncio.to_thread(self._claim, moment)
        if not claimed:
            return 0
        sent = 0
        timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            for reminder in claimed:
                # Checked again just before: a trigger for someone who said "forget me"
                # since the claim would start a new conversation for them.
                if not await asyncio.to_thread(self._still_pending, reminder):
                    continue
                delivered = await self._trigger(http, reminder)
                await asyncio.to_thread(self._settle, reminder, delivered, moment)
                sent += delivered
        return sent

    def _claim(self, now: datetime) -> list[Reminder]:
        with session_scope(self.settings.database_url) as session:
            return reminders.claim_due(session, now, CLAIM_LEASE)

    def _still_pending(self, reminder: Reminder) -> bool:
        with session_scope(self.settings.database_url) as session:
            return reminders.still_pending(session, reminder)

    def _settle(self, reminder: Reminder, delivered: bool, now: datetime) -> None:
        with session_scope(self.settings.database_url) as session:
            if delivered:
                # Normally the reminder action has marked it already; this covers an
                # action that failed after Rasa accepted the trigger.
                reminders.mark_delivered(session, reminder.sender_id, reminder.id, now)
            else:
                reminders.release(session, reminder.id, now + RETRY_AFTER)

    async def _trigger(self, http: aiohttp.ClientSession, reminder: Reminder) -> bool:
        try:
            async with http.post(
                f"{self.settings.rasa_url}/webhooks/reminders/deliver",
                headers=self.headers,
                json={
                    "sender": reminder.sender_id,
                    "reminder_id": reminder.id,
                    "channel": reminder.channel,
                },
            ) as response:
                if response.status == 200:
                    logger.info("Reminder %d delivered on %s.", reminder.id, reminder.channel)
                    return True
                logger.warning(
                    "Rasa refused reminder %d: HTTP %d %s",
                    reminder.id,
                    response.status,
                    (await response.text())[:200],
                )
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            logger.warning("Rasa not reachable for reminder %d: %s", reminder.id, error)
        return False
