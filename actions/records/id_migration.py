"""Moves stored conversation ids to the channel-prefixed scheme (callback_coach.identity),
for schema revision 0002. Its behaviour is that revision's: change it only with a new one.

An old id carried no channel. Its channel is read from what is stored with it: the
input channel of its latest user message in Rasa's `events` table, else the channel its
reminders answer on, else "rest" (Rasa's default channel). The new id is then:

    socketio                      web:<old>
    rest                          rest:<old>; terminal-<login> becomes terminal:<login>
    telegram, positive chat id    telegram:<old>  (a private chat's id is the user's id)
    telegram, any other chat id   legacy:telegram-group:<old>
    slack                         slack:<SLACK_TEAM_ID>:<old>
    any other channel             legacy:<channel>:<old>

A group chat's records were everyone's in the group, and the person behind another
channel is unknown, so neither goes to anyone: a `legacy:` id is one no channel
produces. Ids that already carry a known prefix are left as they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from callback_coach.identity import InvalidIdPart, conversation_id

LEGACY = "legacy"
KNOWN_PREFIXES = ("web:", "slack:", "telegram:", "rest:", "terminal:", f"{LEGACY}:")
# Input channels that are not the user's own: reminder turns and Rasa's collector
# ("None" is what str(None) left in some rows; "latest" is a reminder's "wherever").
NOT_A_USER_CHANNEL = frozenset({"reminders", "collector", "", "None", "latest"})
DEFAULT_CHANNEL = "rest"
SLACK_TEAM_VARIABLE = "SLACK_TEAM_ID"
TELEGRAM_GROUP = "telegram-group"

RECORD_TABLES = ("applications", "contacts", "follow_ups", "reminders")
EVENTS_TABLE = "events"  # Rasa's SQL tracker store; it may not exist yet

_PRIVATE_TELEGRAM_CHAT = re.compile(r"[1-9][0-9]*")
_OLD_TERMINAL = "terminal-"
# The launcher's rule for a login in a conversation id (callback_coach.launcher), so a
# login such as "jane.doe" lands where the terminal chat now looks for it.
_NOT_IN_LOGIN = re.compile(r"[^A-Za-z0-9_@+-]")
_UNSAFE_IN_CHANNEL = re.compile(r"[^A-Za-z0-9_.-]")


class SlackTeamNeeded(RuntimeError):
    """Slack conversations must move, and SLACK_TEAM_ID does not say to which team."""


def is_migrated(sender_id: str) -> bool:
    return sender_id.startswith(KNOWN_PREFIXES)


def user_channel(latest_user_channel: str | None, reminder_channel: str | None) -> str:
    """The channel an old id talked on, from the evidence stored with it."""
    for channel in (latest_user_channel, reminder_channel):
        if channel is not None and channel not in NOT_A_USER_CHANNEL:
            return channel
    return DEFAULT_CHANNEL


def checked_slack_team(value: str | None) -> str | None:
    """SLACK_TEAM_ID as an id part, None when unset; SlackTeamNeeded when malformed."""
    team = (value or "").strip()
    if not team:
        return None
    try:
        conversation_id("slack", team)
    except InvalidIdPart:
        raise SlackTeamNeeded(
            f"{SLACK_TEAM_VARIABLE}={team!r} is not a Slack team id (such as T0123ABCD)."
        ) from None
    return team


def new_id(old: str, channel: str, slack_team: str | None) -> str:
    """The id `old` (an id without a channel) gets, given the channel it talked on.
    `slack_team` is SLACK_TEAM_ID's value: SlackTeamNeeded when a Slack id needs it and
    it is unset or malformed (only then, so a database without Slack needs none)."""
    if is_migrated(old):
        return old
    if channel == "socketio":
        return f"web:{old}"
    if channel in ("rest", "terminal"):
        if old.startswith(_OLD_TERMINAL) and len(old) > len(_OLD_TERMINAL):
            login = _NOT_IN_LOGIN.sub("-", old[len(_OLD_TERMINAL) :])[:128]
            return f"terminal:{login}"
        return f"{channel}:{old}"
    if channel == "telegram":
        if _PRIVATE_TELEGRAM_CHAT.fullmatch(old):
            return f"telegram:{old}"
        return f"{LEGACY}:{TELEGRAM_GROUP}:{old}"
    if channel == "slack":
        team = checked_slack_team(slack_team)
        if team is None:
            raise SlackTeamNeeded(
                f"Stored Slack conversations need their team id to move to the new "
                f"conversation ids: set {SLACK_TEAM_VARIABLE} to the Slack workspace's "
                "team id (such as T0123ABCD) and start again. Nothing was changed."
            )
        return f"slack:{team}:{old}"
    return f"{LEGACY}:{_UNSAFE_IN_CHANNEL.sub('-', channel) or 'unknown'}:{old}"


def old_id(sender_id: str) -> str:
    """The id without its channel, as before revision 0002. Lossy: a legacy id goes back
    to the group (or other) id it came from, and ids that differ only in their channel
    or Slack team become one."""
    channel, colon, rest = sender_id.partition(":")
    if not colon or not is_migrated(sender_id):
        return sender_id
    if channel == "terminal":
        return f"{_OLD_TERMINAL}{rest}"
    if channel in ("slack", LEGACY):
        _, colon, rest_after_kind = rest.partition(":")
        return rest_after_kind if colon else rest
    return rest


@dataclass(frozen=True)
class Move:
    old: str
    new: str


def _existing_tables(connection: Connection) -> list[str]:
    if sa.inspect(connection).has_table(EVENTS_TABLE):
        return [*RECORD_TABLES, EVENTS_TABLE]
    return list(RECORD_TABLES)


def _unmigrated(column: sa.sql.ColumnElement) -> sa.sql.ColumnElement:
    return sa.and_(*(sa.not_(column.startswith(prefix)) for prefix in KNOWN_PREFIXES))


def _input_channel(connection: Connection, data: str) -> sa.sql.ColumnElement:
    """The `input_channel` of an event's JSON text, in the database's own dialect."""
    if connection.dialect.name == "postgresql":
        return sa.literal_column(f"CAST({data} AS json) ->> 'input_channel'")
    if connection.dialect.name == "sqlite":
        return sa.literal_column(f"json_extract({data}, '$.input_channel')")
    raise NotImplementedError(f"no JSON access for {connection.dialect.name}")


def _latest_user_channels(connection: Connection) -> dict[str, str]:
    """Per old id, the input channel of its latest user message on a user's channel."""
    events = sa.table(EVENTS_TABLE, sa.column("id"), sa.column("sender_id"), sa.column("type_name"))
    channel = _input_channel(connection, "data")
    latest = (
        sa.select(events.c.sender_id, sa.func.max(events.c.id).label("id"))
        .where(
            events.c.type_name == "user",
            _unmigrated(events.c.sender_id),
            channel.is_not(None),
            channel.not_in(sorted(NOT_A_USER_CHANNEL)),
        )
        .group_by(events.c.sender_id)
        .subquery()
    )
    chosen = sa.table(EVENTS_TABLE, sa.column("id"), sa.column("data")).alias("chosen")
    rows = connection.execute(
        sa.select(latest.c.sender_id, _input_channel(connection, "chosen.data")).join_from(
            latest, chosen, chosen.c.id == latest.c.id
        )
    )
    return {sender_id: str(found) for sender_id, found in rows}


