"""Rasa's SQL tracker store, plus "forget me": a conversation in which the user
confirmed deletion is erased from the events table instead of being saved.

The action server cannot do this itself: Rasa saves the tracker after the action has
run and would write every event back. Erasing in `save` happens under the
conversation's lock, after the last event of the turn.

It also lives with a database that is away: Rasa's store gives up on its table when
the database is down at start (and never creates it later), and keeps pooled
connections that died with the server. This one starts anyway with a clear log line,
creates the table on the first use that reaches the database, and checks a pooled
connection before using it (callback_coach.tracker_outage answers the user meanwhile).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
import sqlalchemy.exc
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.orm import Session

logger = logging.getLogger(__name__)

# actions.privacy.DELETE_ACTION; not imported, so the Rasa server needs no action code.
DELETE_ACTION = "action_delete_my_data"
# Without it a connection attempt to a silent host blocks the server for minutes.
CONNECT_TIMEOUT_SECONDS = 5


def asked_to_forget(tracker: DialogueStateTracker) -> bool:
    return any(
        isinstance(event, ActionExecuted) and event.action_name == DELETE_ACTION
        for event in tracker.events
    )


class ForgetfulSQLTrackerStore(SQLTrackerStore):
    engine: sa.engine.Engine

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # logs and carries on when the database is down
        self._table_ready = False
        self._reconnecting_engine()
        try:
            self._ensure_table()
        except sqlalchemy.exc.SQLAlchemyError as error:
            logger.error(
                "The conversation database is unreachable at start (%s): the server "
                "starts anyway, apologises to users, and tries again with every message.",
                str(error).strip().splitlines()[0],
            )

    def _reconnecting_engine(self) -> None:
        """Rasa's engine plus a liveness check of pooled connections (a server that
        restarted leaves dead ones) and a connect timeout."""
        rasa_engine = self.engine
        url = rasa_engine.url
        if url.get_backend_name() == "sqlite":
            return  # a file has no connection to lose
        options: dict[str, Any] = create_engine_kwargs(url)
        if url.get_driver_name() == "psycopg2":
            connect_args = options.setdefault("connect_args", {})
            connect_args.setdefault("connect_timeout", CONNECT_TIMEOUT_SECONDS)
        rasa_engine.dispose()
        self.engine = sa.create_engine(url, pool_pre_ping=True, **options)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    def _ensure_table(self) -> None:
        if not self._table_ready:
            self.Base.metadata.create_all(self.engine)
            self._table_ready = True

    @contextlib.contextmanager
    def session_scope(self) -> Iterator[Session]:
        self._ensure_table()
        with super().session_scope() as session:
            yield session

    async def save(self, tracker: DialogueStateTracker) -> None:
        if not asked_to_forget(tracker):
            await super().save(tracker)
            return
        # The tracker in memory still holds the old events until the turn ends; every
        # save of this turn erases rather than writes. The next turn starts empty.
        with self.session_scope() as session:
            deleted = (
                session.query(self.SQLEvent)
                .filter(self.SQLEvent.sender_id == tracker.sender_id)
                .delete(synchronize_session=False)
            )
            session.commit()
        logger.info("Erased %d stored events of a conversation on the user's request.", deleted)
