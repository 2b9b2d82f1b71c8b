"""Rasa's SQL tracker store, plus "forget me": a conversation in which the user
confirmed deletion is erased from the events table instead of being saved.

The action server cannot do this itself: Rasa saves the tracker after the action has
run and would write every event back. Erasing in `save` happens under the
conversation's lock, after the last event of the turn.
"""

from __future__ import annotations

import logging

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)

# actions.privacy.DELETE_ACTION; not imported, so the Rasa server needs no action code.
DELETE_ACTION = "action_delete_my_data"


def asked_to_forget(tracker: DialogueStateTracker) -> bool:
    return any(
        isinstance(event, ActionExecuted) and event.action_name == DELETE_ACTION
        for event in tracker.events
    )


class ForgetfulSQLTrackerStore(SQLTrackerStore):
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
