"""The tracker store keeps what it saved in memory yet always serves what the database
holds: these tests compare it with Rasa's own loading, on SQLite and on PostgreSQL,
with a second store instance standing in for another replica or worker."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from callback_coach import dialogue_history
from callback_coach.identity import PLACE_KEY, PRIVATE, SHARED
from callback_coach.tracker_store import DELETE_ACTION, ForgetfulSQLTrackerStore

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'trackers.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def sender(database_url: str) -> Iterator[str]:
    sender_id = f"store-test-{uuid.uuid4().hex[:12]}"
    yield sender_id
    with sa.create_engine(database_url).begin() as connection:
        connection.execute(sa.text("DELETE FROM events WHERE sender_id = :s"), {"s": sender_id})


def store(database_url: str, domain: Domain) -> ForgetfulSQLTrackerStore:
    return ForgetfulSQLTrackerStore(domain=domain, host=database_url)


async def rasa_view(database_url: str, domain: Domain, sender_id: str) -> list[dict]:
    """The conversation as Rasa's own store loads it from the database."""
    tracker = await SQLTrackerStore(domain=domain, host=database_url).retrieve(sender_id)
    return [] if tracker is None else [event.as_dict() for event in tracker.events]


def stored_rows(database_url: str, sender_id: str) -> int:
    with sa.create_engine(database_url).connect() as connection:
        return int(
            connection.execute(
                sa.text("SELECT count(*) FROM events WHERE sender_id = :s"), {"s": sender_id}
            ).scalar_one()
        )


def turn(tracker: DialogueStateTracker, number: int) -> None:
    tracker.update(UserUttered(f"message {number}", {"name": "no_callback", "confidence": 0.9}))
    tracker.update(ActionExecuted("action_coach"))
    tracker.update(SlotSet("company", f"Company {number}"))
    tracker.update(BotUttered(f"reply {number}"))
    tracker.update(ActionExecuted("action_listen"))


async def test_a_long_conversation_is_stored_once_and_in_order(
    database_url: str, domain: Domain, sender: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    coach = store(database_url, domain)
    counted: list[str] = []
    rasas_count = SQLTrackerStore._additional_events

    def counting(self: SQLTrackerStore, session: object, tracker: DialogueStateTracker):  # type: ignore[no-untyped-def]
        counted.append(tracker.sender_id)
        return rasas_count(self, session, tracker)

    monkeypatch.setattr(SQLTrackerStore, "_additional_events", counting)
    for number in range(30):
        tracker = await coach.get_or_create_tracker(sender)
        turn(tracker, number)
        await coach.save(tracker)
    kept = tracker
    tracker = await coach.retrieve(sender)
    assert tracker is kept  # served from memory, not rebuilt from the database
    assert [event.as_dict() for event in tracker.events] == await rasa_view(
        database_url, domain, sender
    )
    assert stored_rows(database_url, sender) == len(tracker.events)
    texts = [event.text for event in tracker.events if isinstance(event, UserUttered)]
    assert texts == [f"message {number}" for number in range(30)]
    assert tracker.get_slot("company") == "Company 29"
    # Rasa's way of finding the new events (counting the stored ones) never ran: the
    # first retrieve found the conversation empty, and every later save knew them.
    assert counted == []


def row_values(database_url: str, sender_id: str) -> list[tuple]:
    """Every column but the id of a conversation's rows, in the order written."""
    with sa.create_engine(database_url).connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT type_name, timestamp, intent_name, action_name, data FROM events "
                "WHERE sender_id = :s ORDER BY id"
            ),
            {"s": sender_id},
        )
        return [tuple(row) for row in rows]


