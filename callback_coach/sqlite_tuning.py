"""SQLite settings shared by the Rasa server's tracker store and the action server's records.

Both processes write to the same file. In WAL mode readers do not wait for the writer,
and with `synchronous=NORMAL` a commit no longer waits for the disk: a killed process
loses nothing it committed; only a power cut or OS crash may drop the last commits.
(For a server that must survive those, use PostgreSQL: see docs/production.md.)
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine


def is_sqlite(engine: Engine) -> bool:
    return engine.url.get_backend_name() == "sqlite"


def tune_sqlite(engine: Engine, foreign_keys: bool = False) -> None:
    """Sets the pragmas on every new connection of a SQLite engine; others are left alone."""
    if not is_sqlite(engine) or engine.url.database in (None, "", ":memory:"):
        return

    @sa.event.listens_for(engine, "connect")
    def _pragmas(connection: object, _record: object) -> None:
        cursor = connection.cursor()  # type: ignore[attr-defined]
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        if foreign_keys:
            # SQLite ignores foreign keys (and so ON DELETE) unless asked per connection.
            cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
