"""Where the records live (DATABASE_URL, a SQLite file by default) and how to open them.

The schema is Alembic's job: `migrate()` runs at action-server start and brings any
database, new or old, to the latest revision.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from callback_coach.sqlite_tuning import pooled_options, tune_sqlite

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'var' / 'callback_coach.db'}"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Our own name, so Alembic's bookkeeping never meets another tool's in a shared database.
VERSION_TABLE = "callback_coach_schema_version"
# PostgreSQL advisory-lock key held while migrating (any constant, ours alone):
# "callback" as a number.
MIGRATION_LOCK_KEY = 0x63616C6C6261636B


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL


@functools.cache
def engine(url: str) -> Engine:
    parsed = make_url(url)
    # hide_parameters: SQL errors and logs show statements without their values (what
    # people wrote, their ids).
    options: dict[str, Any] = {"future": True, "hide_parameters": True}
    if parsed.get_backend_name() != "sqlite":
        # a server may drop idle connections; a local file cannot, so SQLite skips
        # the extra round trip on every session
        options["pool_pre_ping"] = True
    if parsed.get_backend_name() == "sqlite":
        if parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        options.update(pooled_options(url))
        # Rasa writes to the same file: wait for its lock rather than fail at once.
        options["connect_args"] = {**options.get("connect_args", {}), "timeout": 15}
    created = sa.create_engine(url, **options)
    tune_sqlite(created, foreign_keys=True)
    return created


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # The config file format treats % as interpolation; passwords may contain it.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.set_main_option("version_table", VERSION_TABLE)
    return config


def migrate(url: str | None = None) -> None:
    """Brings the database to the latest schema revision.

    Several action servers (replicas) may start at once on one PostgreSQL database;
    each would create the same tables. A PostgreSQL advisory lock lets one migrate
    while the others wait, then find the schema current and do nothing.
    """
    target = url or database_url()
    migrating = engine(target)  # creates the SQLite file's folder
    if migrating.dialect.name != "postgresql":
        command.upgrade(alembic_config(target), "head")
        return
    # A session-level lock on its own connection, outside any transaction, so it is
    # held for the whole upgrade and freed even if the upgrade fails.
    with migrating.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        try:
            command.upgrade(alembic_config(target), "head")
        finally:
            connection.execute(
                sa.text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """One session per action run: committed when the block ends, rolled back on error."""
    session = Session(engine(url or database_url()), future=True)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