async def test_the_rows_written_are_the_rows_rasas_store_writes(
    database_url: str, domain: Domain, sender: str
) -> None:
    rasas_sender = f"{sender}-rasa"
    coach, rasas = store(database_url, domain), SQLTrackerStore(domain=domain, host=database_url)
    # The same event objects (and so the same timestamps) for both conversations.
    scratch = DialogueStateTracker("scratch", domain.slots)
    turns = []
    for number in range(3):
        before = len(scratch.events)
        turn(scratch, number)
        turns.append(list(scratch.events)[before:])
    try:
        for writer, sender_id in ((coach, sender), (rasas, rasas_sender)):
            tracker = DialogueStateTracker(sender_id, domain.slots)
            for events in turns:
                for event in events:
                    tracker.update(event)
                await writer.save(tracker)
        ours, theirs = row_values(database_url, sender), row_values(database_url, rasas_sender)
        assert len(ours) == 15
        assert ours == theirs
    finally:
        with sa.create_engine(database_url).begin() as connection:
            connection.execute(
                sa.text("DELETE FROM events WHERE sender_id = :s"), {"s": rasas_sender}
            )


async def test_a_conversation_loaded_from_the_database_is_kept_from_then_on(
    database_url: str, domain: Domain, sender: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = store(database_url, domain)
    for number in range(2):
        tracker = await writer.get_or_create_tracker(sender)
        turn(tracker, number)
        await writer.save(tracker)

    loads: list[str] = []
    counts: list[str] = []
    rasas_retrieve, rasas_count = SQLTrackerStore.retrieve, SQLTrackerStore._additional_events

    async def loading(self: SQLTrackerStore, sender_id: str):  # type: ignore[no-untyped-def]
        loads.append(sender_id)
        return await rasas_retrieve(self, sender_id)

    def counting(self: SQLTrackerStore, session: object, tracker: DialogueStateTracker):  # type: ignore[no-untyped-def]
        counts.append(tracker.sender_id)
        return rasas_count(self, session, tracker)

    monkeypatch.setattr(SQLTrackerStore, "retrieve", loading)
    monkeypatch.setattr(SQLTrackerStore, "_additional_events", counting)
    reader = store(database_url, domain)  # another replica, or this one restarted
    assert await reader.retrieve(f"{sender}-nobody") is None
    tracker = await reader.get_or_create_tracker(sender)
    assert loads == [sender]  # the empty conversation was not loaded at all
    turn(tracker, 2)
    await reader.save(tracker)
    assert counts == []  # the save knew what was new without counting
    assert await reader.retrieve(sender) is tracker
    assert loads == [sender]
    assert [event.as_dict() for event in tracker.events] == await rasa_view(
        database_url, domain, sender
    )
    assert stored_rows(database_url, sender) == 1 + 3 * 5  # the first action_listen, 3 turns


async def test_what_another_replica_wrote_is_seen(
    database_url: str, domain: Domain, sender: str
) -> None:
    replica_a, replica_b = store(database_url, domain), store(database_url, domain)
    for number in range(6):
        writer = replica_a if number % 2 == 0 else replica_b
        tracker = await writer.get_or_create_tracker(sender)
        turn(tracker, number)
        await writer.save(tracker)
    for reader in (replica_a, replica_b):
        tracker = await reader.retrieve(sender)
        assert tracker is not None
        assert [event.as_dict() for event in tracker.events] == await rasa_view(
            database_url, domain, sender
        )
        assert tracker.get_slot("company") == "Company 5"
    assert stored_rows(database_url, sender) == len(await rasa_view(database_url, domain, sender))


async def test_a_write_that_slips_past_the_lock_is_seen_at_the_next_turn(
    database_url: str, domain: Domain, sender: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    replica_a, replica_b = store(database_url, domain), store(database_url, domain)
    tracker = await replica_a.get_or_create_tracker(sender)
    turn(tracker, 0)
    await replica_a.save(tracker)

    tracker = await replica_a.retrieve(sender)
    assert tracker is not None
    other = await replica_b.retrieve(sender)
    assert other is not None
    turn(other, 1)
    await replica_b.save(other)  # between replica A's retrieve and save
    asked: list[str] = []
    position = ForgetfulSQLTrackerStore._stored_position

    def counting(self: ForgetfulSQLTrackerStore, session: object, sender_id: str):  # type: ignore[no-untyped-def]
        asked.append(sender_id)
        return position(self, session, sender_id)

    monkeypatch.setattr(ForgetfulSQLTrackerStore, "_stored_position", counting)
    turn(tracker, 2)
    await replica_a.save(tracker)
    assert asked == []  # the save trusted the check made when the turn began

    served = await replica_a.retrieve(sender)
    assert served is not tracker  # the next turn notices and reads the database
    assert served is not None
    assert [event.as_dict() for event in served.events] == await rasa_view(
        database_url, domain, sender
    )
    assert stored_rows(database_url, sender) == len(served.events)


async def test_a_turn_that_was_not_saved_is_not_served(
    database_url: str, domain: Domain, sender: str
) -> None:
    coach = store(database_url, domain)
    tracker = await coach.get_or_create_tracker(sender)
    turn(tracker, 1)
    await coach.save(tracker)
    failed = await coach.retrieve(sender)
    assert failed is not None
    turn(failed, 2)  # the turn breaks off before Rasa saves it
    again = await coach.retrieve(sender)
    assert again is not None
    assert again.get_slot("company") == "Company 1"
    assert [event.as_dict() for event in again.events] == await rasa_view(
        database_url, domain, sender
    )


async def test_forgetting_erases_the_conversation_and_what_was_kept(
    database_url: str, domain: Domain, sender: str
) -> None:
    coach = store(database_url, domain)
    tracker = await coach.get_or_create_tracker(sender)
    turn(tracker, 1)
    await coach.save(tracker)
    tracker.update(ActionExecuted(DELETE_ACTION))
    await coach.save(tracker)
    assert stored_rows(database_url, sender) == 0
    assert await coach.retrieve(sender) is None

    # the same turn goes on (the reply to the deletion): its saves keep erasing
    tracker.update(BotUttered("deleted"))
    await coach.save(tracker)
    assert stored_rows(database_url, sender) == 0


async def test_the_delete_action_in_a_shared_place_erases_nothing(
    database_url: str, domain: Domain, sender: str
) -> None:
    """In a Slack channel or Telegram group the delete action refuses (actions/place.py);
    the store must not erase the conversation either."""
    coach = store(database_url, domain)
    tracker = await coach.get_or_create_tracker(sender)
    turn(tracker, 1)
    await coach.save(tracker)
    tracker.update(
        UserUttered("yes", {"name": "affirm", "confidence": 0.9}, metadata={PLACE_KEY: SHARED})
    )
    tracker.update(ActionExecuted(DELETE_ACTION))
    await coach.save(tracker)
    assert stored_rows(database_url, sender) == len(tracker.events)
    # the same in a private place erases it
    tracker.update(
        UserUttered("yes", {"name": "affirm", "confidence": 0.9}, metadata={PLACE_KEY: PRIVATE})
    )
    tracker.update(ActionExecuted(DELETE_ACTION))
    await coach.save(tracker)
    assert stored_rows(database_url, sender) == 0


async def test_kept_conversations_stay_within_the_events_budget(
    database_url: str, domain: Domain, sender: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COACH_CACHED_EVENTS", "40")
    let_go: list[str] = []
    monkeypatch.setattr(dialogue_history, "forget", let_go.append)
    coach = store(database_url, domain)
    senders = [f"{sender}-{number}" for number in range(4)]
    try:
        for sender_id in senders:
            tracker = await coach.get_or_create_tracker(sender_id)
            for number in range(3):
                turn(tracker, number)
            await coach.save(tracker)
        # 16 events each: the two latest conversations fit in 40
        assert list(coach._stored) == senders[2:]
        assert coach._kept_events == 32
        assert let_go == senders[:2]  # with what the dialogue history kept of them

        # a conversation let go is loaded from the database again, whole
        loaded = await coach.retrieve(senders[0])
        assert loaded is not None
        assert [event.as_dict() for event in loaded.events] == await rasa_view(
            database_url, domain, senders[0]
        )
        assert len(loaded.events) == 16
    finally:
        with sa.create_engine(database_url).begin() as connection:
            connection.execute(
                sa.text("DELETE FROM events WHERE sender_id LIKE :s"), {"s": f"{sender}-%"}
            )


def test_sqlite_runs_in_wal_mode(tmp_path: Path, domain: Domain) -> None:
    url = f"sqlite:///{tmp_path / 'wal.db'}"
    coach = store(url, domain)
    with coach.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar_one() == 1  # NORMAL
