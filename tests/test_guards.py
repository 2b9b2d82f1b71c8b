"""callback_coach.guards and callback_coach.action_guards on their own: text cleaning,
sender ids, settings, the rate limiters (the Redis one against the real Redis), and the
action call check."""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest

from callback_coach.action_guards import check_action_call
from callback_coach.guards import (
    EMPTY_RESPONSE,
    TOO_LONG_RESPONSE,
    BadRequestBody,
    GuardSettings,
    InMemoryRateLimiter,
    MessageGuard,
    RedisRateLimiter,
    clean_text,
    parse_json,
    valid_sender_id,
)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("plain", "plain"),
        ("line one\r\nline two\ttab", "line one\nline two\ttab"),
        ("nul\x00 bell\x07 escape\x1b[31m del\x7f c1\x85", "nul bell escape[31m del c1"),
        ("lone \ud800surrogate", "lone surrogate"),
        ("e\u0301", "\u00e9"),  # NFC
        ("👩‍💻 مرحبا 面接", "👩‍💻 مرحبا 面接"),  # emoji joiners and other scripts stay
    ],
)
def test_clean_text_removes_only_what_cannot_be_meant(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


@pytest.mark.parametrize(
    "sender",
    [
        "e2e-1a2b3c",
        "U024BE7LH",
        "-1001234567",
        "terminal:ana.lopez",
        "a@b.org",
        "slack:T024BE7LH:U024BE7LH",
        "rest:" + "x" * 128,
        "x" * 300,
    ],
)
def test_ordinary_sender_ids_are_valid(sender: str) -> None:
    assert valid_sender_id(sender)


@pytest.mark.parametrize(
    "sender",
    [
        "",
        "x" * 301,
        "../../etc/passwd",
        "a/b",
        "a..b",
        ".hidden",
        "x' OR '1'='1",
        "1; DROP TABLE events",
        "Jürgen",
        "a b",
        "new\nline",
        None,
        42,
        ["a"],
    ],
)
def test_tricky_sender_ids_are_not(sender: Any) -> None:
    assert not valid_sender_id(sender)


def test_settings_come_from_the_environment_with_defaults() -> None:
    assert GuardSettings.from_env({}) == GuardSettings()
    custom = GuardSettings.from_env(
        {
            "COACH_MAX_MESSAGE_CHARS": "500",
            "COACH_RATE_LIMIT_MESSAGES": "3",
            "LOCK_STORE_TYPE": "redis",
            "REDIS_HOST": "redis.internal",
        }
    )
    assert (custom.max_message_chars, custom.rate_limit_messages) == (500, 3)
    assert custom.redis_host == "redis.internal"
    for bad in ("0", "-5", "lots"):
        with pytest.raises(ValueError, match="COACH_MAX_MESSAGE_CHARS"):
            GuardSettings.from_env({"COACH_MAX_MESSAGE_CHARS": bad})


async def test_the_text_check_answers_empty_and_overlong_messages() -> None:
    guard = MessageGuard(GuardSettings(max_message_chars=10), InMemoryRateLimiter(100, 60))
    assert (await guard.check("s1", " \n\t\x00 ")).reply == EMPTY_RESPONSE
    assert (await guard.check("s1", None)).reply == EMPTY_RESPONSE
    assert (await guard.check("s1", "x" * 11)).reply == TOO_LONG_RESPONSE
    assert (await guard.check("s1", "ten chars!")).text == "ten chars!"
    refused = await guard.check("../x", "hello")
    assert refused.text is None and refused.reply is None


async def test_in_memory_limit_counts_per_sender_and_window() -> None:
    now = [960_000.0 + 40]  # 40 s into a 60-s window
    limiter = InMemoryRateLimiter(3, 60, clock=lambda: now[0])
    decisions = [await limiter.hit("flooder") for _ in range(5)]
    assert [d.allowed for d in decisions] == [True, True, True, False, False]
    assert [d.first_refusal for d in decisions] == [False, False, False, True, False]
    assert decisions[3].retry_after == 20
    assert (await limiter.hit("someone-else")).allowed
    now[0] += 20  # the next window
    assert (await limiter.hit("flooder")).allowed


async def test_in_memory_limit_forgets_the_oldest_senders_first() -> None:
    limiter = InMemoryRateLimiter(1, 60, max_senders=100, clock=lambda: 30.0)
    for number in range(1000):
        await limiter.hit(f"made-up-{number}")
    assert len(limiter._counts) == 100
    assert not (await limiter.hit("made-up-999")).allowed  # still remembered
    assert (await limiter.hit("made-up-0")).allowed  # forgotten


@pytest.fixture
def redis_settings() -> tuple[str, int]:
    import redis

    host = os.environ.get("REDIS_HOST", "127.0.0.1")
    port = int(os.environ.get("REDIS_PORT", "6379"))
    try:
        redis.Redis(host=host, port=port, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError as error:
        message = f"Redis is not reachable at {host}:{port}: {error}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return host, port


async def test_redis_limit_is_shared_between_limiters(redis_settings: tuple[str, int]) -> None:
    host, port = redis_settings
    sender = f"guard-test-{uuid.uuid4().hex}"
    first, second = (RedisRateLimiter(2, 3600, host, port) for _ in range(2))
    try:
        decisions = [await first.hit(sender), await second.hit(sender), await first.hit(sender)]
        assert [d.allowed for d in decisions] == [True, True, False]
        assert decisions[2].first_refusal and 0 < decisions[2].retry_after <= 3600
        assert (await second.hit(f"{sender}-other")).allowed
    finally:
        keys = await first.redis.keys(f"{RedisRateLimiter.PREFIX}:*:{sender}*")
        if keys:
            await first.redis.delete(*keys)
        await first.redis.close()
        await second.redis.close()


async def test_an_unreachable_redis_lets_messages_through() -> None:
    from callback_coach.launcher import free_port

    limiter = RedisRateLimiter(1, 60, "127.0.0.1", free_port())  # nothing listens there
    assert all([(await limiter.hit("s")).allowed for _ in range(3)])


@pytest.mark.parametrize("raw", [b"", b"{", b"NaN", b'{"a": Infinity}', b"[" * 100_000, b"\xff"])
def test_broken_json_is_a_400(raw: bytes) -> None:
    with pytest.raises(BadRequestBody) as bad:
        parse_json(raw)
    assert bad.value.status == 400


VALID_CALL = {
    "next_action": "action_list_reminders",
    "sender_id": "s1",
    "version": "3.6.21",
    "domain": {},
    "tracker": {
        "sender_id": "s1",
        "slots": {},
        "latest_message": {"text": "hi", "intent": {"name": "greet"}, "entities": []},
        "events": [{"event": "action", "name": "action_listen"}],
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": "action_listen",
    },
}


def test_a_call_in_rasas_shape_passes() -> None:
    check_action_call(VALID_CALL)


@pytest.mark.parametrize(
    "change",
    [
        {"next_action": None},
        {"next_action": ""},
        {"tracker": None},
        {"tracker": {"slots": {}}},
        {"domain": []},
        {"version": 3.6},
        {"tracker": {**VALID_CALL["tracker"], "events": [{"name": "x"}]}},
        {"tracker": {**VALID_CALL["tracker"], "events": "many"}},
        {"tracker": {**VALID_CALL["tracker"], "slots": []}},
        {"tracker": {**VALID_CALL["tracker"], "paused": "no"}},
        {"tracker": {**VALID_CALL["tracker"], "latest_message": {"intent": "greet"}}},
        {"tracker": {**VALID_CALL["tracker"], "latest_message": {"entities": [{"value": 1}]}}},
        {"tracker": {**VALID_CALL["tracker"], "latest_message": {"intent": {"name": 5}}}},
    ],
)
def test_a_call_in_another_shape_is_a_400(change: dict[str, Any]) -> None:
    with pytest.raises(BadRequestBody) as bad:
        check_action_call({**VALID_CALL, **change})
    assert bad.value.status == 400
