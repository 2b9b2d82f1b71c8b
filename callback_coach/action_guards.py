"""The action server's /webhook answers a malformed action call with a clear 400.

rasa-sdk's endpoint reads the body with few checks: broken JSON, a list, a tracker
without a sender id or a wrong-typed field end in its catch-all handler, which
answers 500 and echoes the request back. This request middleware checks the call
against the shape Rasa sends (and rasa-sdk reads) first:

- Content-Type application/json, else 415; Rasa's optional deflate compression is
  undone here with a size cap, so a small compressed body cannot inflate without
  bound (413);
- a JSON object with `next_action` (string) and `tracker` (object with a string
  `sender_id`); `domain`, `version` and the tracker's fields, when present, of the
  types rasa-sdk expects.

A failure inside an action itself stays rasa-sdk's 500: that is a bug to fix, not
bad input.
"""

from __future__ import annotations

import zlib
from typing import Any

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse

from callback_coach.guards import BadRequestBody, media_type, parse_json

# The tracker's fields rasa-sdk reads, and the JSON types each may have.
_TRACKER_FIELDS: dict[str, tuple[type, ...]] = {
    "sender_id": (str,),
    "slots": (dict,),
    "latest_message": (dict, type(None)),
    "events": (list,),
    "paused": (bool,),
    "followup_action": (str, type(None)),
    "active_loop": (dict, type(None)),
    "latest_action_name": (str, type(None)),
    "latest_action": (dict, type(None)),
}
_MESSAGE_FIELDS: dict[str, tuple[type, ...]] = {
    "text": (str, type(None)),
    "intent": (dict, type(None)),
    "entities": (list,),
    "metadata": (dict, type(None)),
}


def install(app: Sanic) -> None:
    app.register_middleware(checked_action_call, "request")


async def checked_action_call(request: Request) -> HTTPResponse | None:
    if request.method != "POST" or request.path.rstrip("/") != "/webhook":
        return None
    try:
        check_action_call(_body(request))
    except BadRequestBody as bad:
        return bad.response()
    return None


def _body(request: Request) -> Any:
    if media_type(request) != "application/json":
        raise BadRequestBody(415, "Send the action call as JSON (Content-Type: application/json).")
    raw = request.body
    if request.headers.get("Content-Encoding") == "deflate":
        raw = _inflate(raw, int(request.app.config.REQUEST_MAX_SIZE))
    body = parse_json(raw)
    if request.headers.get("Content-Encoding") != "deflate":
        request.parsed_json = body  # rasa-sdk reads it through request.json
    return body


def _inflate(raw: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj()
    try:
        inflated = inflater.decompress(raw, limit)
    except zlib.error:
        raise BadRequestBody(400, "The body is not valid deflate data.") from None
    if inflater.unconsumed_tail:
        raise BadRequestBody(413, "The action call is too large once decompressed.")
    return inflated


def check_action_call(call: Any) -> None:
    if not isinstance(call, dict):
        raise BadRequestBody(400, "An action call must be a JSON object.")
    if not isinstance(call.get("next_action"), str) or not call["next_action"]:
        raise BadRequestBody(400, "`next_action` must be an action's name.")
    for name, kind in (("domain", dict), ("version", str), ("sender_id", str)):
        if call.get(name) is not None and not isinstance(call[name], kind):
            raise BadRequestBody(400, f"`{name}` has the wrong type.")
    tracker = call.get("tracker")
    if not isinstance(tracker, dict) or not isinstance(tracker.get("sender_id"), str):
        raise BadRequestBody(400, "`tracker` must be an object with a `sender_id`.")
    _check_fields(tracker, _TRACKER_FIELDS, "tracker")
    if isinstance(tracker.get("latest_message"), dict):
        message = tracker["latest_message"]
        _check_fields(message, _MESSAGE_FIELDS, "latest_message")
        intent = message.get("intent")
        if isinstance(intent, dict) and not isinstance(intent.get("name"), (str, type(None))):
            raise BadRequestBody(400, "`latest_message.intent.name` must be a string.")
        if not all(
            isinstance(entity, dict) and isinstance(entity.get("entity"), str)
            for entity in message.get("entities") or []
        ):
            raise BadRequestBody(400, "Each entity must be an object with an `entity` name.")
    if not all(
        isinstance(event, dict) and isinstance(event.get("event"), str)
        for event in tracker.get("events") or []
    ):
        raise BadRequestBody(400, "Each tracker event must be an object with an `event` type.")


def _check_fields(part: dict[str, Any], fields: dict[str, tuple[type, ...]], where: str) -> None:
    for name, kinds in fields.items():
        if name in part and not isinstance(part[name], kinds):
            raise BadRequestBody(400, f"`{where}.{name}` has the wrong type.")