def _reminder_channels(connection: Connection) -> dict[str, str]:
    """Per old id, the channel its latest reminder answers on."""
    reminders = sa.table("reminders", sa.column("id"), sa.column("sender_id"), sa.column("channel"))
    latest = (
        sa.select(reminders.c.sender_id, sa.func.max(reminders.c.id).label("id"))
        .where(
            _unmigrated(reminders.c.sender_id),
            reminders.c.channel.not_in(sorted(NOT_A_USER_CHANNEL)),
        )
        .group_by(reminders.c.sender_id)
        .subquery()
    )
    chosen = sa.table("reminders", sa.column("id"), sa.column("channel")).alias("chosen")
    rows = connection.execute(
        sa.select(latest.c.sender_id, chosen.c.channel).join_from(
            latest, chosen, chosen.c.id == latest.c.id
        )
    )
    return {sender_id: str(channel) for sender_id, channel in rows}


def _distinct_ids(connection: Connection, tables: Iterable[str], migrated: bool) -> set[str]:
    found: set[str] = set()
    for name in tables:
        sender_id = sa.column("sender_id")
        condition = _unmigrated(sender_id)
        query = (
            sa.select(sender_id)
            .select_from(sa.table(name))
            .distinct()
            .where(sa.not_(condition) if migrated else condition)
        )
        found.update(connection.execute(query).scalars())
    return found


def _apply(connection: Connection, tables: Iterable[str], moves: list[Move]) -> None:
    """One UPDATE per table and id, sent as a batch per table."""
    if not moves:
        return
    parameters = [{"old": move.old, "new": move.new} for move in moves]
    for name in tables:
        connection.execute(
            sa.text(f"UPDATE {name} SET sender_id = :new WHERE sender_id = :old"), parameters
        )


def planned_moves(
    ids: Iterable[str],
    user_channels: Mapping[str, str],
    reminder_channels: Mapping[str, str],
    slack_team: str | None,
) -> list[Move]:
    """Every id's move, worked out before anything changes (a missing Slack team stops
    them all)."""
    moves = [
        Move(
            old,
            new_id(
                old, user_channel(user_channels.get(old), reminder_channels.get(old)), slack_team
            ),
        )
        for old in sorted(ids)
        if not is_migrated(old)
    ]
    return [move for move in moves if move.new != move.old]


def upgrade(connection: Connection, slack_team: str | None) -> list[Move]:
    """Moves every old id in our tables and Rasa's events to its new id."""
    tables = _existing_tables(connection)
    user_channels = _latest_user_channels(connection) if EVENTS_TABLE in tables else {}
    moves = planned_moves(
        _distinct_ids(connection, tables, migrated=False),
        user_channels,
        _reminder_channels(connection),
        slack_team,
    )
    _apply(connection, tables, moves)
    # The terminal chat has its own input channel now; its reminders answer there.
    connection.execute(
        sa.text(
            "UPDATE reminders SET channel = 'terminal' "
            "WHERE channel = 'rest' AND sender_id LIKE 'terminal:%'"
        )
    )
    return moves


def downgrade(connection: Connection) -> list[Move]:
    """Takes the channel off every id again (see old_id for what this loses)."""
    tables = _existing_tables(connection)
    connection.execute(
        sa.text(
            "UPDATE reminders SET channel = 'rest' "
            "WHERE channel = 'terminal' AND sender_id LIKE 'terminal:%'"
        )
    )
    moves = [
        Move(new, old_id(new))
        for new in sorted(_distinct_ids(connection, tables, migrated=True))
        if old_id(new) != new
    ]
    _apply(connection, tables, moves)
    return moves
