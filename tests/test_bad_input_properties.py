"""Property-based tests (hypothesis) of the REST webhook and the action server's
/webhook, against the real servers (the shared `assistant`): whatever arrives, the
answer is never a 5xx, and a well-formed message always gets an answer.

Every request carries the shared secret of its endpoint, as the trusted client sends
it, so a 401 is never an acceptable answer here: it would hide what the body does."""

from __future__ import annotations

import json
from typing import Any

import requests
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from actions.settings import PROJECT_ROOT
from tests.conftest import Assistant

# Hypothesis keeps the run to a minute or two: each example is a real HTTP request,
# and a message that passes the guards runs the whole model and an action.
FAST = settings(max_examples=300, deadline=None)
SLOW = settings(max_examples=100, deadline=None)
# what a client that sends the token may be told; 401 is not among them
CLIENT_ERRORS = {400, 404, 413, 415, 429}
ACTIONS = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))["actions"]

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
# every code point, lone surrogates and control characters included
any_text = st.text(st.characters(blacklist_categories=()), max_size=300)
# words in any script, emoji and punctuation: what reaches the model
wordy_text = st.text(
    st.characters(whitelist_categories=["L", "N", "P", "Zs", "So"]), min_size=1, max_size=200
)
plausible_senders = st.text(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:@+", min_size=1, max_size=40
)
senders = plausible_senders | st.text(st.characters(blacklist_categories=()), max_size=40)


def post(
    url: str,
    body: bytes,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> requests.Response:
    return requests.post(
        url, data=body, headers={"Content-Type": content_type, **(headers or {})}, timeout=60
    )


def action_auth(assistant: Assistant) -> dict[str, str]:
    """What Rasa sends the action server (docs/security.md): calls without it get 401."""
    return {"Authorization": f"Bearer {assistant.env['ACTION_SERVER_TOKEN']}"}


def rest(assistant: Assistant) -> str:
    return f"{assistant.url}/webhooks/rest/webhook"


def rest_auth(assistant: Assistant) -> dict[str, str]:
    """What the trusted integration sends (REST_CHANNEL_TOKEN): calls without it get 401."""
    return assistant.rest_headers


def action_webhook(assistant: Assistant) -> str:
    assert assistant.actions is not None
    return f"{assistant.actions.url}/webhook"


def dumps(value: Any) -> bytes:
    return json.dumps(value).encode()  # lone surrogates become \\ud800 escapes, as JSON allows


@FAST
@given(
    body=json_values
    | st.fixed_dictionaries(
        {}, optional={"sender": json_values, "message": json_values, "metadata": json_values}
    )
)
def test_any_json_body_to_the_rest_webhook_is_answered_without_a_5xx(
    assistant: Assistant, body: Any
) -> None:
    answer = post(rest(assistant), dumps(body), headers=rest_auth(assistant))
    assert answer.status_code in CLIENT_ERRORS | {200}
    if answer.status_code == 200:
        assert isinstance(answer.json(), list)
    else:
        assert answer.json()


@FAST
@given(
    raw=st.binary(max_size=2000),
    content_type=st.sampled_from(["application/json", "text/plain", ""]),
)
def test_any_bytes_to_the_rest_webhook_get_no_5xx(
    assistant: Assistant, raw: bytes, content_type: str
) -> None:
    answer = post(rest(assistant), raw, content_type, headers=rest_auth(assistant))
    assert answer.status_code in CLIENT_ERRORS | {200}


@SLOW
@given(sender=senders, message=any_text | wordy_text)
def test_every_well_formed_message_gets_an_answer(
    assistant: Assistant, sender: str, message: str
) -> None:
    answer = post(
        rest(assistant),
        dumps({"sender": sender, "message": message}),
        headers=rest_auth(assistant),
    )
    assert answer.status_code in {200, 400, 429}
    if answer.status_code == 200:
        assert answer.json(), "a message the guards let through is answered"


@FAST
@given(body=json_values)
def test_any_json_to_the_action_server_gets_no_5xx(assistant: Assistant, body: Any) -> None:
    answer = post(action_webhook(assistant), dumps(body), headers=action_auth(assistant))
    assert answer.status_code in CLIENT_ERRORS
    assert "Traceback" not in answer.text


text_or_none = st.none() | any_text
entities = st.lists(
    st.fixed_dictionaries(
        {
            "entity": st.sampled_from(["ORG", "PERSON", "DATE", "role", "draft_kind"])
            | st.text(max_size=10),
            "value": text_or_none,
        }
    ),
    max_size=3,
)
action_calls = st.fixed_dictionaries(
    {
        "next_action": st.sampled_from(ACTIONS),
        "tracker": st.fixed_dictionaries(
            {
                "sender_id": plausible_senders,
                "slots": st.dictionaries(st.text(max_size=20), text_or_none, max_size=5),
                "latest_message": st.fixed_dictionaries(
                    {
                        "text": text_or_none,
                        "intent": st.fixed_dictionaries({"name": text_or_none}),
                        "entities": entities,
                    }
                ),
                "events": st.just([]),
            }
        ),
        "domain": st.just({}),
    }
)


@SLOW
@given(call=action_calls)
def test_an_action_call_in_rasas_shape_with_any_text_gets_no_5xx(
    assistant: Assistant, call: dict[str, Any]
) -> None:
    answer = post(action_webhook(assistant), dumps(call), headers=action_auth(assistant))
    assert answer.status_code == 200, answer.text[:500]
    assert isinstance(answer.json()["responses"], list)
