"""Alembic's entry point, driven from actions.records.database.migrate()."""

from __future__ import annotations

from alembic import context

from actions.records.database import VERSION_TABLE, engine
from actions.records.tables import metadata

url = context.config.get_main_option("sqlalchemy.url")
assert url, "migrate() sets sqlalchemy.url"

with engine(url).connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        # SQLite changes tables by copying them; Alembic's batch mode does that.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
