"""Two Rasa replicas and two action servers behind nginx, on PostgreSQL and Redis.

The cluster (callback_coach/cluster.py, as `make scale-demo` runs it) is started once
for the module on a fresh PostgreSQL database of its own and the local Redis. Turns of
one conversation alternate between the replicas; afterwards each conversation's
tracker must hold its slots and exactly the events that were sent, in order.

Also here, because they matter only with several servers on one database: Alembic
migrations from servers starting together, reminder claims by two schedulers, Slack
retries reaching the other replica, the REST token and the web sessions' secret that
all replicas share, and the widget reaching a replica through nginx from its own origin.

REST senders are the integration's own ids; their conversations are `rest:<sender>`
(callback_coach.identity). Every REST request carries the cluster's REST_CHANNEL_TOKEN.
The REST traffic goes to the replicas' own ports except where a test is about nginx:
nginx limits each client address (5 requests/s, bursts of 30), and twenty
conversations from one address at once are not what one real address sends.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from actions.records import reminders
from actions.records.database import MIGRATION_LOCK_KEY, VERSION_TABLE, migrate, session_scope
from callback_coach.channels.event_memory import RedisEventMemory
from callback_coach.channels.socketio import as_markdown
from callback_coach.cluster import Cluster, render_nginx_config, start_cluster
from callback_coach.identity import conversation_id
from callback_coach.launcher import LOG_DIR, PROJECT_ROOT, free_port
from callback_coach.lock_store import AtomicRedisLockStore
from callback_coach.lock_store import install as install_lock_store
from callback_coach.shared_secret import bearer_header
from tests.fake_apis import FakeApis
from tests.test_channels import SLACK_SECRET, slack_event, slack_headers, to_channel

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

REDIS_HOST = os.environ.get("REDIS_HOST", "127.0.0.1")
REDIS_PORT = int(os.environ.get("REDIS_PORT", "6379"))

# Five companies and four situations: twenty different openings, one per conversation.
# Names spaCy tags as an organisation in all four sentences (it misses a bare "Initech"
# or "Globex" in some of them; that is the NLU's limit, not the cluster's).
COMPANIES = ["Acme Corp", "Quantix Labs", "Vandelay Industries", "Initech Labs", "Soylent Corp"]
SITUATIONS = {
    "no_callback": "I interviewed at {company} two weeks ago and they never called back",
    "on_hold": "{company} put the hiring on hold last week",
    "rejected": "{company} rejected me today",
    "vacancy_cancelled": "{company} eliminated the position I interviewed for",
}
# Turns that answer without touching the slots the opening set.
SMALL_TALK = [
    "am I talking to a real person?",
    "can you order me a large pepperoni pizza",
    "thanks a lot",
    "what reminders do I have?",
    "goodbye",
]
PENDING = "what's pending?"


# --- PostgreSQL and Redis of our own ----------------------------------------------------


def create_database(server_url: str) -> str:
    """A new empty database on the test server; its URL."""
    name = f"scale_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_database(server_url: str, url: str) -> None:
    from actions.records.database import engine

    engine(url).dispose()  # this process's own pooled connections
    name = make_url(url).database
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def empty_database(postgres_url: str) -> Iterator[str]:
    url = create_database(postgres_url)
    yield url
    drop_database(postgres_url, url)


@pytest.fixture(scope="module")
def redis_server() -> tuple[str, int]:
    """The local Redis (always on CI); elsewhere these tests are skipped, saying why."""
    import redis

    try:
        redis.Redis(host=REDIS_HOST, port=REDIS_PORT, socket_timeout=5).ping()
    except redis.RedisError as error:
        message = f"Redis is not reachable at {REDIS_HOST}:{REDIS_PORT} (set REDIS_HOST): {error}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return REDIS_HOST, REDIS_PORT


@pytest.fixture(scope="module")
def cluster(
    model_path: Path,
    postgres_url: str,
    redis_server: tuple[str, int],
    fakes: FakeApis,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Cluster]:
    url = create_database(postgres_url)
    host, port = redis_server
    started = time.monotonic()
    try:
        running = start_cluster(
            url,
            replicas=2,
            model=model_path,
            log_dir=LOG_DIR / "test-scale-out",
            enable_api=True,  # the test reads the replicas' trackers
            env={
                "REDIS_HOST": host,
                "REDIS_PORT": str(port),
                "COACH_REMINDER_POLL_SECONDS": "1",
                "SLACK_TOKEN": "xoxb-test-token",
                "SLACK_SIGNING_SECRET": SLACK_SECRET,
                "SLACK_API_URL": fakes.slack_url,
            },
        )
    except BaseException:
        drop_database(postgres_url, url)
        raise
    print(f"cluster started in {time.monotonic() - started:.0f} s")
    yield running
    running.stop()
    drop_database(postgres_url, url)


# --- Talking to the replicas ------------------------------------------------------------


def say(cluster: Cluster, base_url: str, sender: str, text: str) -> list[dict[str, Any]]:
    """`text` from REST sender `sender` to `base_url` (a replica or nginx), with the
    REST token every replica of the cluster shares."""
    response = requests.post(
        f"{base_url}/webhooks/rest/webhook",
        json={"sender": sender, "message": text},
        headers=bearer_header(cluster.rest_token),
        timeout=180,  # twenty conversations at once on a small shared machine
    )
    response.raise_for_status()
    replies: list[dict[str, Any]] = response.json()
    return replies


def rest(sender: str) -> str:
    """The conversation id of REST sender `sender`."""
    return conversation_id("rest", sender)


def tracker(cluster: Cluster, conversation: str, replica: int = 0) -> dict[str, Any]:
    """Conversation `conversation` (a whole id: `rest:…`, `web:…`) from a replica's API."""
    response = requests.get(
        f"{cluster.rasa_urls[replica]}/conversations/{conversation}/tracker",
        params={"token": cluster.api_token},
        timeout=60,
    )
    response.raise_for_status()
    found: dict[str, Any] = response.json()
    assert found["sender_id"] == conversation
    return found


