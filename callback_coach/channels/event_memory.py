"""Which webhook events a channel has already accepted, to drop a platform's retries.

One Rasa process remembers them in memory. Replicas share them in Redis (when
LOCK_STORE_TYPE=redis, the same Redis as Rasa's lock store), so a retry that the load
balancer sends to another replica is still recognised.
"""

from __future__ import annotations

import logging
import os
from collections import OrderedDict
from collections.abc import Mapping
from typing import Protocol

logger = logging.getLogger(__name__)

# In memory: event ids remembered; Slack retries within minutes.
REMEMBERED_EVENTS = 10_000
# In Redis: how long an event id is kept. Slack's last retry comes about five minutes
# after the event; an hour leaves room for slow deliveries.
REMEMBER_SECONDS = 3600
KEY_PREFIX = "callback_coach:seen-event:"


class EventMemory(Protocol):
    async def first_time(self, event_id: str) -> bool:
        """True the first time `event_id` is seen (and remembers it), False after."""
        ...


class LocalEventMemory:
    def __init__(self, capacity: int = REMEMBERED_EVENTS) -> None:
        self.capacity = capacity
        self._seen: OrderedDict[str, None] = OrderedDict()

    async def first_time(self, event_id: str) -> bool:
        if event_id in self._seen:
            return False
        self._seen[event_id] = None
        while len(self._seen) > self.capacity:
            self._seen.popitem(last=False)
        return True


class RedisEventMemory:
    """SET NX with an expiry: atomic, so of two replicas given the same event only one
    takes it."""

    def __init__(
        self,
        host: str,
        port: int,
        db: int = 1,
        password: str | None = None,
        namespace: str = "",
        ttl_seconds: int = REMEMBER_SECONDS,
    ) -> None:
        import redis.asyncio

        self.redis = redis.asyncio.Redis(
            host=host, port=port, db=db, password=password, socket_timeout=5
        )
        self.prefix = f"{KEY_PREFIX}{namespace}:"
        self.ttl_seconds = ttl_seconds

    async def first_time(self, event_id: str) -> bool:
        import redis

        try:
            stored = await self.redis.set(self.prefix + event_id, "1", nx=True, ex=self.ttl_seconds)
        except redis.RedisError as error:
            # A second reply is better than a lost message.
            logger.warning("Redis unavailable, event %s taken as new: %s", event_id, error)
            return True
        return bool(stored)


def event_memory(namespace: str, env: Mapping[str, str] | None = None) -> EventMemory:
    """Redis when Rasa's lock store is Redis (replicas), else this process's memory.

    REDIS_HOST, REDIS_PORT, REDIS_DB (1, like Rasa's lock store) and REDIS_PASSWORD
    say where Redis is.
    """
    env = os.environ if env is None else env
    if env.get("LOCK_STORE_TYPE") != "redis":
        return LocalEventMemory()
    return RedisEventMemory(
        host=env.get("REDIS_HOST") or "127.0.0.1",
        port=int(env.get("REDIS_PORT") or 6379),
        db=int(env.get("REDIS_DB") or 1),
        password=env.get("REDIS_PASSWORD") or None,
        namespace=namespace,
    )
