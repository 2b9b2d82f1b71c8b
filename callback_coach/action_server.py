"""Starts the action server after checking the knowledge file and migrating the database.

rasa-sdk's own entry point would start even with a broken knowledge file and fail
on the first message; this one refuses to start and says which entry is wrong. It
brings the records' database to the latest schema (Alembic; while the database is
unreachable it starts anyway and retries, see callback_coach.records_outage), runs the
reminder scheduler beside the actions, answers only requests carrying
ACTION_SERVER_TOKEN (callback_coach.action_auth), leaves out slot events that change
nothing (callback_coach.slot_events), and binds to localhost unless ACTION_SERVER_HOST
says otherwise.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys

from rasa_sdk import utils
from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME
from rasa_sdk.endpoint import create_app, create_argument_parser
from rasa_sdk.plugin import plugin_manager
from sanic import Sanic

from actions.knowledge import KnowledgeError
from actions.runtime import knowledge_cache, settings
from callback_coach import action_guards, records_outage, slot_events
from callback_coach.action_auth import require_action_token
from callback_coach.reminder_scheduler import ReminderScheduler

logger = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    args = create_argument_parser().parse_args(argv)
    utils.configure_colored_logging(args.loglevel)
    utils.configure_file_logging(
        logging.getLogger(APPLICATION_ROOT_LOGGER_NAME),
        args.log_file,
        args.loglevel,
        args.logging_config_file,
    )
    try:
        knowledge = knowledge_cache().get()
    except (KnowledgeError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    logger.info(
        "Knowledge file %s is valid: %d situations.",
        settings().knowledge_file,
        len(knowledge.situations),
    )
    try:
        migration_retry = records_outage.retry_seconds()
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    records_outage.install()
    slot_events.install()
    app = create_app(args.actions or "actions", cors_origins=args.cors, auto_reload=False)
    try:
        require_action_token(app, os.environ)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    records_outage.migrate_now_or_later(app, settings().database_url, migration_retry)
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    action_guards.install(app)  # a malformed action call gets 400, not 500
    _schedule_reminders(app)
    # rasa-sdk's default would listen on every interface.
    host = os.environ.get("ACTION_SERVER_HOST", "127.0.0.1")
    logger.info("Action server on http://%s:%d", host, args.port)
    app.run(host, args.port, workers=utils.number_of_sanic_workers(), access_log=False)
    return 0


def _schedule_reminders(app: Sanic) -> None:
    if not settings().reminder_channel_secret:
        logger.warning(
            "REMINDER_CHANNEL_SECRET is not set: reminders are stored but not delivered. "
            "`make run` sets it; see docs/security.md."
        )
        return
    scheduler = ReminderScheduler(settings())

    @app.after_server_start
    async def start_scheduler(app: Sanic, _loop: asyncio.AbstractEventLoop) -> None:
        app.add_task(scheduler.run_forever(), name="reminders")


if __name__ == "__main__":
    sys.exit(main())
