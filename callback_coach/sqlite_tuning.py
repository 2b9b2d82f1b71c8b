"""SQLite settings shared by the Rasa server's tracker store and the action server's records.

Both processes write to the same file. In WAL mode readers do not wait for the writer,
and with `synchronous=NORMAL` a commit no longer waits for the disk: a killed process
loses nothing it committed; only a power cut or OS crash may drop the last commits.
(For a server that must survive those, use PostgreSQL: see docs/production.md.)

SQLAlchemy 1.4 opens and closes a new connection per session for a SQLite file; closing
the last one checkpoints and removes the write-ahead log, which cost more than the
queries themselves. A small pool keeps connections open, as SQLAlchemy 2 does.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine


def is_sqlite_file(url: str | sa.engine.URL) -> bool:
    parsed = sa.engine.make_url(url)
    return parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:")


def pooled_options(url: str | sa.engine.URL) -> dict[str, object]:
    """create_engine options that keep a SQLite file's connections open between sessions."""
    if not is_sqlite_file(url):
        return {}
    # the pool may hand a connection to another thread than the one that opened it
    return {"poolclass": sa.pool.QueuePool, "connect_args": {"check_same_thread": False}}


def tune_sqlite(engine: Engine, foreign_keys: bool = False) -> None:
    """Sets the pragmas on every new connection of a SQLite engine; others are left alone."""
    if not is_sqlite_file(engine.url):
        return

    @sa.event.listens_for(engine, "connect")
    def _pragmas(connection: object, _record: object) -> None:
        cursor = connection.cursor()  # type: ignore[attr-defined]
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Deleted rows (a "forget me", the retention clean-up) are overwritten with
        # zeros instead of lingering in free pages of the file.
        cursor.execute("PRAGMA secure_delete=ON")
        if foreign_keys:
            # SQLite ignores foreign keys (and so ON DELETE) unless asked per connection.
            cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
