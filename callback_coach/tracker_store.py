"""Rasa's SQL tracker store, plus "forget me": a conversation in which the user
confirmed deletion is erased from the events table instead of being saved.

The action server cannot do this itself: Rasa saves the tracker after the action has
run and would write every event back. Erasing in `save` happens under the
conversation's lock, after the last event of the turn.

Rasa's store rebuilds the whole tracker from the database on every message (reading,
parsing and replaying every event of the session) and counts the stored events again on
every save, so a turn costs more the longer the conversation. This one keeps the
trackers it saved in memory (up to COACH_CACHED_EVENTS events in all, the conversation
used longest ago let go first) and, per message, only checks that the database still
holds exactly what it wrote (one indexed query: the conversation's last event id and
event count). Anything else — another replica or worker wrote, a turn failed before
saving, a new session began, the user was forgotten — falls back to Rasa's own loading,
and the tracker loaded is kept from then on; a conversation with nothing stored is not
loaded at all. Saving writes the turn's new events without asking the database again:
the turn holds the conversation's lock since that check.

It also lives with a database that is away: Rasa's store gives up on its table when
the database is down at start (and never creates it later), and keeps pooled
connections that died with the server. This one starts anyway with a clear log line,
creates the table on the first use that reaches the database, and checks a pooled
connection before using it (callback_coach.tracker_outage answers the user meanwhile).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import logging
import os
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import sqlalchemy.exc
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from callback_coach import dialogue_history
from callback_coach.identity import in_private
from callback_coach.sqlite_tuning import is_sqlite_file, pooled_options, tune_sqlite

logger = logging.getLogger(__name__)

# actions.privacy.DELETE_ACTION; not imported, so the Rasa server needs no action code.
DELETE_ACTION = "action_delete_my_data"
# Without it a connection attempt to a silent host blocks the server for minutes.
CONNECT_TIMEOUT_SECONDS = 5


def asked_to_forget(tracker: DialogueStateTracker, from_event: int = 0) -> bool:
    """Whether the delete action ran in the tracker's events from `from_event` on, for a
    message from a private place: in a shared one it deletes nothing (actions/place.py)."""
    newest_first = reversed(tracker.events)
    ran = any(
        isinstance(event, ActionExecuted) and event.action_name == DELETE_ACTION
        for event in itertools.islice(newest_first, len(tracker.events) - from_event)
    )
    latest = tracker.latest_message
    return ran and in_private(latest.metadata if latest else None)


# Events kept in memory per Rasa process, over all the conversations kept; the ones
# used longest ago are let go first. An event takes about 1.4 KB (an 8-turn conversation
# of 72 events held 99 KB), so the default holds about 25 MB. A bound by conversations
# would not bound memory: a 50-turn conversation holds six times an 8-turn one.
DEFAULT_CACHED_EVENTS = 18_000
# Conversations found empty and not yet created: both happen within one turn.
MAX_FOUND_EMPTY = 1_000


@dataclass
class StoredState:
    """What this process last wrote for a conversation, to recognise it unchanged."""

    tracker: DialogueStateTracker
    saved_events: int  # len(tracker.events) when it was saved
    last_event_id: int
    event_count: int  # rows of the conversation in the events table


class ForgetfulSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # logs and carries on when the database is down
        # Rasa's engine (used above only to create the table) is replaced by one with
        # hide_parameters, so SQL errors and logs never show values: message text, ids.
        rasas_engine: Engine = self.engine  # type: ignore[has-type]
        url = rasas_engine.url
        if is_sqlite_file(url):
            rasas_engine.dispose()
            pooled: Engine = sa.create_engine(url, hide_parameters=True, **pooled_options(url))
            tune_sqlite(pooled)
            self.engine = pooled
            self.sessionmaker = sa.orm.sessionmaker(bind=pooled)
        else:
            self._reconnecting_engine(rasas_engine)
        self._events_budget = int(os.environ.get("COACH_CACHED_EVENTS", str(DEFAULT_CACHED_EVENTS)))
        self._stored: OrderedDict[str, StoredState] = OrderedDict()
        self._kept_events = 0  # saved_events over all kept states
        # Conversations whose latest retrieve found nothing stored, until created.
        self._found_empty: OrderedDict[str, None] = OrderedDict()
        self._table_ready = False
        try:
            self._ensure_table()
        except sqlalchemy.exc.SQLAlchemyError as error:
            logger.error(
                "The conversation database is unreachable at start (%s): the server "
                "starts anyway, apologises to users, and tries again with every message.",
                str(error).strip().splitlines()[0],
            )

    def _reconnecting_engine(self, rasas_engine: Engine) -> None:
        """Rasa's engine plus a liveness check of pooled connections (a server that
        restarted leaves dead ones) and a connect timeout."""
        url = rasas_engine.url
        if url.get_backend_name() == "sqlite":
            return  # a file has no connection to lose
        options: dict[str, Any] = create_engine_kwargs(url)
        if url.get_driver_name() == "psycopg2":
            connect_args = options.setdefault("connect_args", {})
            connect_args.setdefault("connect_timeout", CONNECT_TIMEOUT_SECONDS)
        rasas_engine.dispose()
        self.engine = sa.create_engine(url, pool_pre_ping=True, hide_parameters=True, **options)
        self.sessionmaker = sa.orm.sessionmaker(bind=self.engine)

    def _ensure_table(self) -> None:
        if not self._table_ready:
            self.Base.metadata.create_all(self.engine)
            self._table_ready = True

    @contextlib.contextmanager
    def session_scope(self) -> Iterator[Session]:
        self._ensure_table()
        with super().session_scope() as session:
            yield session

    @functools.cached_property
    def _position_query(self) -> sa.sql.Select:
        """The conversation's last event id and event count, as one Core statement built
        once (an ORM query built per message cost more than running it)."""
        table = self.SQLEvent.__table__
        return sa.select(sa.func.max(table.c.id), sa.func.count(table.c.id)).where(
            table.c.sender_id == sa.bindparam("sender_id")
        )

    def _stored_position(self, database: Session | Connection, sender_id: str) -> tuple[int, int]:
        last_id, count = database.execute(self._position_query, {"sender_id": sender_id}).one()
        return int(last_id or 0), int(count)

    def _unchanged(self, database: Session | Connection, sender_id: str) -> StoredState | None:
        """The kept state of a conversation, if the database is exactly as this process
        left it and the kept tracker has nothing unsaved (a turn that broke off)."""
        state = self._stored.get(sender_id)
        if state is None:
            return None
        if len(state.tracker.events) != state.saved_events or self._stored_position(
            database, sender_id
        ) != (state.last_event_id, state.event_count):
            self._drop(sender_id)
            return None
        self._stored.move_to_end(sender_id)
        return state

    def _kept_for(self, tracker: DialogueStateTracker) -> StoredState | None:
        """The kept state if `tracker` is the very object it served this turn (with the
        turn's events added)."""
        state = self._stored.get(tracker.sender_id)
        if state is None or state.tracker is not tracker or tracker.events.maxlen is not None:
            return None
        return state

    def _kept(self, tracker: DialogueStateTracker) -> StoredState | None:
        """The kept state for saving `tracker`, forgotten if it is not the tracker's. The
        database is not asked again: the retrieve at the start of the turn did, and the
        conversation's lock keeps other writers out until this save. A write that
        slipped past anyway shows at the next retrieve, as the event count no longer
        matches."""
        state = self._kept_for(tracker)
        if state is None:
            self._drop(tracker.sender_id)
        return state

    def _unkeep(self, sender_id: str) -> None:
        """Takes a kept conversation out of the cache and of the events count."""
        state = self._stored.pop(sender_id, None)
        if state is not None:
            self._kept_events -= state.saved_events

    def _drop(self, sender_id: str) -> None:
        """Lets go of a kept conversation, and of what the dialogue history kept of it:
        its replays hold the same events and are of no use without this tracker."""
        self._unkeep(sender_id)
        dialogue_history.forget(sender_id)

    def _keep(
        self,
        tracker: DialogueStateTracker,
        position: tuple[int, int],
        saved_events: int | None = None,
    ) -> None:
        """Remembers `tracker` as matching the database at `position`, with its first
        `saved_events` events stored (all of them by default)."""
        saved = len(tracker.events) if saved_events is None else saved_events
        self._unkeep(tracker.sender_id)  # re-added at the end: used last
        self._stored[tracker.sender_id] = StoredState(tracker, saved, *position)
        self._kept_events += saved
        while self._kept_events > self._events_budget and self._stored:
            self._drop(next(iter(self._stored)))

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        if self._events_budget <= 0:
            return await super().retrieve(sender_id)
        self._ensure_table()
        # A plain connection: the check is one statement, and an ORM session around
        # it took as long again.
        with self.engine.connect() as connection:
            state = self._unchanged(connection, sender_id)
            if state is not None:
                return state.tracker
            # Read before loading: a write that slips in between then shows as a
            # mismatch at the next check, never as a kept tracker that lacks it.
            position = self._stored_position(connection, sender_id)
        self._found_empty.pop(sender_id, None)
        if position == (0, 0):
            # Nothing stored, so Rasa's loading would find nothing either.
            self._found_empty[sender_id] = None
            while len(self._found_empty) > MAX_FOUND_EMPTY:
                self._found_empty.popitem(last=False)
            return None
        tracker = await super().retrieve(sender_id)
        if tracker is not None:
            self._keep(tracker, position)
        return tracker

    async def create_tracker(
        self, sender_id: str, append_action_listen: bool = True
    ) -> DialogueStateTracker:
        """Rasa's create_tracker; when this turn's retrieve found the conversation
        empty, the new tracker is kept as matching that, so its first save neither
        counts the stored events nor asks where the conversation stands."""
        tracker = self.init_tracker(sender_id)
        if append_action_listen:
            tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
        if sender_id in self._found_empty:
            del self._found_empty[sender_id]
            self._keep(tracker, (0, 0), saved_events=0)
        await self.save(tracker)
        return tracker

    def _unsaved_from(self, tracker: DialogueStateTracker) -> int:
        """Where the events this process has not saved yet begin (0 when not known).
        A deletion erases the conversation and forgets it here, so one that happened
        before that point is never missed."""
        state = self._kept_for(tracker)
        return 0 if state is None else min(state.saved_events, len(tracker.events))

    async def save(self, tracker: DialogueStateTracker) -> None:
        if not asked_to_forget(tracker, self._unsaved_from(tracker)):
            await self._save_events(tracker)
            return
        self._drop(tracker.sender_id)
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

    @staticmethod
    def _row(sender_id: str, event: Event) -> dict[str, Any]:
        """The events table's row for an event, as Rasa's save writes it."""
        data = event.as_dict()
        return {
            "sender_id": sender_id,
            "type_name": event.type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            "action_name": data.get("name"),
            "data": json.dumps(data),
        }

    def _insert(self, session: Session, rows: list[dict[str, Any]]) -> int | None:
        """Inserts the rows in order with SQLAlchemy Core (the ORM's unit of work cost
        more than the writing itself) and returns the id of the last one. Ids grow in
        insertion order, and the conversation's lock keeps its other writers out, so
        the last row holds the conversation's highest id."""
        if not rows:
            return None
        table = self.SQLEvent.__table__
        if len(rows) > 1:
            session.execute(table.insert(), rows[:-1])
        result = session.execute(table.insert(), rows[-1])
        return int(result.inserted_primary_key[0])

    async def _save_events(self, tracker: DialogueStateTracker) -> None:
        """Rasa's save, which writes the events the database does not have yet; those
        are known without counting when this process wrote the rest."""
        await self.stream_events(tracker)
        with self.session_scope() as session:
            state = self._kept(tracker)
            if state is not None:
                new_events = list(itertools.islice(tracker.events, state.saved_events, None))
            else:
                new_events = list(self._additional_events(session, tracker))
            rows = [self._row(tracker.sender_id, event) for event in new_events]
            last_id = self._insert(session, rows)
            # Where the conversation now stands, known without asking when this process
            # wrote everything before.
            position = None
            if state is not None:
                position = (last_id or state.last_event_id, state.event_count + len(rows))
            # A new session is not kept: Rasa's loading keeps only its events; let it.
            keep = self._events_budget > 0 and not any(
                isinstance(event, SessionStarted) for event in new_events
            )
            if keep and position is None:
                position = self._stored_position(session, tracker.sender_id)
            session.commit()
            if keep and position is not None:
                self._keep(tracker, position)
            else:
                self._drop(tracker.sender_id)
