"""How the action server lives with its records' database out of reach.

At start: when the migration cannot reach the database, the server starts anyway
(restarting it would not bring the database back, and a supervisor would only see a
crash loop), says so in one log line and keeps migrating in the background every
DATABASE_RETRY_SECONDS until it works.

While it is away: an action that fails on the database answers with the domain
response `utter_notes_unavailable` instead of an HTTP 500, and is reported to Rasa as
rejected, so its slots and rules stay as they were. Actions that need no records
(most small talk never reaches the action server at all) are unaffected.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import sqlalchemy.exc
from rasa_sdk.events import ActionExecutionRejected, FollowupAction
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic

from actions.records.database import migrate
from callback_coach.fault_reporting import first_line, seconds_setting

logger = logging.getLogger(__name__)

APOLOGY_RESPONSE = "utter_notes_unavailable"
RETRY_VARIABLE = "DATABASE_RETRY_SECONDS"
DEFAULT_RETRY_SECONDS = 5.0

RunAction = Callable[[ActionExecutor, Any], Awaitable[Any]]


def retry_seconds(environ: Mapping[str, str] = os.environ) -> float:
    return seconds_setting(environ, RETRY_VARIABLE, DEFAULT_RETRY_SECONDS, 3600)


def migrate_now_or_later(app: Sanic, url: str, every: float) -> bool:
    """Migrates now; if the database cannot be reached, keeps trying once the server
    runs. True when the schema is up to date already."""
    try:
        migrate(url)
        return True
    except sqlalchemy.exc.SQLAlchemyError as error:
        logger.error(
            "The records database is unreachable (%s): starting anyway; actions that "
            "need it apologise, and the migration is retried every %g s (%s).",
            first_line(error),
            every,
            RETRY_VARIABLE,
        )

    @app.after_server_start
    async def keep_migrating(app: Sanic, _loop: asyncio.AbstractEventLoop) -> None:
        app.add_task(migrate_when_reachable(url, every), name="migration")

    return False


async def migrate_when_reachable(url: str, every: float) -> None:
    attempts = 1
    while True:
        await asyncio.sleep(every)
        attempts += 1
        try:
            await asyncio.to_thread(migrate, url)
        except sqlalchemy.exc.SQLAlchemyError as error:
            logger.warning(
                "Records database still unreachable (attempt %d): %s", attempts, first_line(error)
            )
            continue
        logger.info("Records database reachable after %d attempts: schema up to date.", attempts)
        return


def apology(action_name: str) -> dict[str, Any]:
    """The action server's answer for an action that could not use the database."""
    return {
        "events": [ActionExecutionRejected(action_name), FollowupAction("action_listen")],
        "responses": [{"response": APOLOGY_RESPONSE}],
    }


def install() -> None:
    """Every action that fails on the database apologises instead of failing."""
    run: RunAction = ActionExecutor.run
    if getattr(run, "with_apology", False):
        return

    async def run_or_apologise(self: ActionExecutor, action_call: Any) -> Any:
        try:
            return await run(self, action_call)
        except sqlalchemy.exc.SQLAlchemyError as error:
            name = str(action_call.get("next_action"))
            logger.error(
                "Action %s could not use the records database (%s); it apologised.",
                name,
                first_line(error),
            )
            return apology(name)

    run_or_apologise.with_apology = True  # type: ignore[attr-defined]
    ActionExecutor.run = run_or_apologise
