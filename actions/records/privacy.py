"""Everything the project's own tables hold about one sender, and its removal."""

from __future__ import annotations

from sqlalchemy.orm import Session

from actions.records.tables import applications, contacts, follow_ups, reminders

# Children before parents, so no foreign key is left dangling on any engine.
TABLES_BY_DELETE_ORDER = (reminders, follow_ups, contacts, applications)


def delete_everything(session: Session, sender_id: str) -> dict[str, int]:
    """Removes every row the sender owns; returns how many per table."""
    removed = {}
    for table in TABLES_BY_DELETE_ORDER:
        result = session.execute(table.delete().where(table.c.sender_id == sender_id))
        removed[table.name] = int(result.rowcount or 0)
    return removed