def user_texts(events: list[dict[str, Any]]) -> list[str]:
    return [event["text"] for event in events if event["event"] == "user"]


def texts(replies: list[dict[str, Any]]) -> str:
    return "\n".join(reply.get("text", "") for reply in replies)


def script(index: int) -> tuple[str, str, list[str]]:
    """Conversation `index`: its company, its situation and its 6-8 messages."""
    company = COMPANIES[index % len(COMPANIES)]
    situation = list(SITUATIONS)[(index // len(COMPANIES)) % len(SITUATIONS)]
    talk = SMALL_TALK[index % 3 :] + SMALL_TALK[: index % 3]
    messages = [
        "hello there",
        SITUATIONS[situation].format(company=company),
        talk[0],
        PENDING,
        *talk[1 : 2 + index % 3],
        "thanks a lot",
    ]
    return company, situation, messages


def turns_of(events: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The events from each user message up to the next one."""
    turns: list[list[dict[str, Any]]] = []
    for event in events:
        if event["event"] == "user":
            turns.append([event])
        elif turns:
            turns[-1].append(event)
    return turns


# --- The cluster ------------------------------------------------------------------------


def test_twenty_conversations_alternating_between_replicas_keep_their_events(
    cluster: Cluster,
) -> None:
    conversations = 20
    scripts = [script(index) for index in range(conversations)]
    assert all(6 <= len(messages) <= 8 for _, _, messages in scripts)
    assert len({(company, situation) for company, situation, _ in scripts}) == conversations
    senders = [f"scale-{index}-{uuid.uuid4().hex[:8]}" for index in range(conversations)]
    start = threading.Barrier(conversations)

    def converse(index: int) -> list[list[dict[str, Any]]]:
        start.wait()  # all twenty at once
        return [
            say(cluster, cluster.rasa_urls[turn % 2], senders[index], message)
            for turn, message in enumerate(scripts[index][2])
        ]

    with ThreadPoolExecutor(max_workers=conversations) as pool:
        replies = list(pool.map(converse, range(conversations)))

    for index, (company, situation, messages) in enumerate(scripts):
        sender = senders[index]
        # read from the replica that did not take the last turn
        state = tracker(cluster, rest(sender), replica=len(messages) % 2)
        where = f"conversation {index} ({sender})"
        assert state["slots"]["company"] == company, where
        assert state["slots"]["situation"] == situation, where

        turns = turns_of(state["events"])
        # every message once, in the order sent: none lost, none duplicated
        assert [turn[0]["text"] for turn in turns] == messages, where
        for number, (turn, answered) in enumerate(zip(turns, replies[index], strict=True)):
            said = [event.get("text") for event in turn if event["event"] == "bot"]
            # the bot's events follow their message, before the next one
            assert said == [reply.get("text") for reply in answered], f"{where}, turn {number}"
            assert said, f"{where}, turn {number}: no reply"
            assert turn[-1]["event"] == "action" and turn[-1]["name"] == "action_listen", where
        # the application recorded at the opening is listed (records are shared by the
        # action servers, whichever one nginx picks)
        pending = texts(replies[index][messages.index(PENDING)])
        assert f"{company}:" in pending, where


def test_simultaneous_messages_of_one_conversation_on_both_replicas_take_turns(
    cluster: Cluster,
) -> None:
    """Redis's lock makes the replicas process one conversation's messages one at a time:
    each turn stays whole (its message, its replies, action_listen) and none is lost."""
    sender = f"same-{uuid.uuid4().hex[:8]}"
    messages = [
        "hello there",
        "thanks a lot",
        "am I talking to a real person?",
        "what's pending?",
        "goodbye",
    ] * 2
    start = threading.Barrier(len(messages))

    def send(index: int) -> list[dict[str, Any]]:
        start.wait()
        return say(cluster, cluster.rasa_urls[index % 2], sender, messages[index])

    with ThreadPoolExecutor(max_workers=len(messages)) as pool:
        replies = list(pool.map(send, range(len(messages))))
    assert all(replies), "every message was answered"

    turns = turns_of(tracker(cluster, rest(sender))["events"])
    assert sorted(turn[0]["text"] for turn in turns) == sorted(messages)
    for turn in turns:
        kinds = [event["event"] for event in turn]
        assert kinds.count("user") == 1 and "bot" in kinds, kinds
        assert turn[-1]["event"] == "action" and turn[-1]["name"] == "action_listen", kinds


def test_a_conversation_through_nginx(cluster: Cluster) -> None:
    sender = f"nginx-{uuid.uuid4().hex[:8]}"
    first = say(
        cluster, cluster.nginx_url, sender, "I interviewed at Quantix Labs two weeks ago, no news"
    )
    assert first, "nginx passed the message on and the reply back"
    second = say(cluster, cluster.nginx_url, sender, PENDING)
    assert "Quantix Labs:" in texts(second)
    state = tracker(cluster, rest(sender), replica=1)
    assert state["slots"]["company"] == "Quantix Labs"
    assert [turn[0]["text"] for turn in turns_of(state["events"])] == [
        "I interviewed at Quantix Labs two weeks ago, no news",
        PENDING,
    ]


def test_nginx_serves_the_web_page_and_keeps_the_api_inside(cluster: Cluster) -> None:
    page = requests.get(f"{cluster.nginx_url}/webhooks/web/", timeout=30)
    assert page.status_code == 200
    assert "text/html" in page.headers["Content-Type"]
    assert "webchat.js" in page.text

    # socket.io's handshake (long polling) reaches a replica through the sticky upstream
    handshake = requests.get(
        f"{cluster.nginx_url}/socket.io/", params={"EIO": "4", "transport": "polling"}, timeout=30
    )
    assert handshake.status_code == 200 and '"sid"' in handshake.text, handshake.text[:200]

    # Rasa's HTTP API is not on the public side, even with the right token
    api = requests.get(
        f"{cluster.nginx_url}/conversations/anyone/tracker",
        params={"token": cluster.api_token},
        timeout=30,
    )
    assert api.status_code == 404


async def test_a_websocket_upgrade_passes_nginx(cluster: Cluster) -> None:
    """The socket.io client's upgrade to a websocket needs nginx's Upgrade headers."""
    import websockets  # Sanic's websocket library

    handshake = requests.get(
        f"{cluster.nginx_url}/socket.io/", params={"EIO": "4", "transport": "polling"}, timeout=30
    )
    sid = json.loads(handshake.text[1:])["sid"]
    ws_url = cluster.nginx_url.replace("http://", "ws://")
    async with websockets.connect(
        f"{ws_url}/socket.io/?EIO=4&transport=websocket&sid={sid}", open_timeout=30
    ) as connection:
        await connection.send("2probe")
        # engine.io's upgrade probe, answered by the replica that holds the session
        assert await asyncio.wait_for(connection.recv(), 30) == "3probe"


class Browser:
    """The web widget in a browser: a socket.io client over a websocket, as the widget
    uses (the engine.io client's needs aiohttp >= 3.11, which pyproject.toml's override
    allows), with the Origin header a browser sends when `origin` is given."""

    def __init__(self, origin: str | None = None) -> None:
        import socketio

        self.origin = origin
        self.client = socketio.AsyncClient(reconnection=False)
        self.replies: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.confirmed: asyncio.Queue[Any] = asyncio.Queue()
        self.client.on("bot_uttered", self.replies.put)
        self.client.on("session_confirm", self.confirmed.put)
        self.token = ""

    async def open(self, url: str, token: str | None = None) -> str:
        """Connects and asks for a session, presenting `token` as a reload does; the
        token the server confirmed (the browser keeps it)."""
        await self.client.connect(
            url,
            transports=["websocket"],
            headers={"Origin": self.origin} if self.origin else {},
            wait_timeout=30,
        )
        await self.client.emit("session_request", {"session_id": token} if token else {})
        confirmed = await asyncio.wait_for(self.confirmed.get(), 30)
        assert isinstance(confirmed, str) and "." in confirmed, confirmed
        self.token = confirmed
        return confirmed

    @property
    def conversation(self) -> str:
        """web:<the session id the server issued>"""
        return "web:" + self.token.split(".", 1)[0]

    async def turn(self, cluster: Cluster, text: str, session_id: str | None = None) -> list[str]:
        """Sends `text` (naming `session_id`, the widget's own token unless given) and
        returns the replies this browser got, once they are all of the turn's replies in
        its conversation's tracker."""
        await self.client.emit(
            "user_uttered", {"message": text, "session_id": session_id or self.token}
        )
        first = await asyncio.wait_for(self.replies.get(), 120)
        deadline = time.monotonic() + 60
        while True:  # the tracker is saved when the turn ends, after its replies went out
            events = (await asyncio.to_thread(tracker, cluster, self.conversation))["events"]
            turns = turns_of(events)
            last = turns[-1] if turns else [{}]
            if last[0].get("text") == text and last[-1].get("name") == "action_listen":
                break
            assert time.monotonic() < deadline, f"the turn of {text!r} did not end"
            await asyncio.sleep(0.5)
        return await self.replies_of(turns[-1], first)

    async def replies_of(
        self, turn: list[dict[str, Any]], first: dict[str, Any] | None = None
    ) -> list[str]:
        """The replies this browser got for `turn` (its events): as many as the turn's
        bot events, and the same texts as the widget shows them (markdown-escaped)."""
        said = [as_markdown(event["text"]) for event in turn if event["event"] == "bot"]
        got = [first] if first is not None else []
        while len(got) < len(said):
            got.append(await asyncio.wait_for(self.replies.get(), 30))
        texts = [reply.get("text") for reply in got]
        assert said and texts == said, (turn[0].get("text"), texts, said)
        return texts

    async def close(self) -> None:
        await self.client.disconnect()


async def test_a_reminder_made_on_one_replica_reaches_a_browser_on_the_other(
    cluster: Cluster,
) -> None:
    """The widget's socket is held by one replica; a reminder (trigger_intent) may run on
    the other. Its reply must still reach the browser (through Redis)."""
    browser = Browser()
    await browser.open(cluster.rasa_urls[0])
    try:
        await browser.turn(cluster, "hello there")
        triggered = await asyncio.to_thread(
            requests.post,
            f"{cluster.rasa_urls[1]}/conversations/{browser.conversation}/trigger_intent",
            params={"output_channel": "socketio", "token": cluster.api_token},
            json={"name": "goodbye"},
            timeout=120,
        )
        assert triggered.status_code == 200, triggered.text[:300]
        external = turns_of(triggered.json()["tracker"]["events"])[-1]
        assert external[0]["text"] == "EXTERNAL: goodbye", external[0]
        # the replies the other replica produced, not a leftover of the first turn
        await browser.replies_of(external)
    finally:
        await browser.close()


async def test_a_reload_on_the_other_replica_keeps_the_web_session(cluster: Cluster) -> None:
    """The first session_request gets a token that replica signed; presented on a reload
    that reaches the other replica, it keeps the session there (the replicas share
    WEB_SESSION_SECRET). An id the server did not sign gets a fresh session, and a
    message goes to its socket's own session whatever `session_id` it names."""
    first = Browser()
    token = await first.open(cluster.rasa_urls[0])
    try:
        await first.turn(cluster, "hello there")
    finally:
        await first.close()
    session = token.split(".", 1)[0]
    conversation = first.conversation
    assert conversation == f"web:{session}"

    # someone presenting the session id unsigned, or with a signature changed, on the
    # other replica gets a session of their own
    tampered = token[:-1] + ("B" if token[-1] == "A" else "A")
    strangers = []
    try:
        for claimed in (session, tampered, f"{session}.{'A' * 43}"):
            stranger = Browser()
            strangers.append(stranger)
            issued = await stranger.open(cluster.rasa_urls[1], claimed)
            assert issued.split(".", 1)[0] != session, claimed
        await strangers[0].turn(cluster, "am I talking to a real person?")

        reloaded = Browser()
        assert await reloaded.open(cluster.rasa_urls[1], token) == token
        try:
            # naming a stranger's session changes nothing: the socket's own is used
            await reloaded.turn(cluster, "thanks a lot", session_id=strangers[0].token)
        finally:
            await reloaded.close()
    finally:
        for stranger in strangers:
            await stranger.close()

    for replica in (0, 1):
        state = await asyncio.to_thread(tracker, cluster, conversation, replica)
        assert user_texts(state["events"]) == ["hello there", "thanks a lot"], replica
    theirs = await asyncio.to_thread(tracker, cluster, strangers[0].conversation)
    assert user_texts(theirs["events"]) == ["am I talking to a real person?"]


async def test_the_widget_reaches_a_replica_through_nginx_from_its_own_origin(
    cluster: Cluster,
) -> None:
    """The page nginx serves opens the socket on the same origin, and the browser says so
    (Origin: always on a websocket, and on the long poll's POSTs). The replica accepts
    only its own origin, which it takes from the Host (and X-Forwarded-Proto) nginx
    passes on: nginx must pass the client's Host, port included. Another site may not
    open the socket."""
    import socketio

    origin = cluster.nginx_url
    handshake = await asyncio.to_thread(
        requests.get,
        f"{origin}/socket.io/",
        params={"EIO": "4", "transport": "polling"},
        headers={"Origin": origin},
        timeout=30,
    )
    assert handshake.status_code == 200 and '"sid"' in handshake.text, handshake.text[:200]

    browser = Browser(origin=origin)
    await browser.open(origin)
    try:
        await browser.turn(cluster, "hello there")
    finally:
        await browser.close()

    elsewhere = "http://coach.example.net"
    refused = await asyncio.to_thread(
        requests.get,
        f"{origin}/socket.io/",
        params={"EIO": "4", "transport": "polling"},
        headers={"Origin": elsewhere},
        timeout=30,
    )
    assert refused.status_code == 400 and "not an accepted origin" in refused.text
    with pytest.raises(socketio.exceptions.ConnectionError):
        await Browser(origin=elsewhere).open(origin)


def test_every_replica_and_nginx_want_the_shared_rest_token(cluster: Cluster) -> None:
    """REST_CHANNEL_TOKEN is the same on all replicas (test_twenty_... uses it on both);
    without it, or with another, each replica and nginx answer 401 and store nothing."""
    sender = f"token-{uuid.uuid4().hex[:8]}"
    token = cluster.rest_token
    assert token
    refused = {
        "none": {},
        "another": bearer_header(token[:-1] + ("y" if token.endswith("x") else "x")),
        "not bearer": {"Authorization": token},
    }
    for url in [*cluster.rasa_urls, cluster.nginx_url]:
        for name, headers in refused.items():
            response = requests.post(
                f"{url}/webhooks/rest/webhook",
                json={"sender": sender, "message": "hello there"},
                headers=headers,
                timeout=60,
            )
            assert response.status_code == 401, (url, name, response.status_code)
    for replica in (0, 1):
        assert user_texts(tracker(cluster, rest(sender), replica)["events"]) == []


def test_a_slack_retry_sent_to_the_other_replica_is_dropped(
    cluster: Cluster, fakes: FakeApis
) -> None:
    channel = f"D{uuid.uuid4().hex[:8].upper()}"
    event = slack_event(f"U{uuid.uuid4().hex[:8].upper()}", channel, "hi")
    body = json.dumps(event).encode()

    def post(replica: int, headers: dict[str, str] | None = None) -> requests.Response:
        return requests.post(
            f"{cluster.rasa_urls[replica]}/webhooks/slack/webhook",
            data=body,
            headers={"Content-Type": "application/json", **slack_headers(body), **(headers or {})},
            timeout=60,
        )

    assert post(0).status_code == 200
    fakes.wait_for("slack", "chat.postMessage", to_channel(channel), timeout=60)
    retry = post(1, {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    assert retry.status_code == 200 and retry.headers.get("X-Slack-No-Retry") == "1"
    time.sleep(3)  # a second reply, if any, would have come by now
    assert len(fakes.recorded("slack", "chat.postMessage", to_channel(channel))) == 1


def test_two_schedulers_deliver_a_due_reminder_once(cluster: Cluster) -> None:
    """Both action servers run the reminder scheduler, polling every second."""
    sender = f"remind-{uuid.uuid4().hex[:8]}"
    say(
        cluster,
        cluster.rasa_urls[0],
        sender,
        "I interviewed at Initech Labs yesterday, no news yet",
    )
    confirmed = say(
        cluster, cluster.rasa_urls[1], sender, "remind me to follow up on that next week"
    )
    assert "I'll remind you on" in texts(confirmed), confirmed
    engine = sa.create_engine(cluster.database_url)
    try:
        with engine.begin() as connection:
            [reminder_id] = connection.execute(
                sa.text("SELECT id FROM reminders WHERE sender_id = :s"), {"s": rest(sender)}
            ).scalars()
            connection.execute(
                sa.text("UPDATE reminders SET due_at = :due WHERE id = :id"),
                {"due": datetime.now(timezone.utc) - timedelta(minutes=1), "id": reminder_id},
            )
        deadline = time.monotonic() + 60
        status = "pending"
        while status != "delivered" and time.monotonic() < deadline:
            time.sleep(0.5)
            with engine.connect() as connection:
                status = connection.execute(
                    sa.text("SELECT status FROM reminders WHERE id = :id"), {"id": reminder_id}
                ).scalar_one()
        assert status == "delivered"
    finally:
        engine.dispose()
    time.sleep(3)  # several more polls by both schedulers
    events = tracker(cluster, rest(sender))["events"]
    triggered = [
        event
        for event in events
        if event["event"] == "user" and event["parse_data"]["intent"]["name"] == "reminder_due"
    ]
    assert len(triggered) == 1


# --- Database safety with several servers -----------------------------------------------


def test_a_migration_waits_while_another_server_migrates(empty_database: str) -> None:
    """While another server holds the migration lock, migrate() waits, then finds its work."""
    holder = sa.create_engine(empty_database, isolation_level="AUTOCOMMIT")
    migrated = threading.Event()
    failures: list[BaseException] = []

    def migrate_in_background() -> None:
        try:
            migrate(empty_database)
            migrated.set()
        except BaseException as error:
            failures.append(error)

    with holder.connect() as connection:
        connection.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
        worker = threading.Thread(target=migrate_in_background, daemon=True)
        worker.start()
        assert not migrated.wait(2), "migrate() did not wait for the lock"
        assert not sa.inspect(connection).has_table(VERSION_TABLE)
        connection.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK_KEY})
    worker.join(60)
    holder.dispose()
    assert not failures, failures
    assert migrated.is_set()


def test_servers_starting_together_migrate_once(empty_database: str) -> None:
    """Four processes migrating one empty database at once all succeed, to one revision."""
    code = "import sys; from actions.records.database import migrate; migrate(sys.argv[1])"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", code, empty_database],
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(4)
    ]
    outputs = [
        process.communicate(timeout=120)[0].decode(errors="replace") for process in processes
    ]
    assert [process.returncode for process in processes] == [0, 0, 0, 0], outputs
    engine = sa.create_engine(empty_database)
    with engine.connect() as connection:
        versions = connection.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).all()
        assert sa.inspect(connection).has_table("reminders")
    engine.dispose()
    assert len(versions) == 1


def test_two_schedulers_claiming_at_once_take_each_reminder_once(empty_database: str) -> None:
    """claim_due on PostgreSQL: two schedulers' claims at the same moment never overlap."""
    migrate(empty_database)
    now = datetime.now(timezone.utc)
    with session_scope(empty_database) as session:
        for number in range(60):
            reminders.add(
                session,
                f"claim-{number}",
                "rest",
                due_at=now - timedelta(minutes=1),
                now=now - timedelta(days=1),
            )
    start = threading.Barrier(2)

    def claim_all() -> list[int]:
        start.wait()
        taken: list[int] = []
        for _ in range(10):  # small batches, so the two interleave
            with session_scope(empty_database) as session:
                claimed = reminders.claim_due(session, now, timedelta(minutes=2), limit=7)
                taken += [reminder.id for reminder in claimed]
        return taken

    with ThreadPoolExecutor(max_workers=2) as pool:
        first, second = pool.map(lambda _: claim_all(), range(2))
    assert not set(first) & set(second)
    assert len(first) == len(set(first)) and len(second) == len(set(second))
    assert len(first) + len(second) == 60


# --- Rasa's lock store in Redis, shared by replicas -------------------------------------


def lock_stores(redis_server: tuple[str, int]) -> tuple[AtomicRedisLockStore, AtomicRedisLockStore]:
    """Two replicas' lock stores on the same Redis, under a key prefix of this test's."""
    host, port = redis_server
    prefix = f"test{uuid.uuid4().hex[:8]}"
    return (
        AtomicRedisLockStore(host, port, key_prefix=prefix),
        AtomicRedisLockStore(host, port, key_prefix=prefix),
    )


def test_rasa_uses_the_atomic_lock_store_for_redis() -> None:
    from rasa.core.lock_store import LockStore
    from rasa.utils.endpoints import EndpointConfig

    install_lock_store()
    store = LockStore.create(EndpointConfig(type="redis", url=REDIS_HOST, port=REDIS_PORT))
    assert isinstance(store, AtomicRedisLockStore)


def test_two_replicas_never_issue_the_same_ticket(redis_server: tuple[str, int]) -> None:
    replicas = lock_stores(redis_server)
    conversation = "tickets"
    start = threading.Barrier(2)

    def issue(store: AtomicRedisLockStore) -> list[int]:
        start.wait()
        return [store.issue_ticket(conversation) for _ in range(150)]

    with ThreadPoolExecutor(max_workers=2) as pool:
        first, second = pool.map(issue, replicas)
    replicas[0].delete_lock(conversation)
    assert len(set(first) | set(second)) == 300


def test_a_finished_turn_never_deletes_a_waiting_ticket(redis_server: tuple[str, int]) -> None:
    """One replica finishes a turn while the other queues the next message."""
    finishing, queueing = lock_stores(redis_server)
    start = threading.Barrier(2)  # reusable: both threads go at once, every round

    def finish(conversation: str, ticket: int) -> None:
        start.wait()
        finishing.cleanup(conversation, ticket)

    def queue(conversation: str) -> int:
        start.wait()
        return queueing.issue_ticket(conversation)

    for round_ in range(100):
        conversation = f"handover-{round_}"
        finished_ticket = finishing.issue_ticket(conversation)
        with ThreadPoolExecutor(max_workers=2) as pool:
            done = pool.submit(finish, conversation, finished_ticket)
            waiting_ticket = pool.submit(queue, conversation).result()
            done.result()
        lock = queueing.get_lock(conversation)
        assert lock is not None and not lock.is_locked(waiting_ticket), round_
        queueing.cleanup(conversation, waiting_ticket)
        assert queueing.get_lock(conversation) is None  # the last one out removes it


# --- Slack's retry memory in Redis ------------------------------------------------------


async def test_replicas_share_slack_event_ids_in_redis(redis_server: tuple[str, int]) -> None:
    host, port = redis_server
    namespace = f"test-{uuid.uuid4().hex[:8]}"
    replica_a = RedisEventMemory(host, port, namespace=namespace, ttl_seconds=60)
    replica_b = RedisEventMemory(host, port, namespace=namespace, ttl_seconds=60)
    try:
        assert await replica_a.first_time("Ev1")
        assert not await replica_b.first_time("Ev1")  # the retry on the other replica
        assert not await replica_a.first_time("Ev1")
        assert await replica_b.first_time("Ev2")
        ttl = await replica_a.redis.ttl(replica_a.prefix + "Ev1")
        assert 0 < ttl <= 60  # forgotten again, Redis does not fill up
    finally:
        await replica_a.redis.delete(replica_a.prefix + "Ev1", replica_a.prefix + "Ev2")
        await replica_a.redis.close()
        await replica_b.redis.close()


async def test_without_redis_an_event_is_taken_as_new() -> None:
    """A Redis outage must not drop users' messages: at worst a retry is answered twice."""
    unreachable = RedisEventMemory("127.0.0.1", free_port(), namespace="down")
    try:
        assert await unreachable.first_time("Ev1")
        assert await unreachable.first_time("Ev1")
    finally:
        await unreachable.redis.close()


def test_the_nginx_config_listens_on_localhost_only(tmp_path: Path) -> None:
    config = render_nginx_config(tmp_path, [5005, 5006], [5055, 5056], 8080, 8081)
    listens = [line.split()[1] for line in config.splitlines() if line.strip().startswith("listen")]
    assert listens == ["127.0.0.1:8080;", "127.0.0.1:8081;"]
    assert config.count("server 127.0.0.1:5005") == 2  # in both Rasa upstreams
    assert "server 127.0.0.1:5056" in config
    assert "$" + "{" not in config, "every placeholder filled"
