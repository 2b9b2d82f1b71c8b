"""What the Rasa server says when the conversation database is out of reach.

Stock Rasa wraps the tracker store in a FailSafeTrackerStore that, on a database
error, quietly carries on with an empty conversation kept in memory: the user gets
answers from a coach who has forgotten everything, and those turns vanish when the
database returns. Here the error reaches the message handler instead and becomes
the domain response `utter_notes_unavailable`, sent on the user's channel, and one
log line. Nothing else changes: the next message tries the database again,
so the conversation picks up where it was once the database is back (the tracker
store reconnects on its own, see callback_coach.tracker_store).

A turn whose tracker could not be saved is not answered: on the REST channel the
reply collected so far is replaced by the apology, so the user never sees an answer
that the conversation's history lacks and can simply send the message again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import sqlalchemy.exc
from rasa.core.agent import Agent
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.processor import MessageProcessor
from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from callback_coach.fault_reporting import first_line
from callback_coach.identity import hashed

logger = logging.getLogger(__name__)

APOLOGY_RESPONSE = "utter_notes_unavailable"

HandleMessage = Callable[[MessageProcessor, UserMessage], Awaitable[Any]]


def unreachable(error: sqlalchemy.exc.SQLAlchemyError) -> bool:
    """A lost or refused connection, as opposed to a fault in a query."""
    return isinstance(
        error, (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError)
    ) or bool(getattr(error, "connection_invalidated", False))


async def apologise(processor: MessageProcessor, message: UserMessage) -> Any:
    channel = message.output_channel
    if isinstance(channel, CollectingOutputChannel):
        channel.messages.clear()  # an answer that was not stored is not given
    # The real tracker cannot be read; the response needs no slot from it.
    tracker = DialogueStateTracker(str(message.sender_id), processor.domain.slots)
    response = await processor.nlg.generate(APOLOGY_RESPONSE, tracker, channel.name())
    if response:
        await channel.send_response(str(message.sender_id), response)
    else:
        logger.error("The model has no %s response: retrain (make train).", APOLOGY_RESPONSE)
    return channel.messages if isinstance(channel, CollectingOutputChannel) else None


def no_memoryless_fallback(error: Exception) -> None:
    raise error


def fail_safe_without_amnesia(store: TrackerStore | None, domain: Domain) -> TrackerStore:
    """Rasa's Agent._create_tracker_store, with errors passed on instead of a fresh
    in-memory conversation."""
    if store is None:
        primary: TrackerStore = InMemoryTrackerStore(domain)
    else:
        store.domain = domain
        primary = store
    return FailSafeTrackerStore(primary, on_tracker_store_error=no_memoryless_fallback)


def install() -> None:
    """Turns a database error while handling a message into a polite reply."""
    handle: HandleMessage = MessageProcessor.handle_message
    if getattr(handle, "with_apology", False):
        return
    Agent._create_tracker_store = staticmethod(fail_safe_without_amnesia)

    async def handle_or_apologise(self: MessageProcessor, message: UserMessage) -> Any:
        try:
            return await handle(self, message)
        except sqlalchemy.exc.SQLAlchemyError as error:
            if unreachable(error):
                logger.error(
                    "The conversation database is unreachable (%s): conversation %s was "
                    "asked to try again; the next message retries the database.",
                    first_line(error),
                    hashed(str(message.sender_id)),
                )
            else:
                logger.exception(
                    "Database error in conversation %s; the user was asked to try again.",
                    hashed(str(message.sender_id)),
                )
            return await apologise(self, message)

    handle_or_apologise.with_apology = True  # type: ignore[attr-defined]
    MessageProcessor.handle_message = handle_or_apologise
