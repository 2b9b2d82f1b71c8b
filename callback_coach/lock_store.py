"""Rasa's Redis lock store, made safe between replicas.

Rasa 3.6 keeps a conversation's ticket queue in one Redis value and changes it by
reading, changing and writing it back. Between replicas that is a race: two replicas
can issue the same ticket number (both process the conversation at once), or one
deletes the queue just after another added its ticket (the other then fails with
"Could not acquire lock" and the user's message is dropped; our scale-out test saw
this with simultaneous messages of one conversation on two replicas).

Here every change is one Redis transaction (WATCH/MULTI/EXEC, retried if another
replica changed the value in between), and the queue is deleted only while empty.
`install()` makes Rasa use this class for `lock_store: type: redis`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import rasa.core.lock_store
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore

Result = TypeVar("Result")


class AtomicRedisLockStore(RedisLockStore):
    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def issue(lock: TicketLock | None) -> tuple[int, TicketLock | None]:
            lock = lock or self.create_lock(conversation_id)
            return lock.issue_ticket(lock_lifetime), lock

        try:
            return self._change(conversation_id, issue)
        except Exception as error:  # Rasa's own contract: any failure is a LockError
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def update_lock(self, conversation_id: str) -> None:
        def drop_expired(lock: TicketLock | None) -> tuple[None, TicketLock | None]:
            if lock is not None:
                lock.remove_expired_tickets()
            return None, lock

        self._change(conversation_id, drop_expired)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        def remove(lock: TicketLock | None) -> tuple[None, TicketLock | None]:
            if lock is not None:
                lock.remove_ticket_for(ticket_number)
            return None, lock

        self._change(conversation_id, remove)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Removes the ticket, and the queue with it if nobody else is waiting."""

        def remove(lock: TicketLock | None) -> tuple[None, TicketLock | None]:
            if lock is not None:
                lock.remove_ticket_for(ticket_number)
                if lock.is_someone_waiting():
                    return None, lock
            return None, None

        self._change(conversation_id, remove)

    def _change(
        self,
        conversation_id: str,
        change: Callable[[TicketLock | None], tuple[Result, TicketLock | None]],
    ) -> Result:
        """Applies `change` to the stored queue in one transaction; it returns its result
        and the queue to store (None: delete it)."""
        key = self.key_prefix + conversation_id

        def transaction(pipe: Any) -> Result:
            stored = pipe.get(key)  # runs at once: the pipeline is watching `key`
            lock = TicketLock.from_dict(json.loads(stored)) if stored else None
            result, changed = change(lock)
            pipe.multi()
            if changed is None:
                pipe.delete(key)
            else:
                pipe.set(key, changed.dumps())
            return result

        result: Result = self.red.transaction(transaction, key, value_from_callable=True)
        return result


def install() -> None:
    """Rasa builds `type: redis` lock stores from this module attribute."""
    rasa.core.lock_store.RedisLockStore = AtomicRedisLockStore
