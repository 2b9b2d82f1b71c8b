"""The action server leaves out slot events that change nothing, and only those."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from rasa_sdk.executor import ActionExecutor

from callback_coach import slot_events
from callback_coach.slot_events import changing_events
from tests.conftest import Assistant


def slot(name: str, value: Any) -> dict[str, Any]:
    return {"event": "slot", "name": name, "value": value, "timestamp": None}


BOT = {"event": "bot", "text": "hello", "data": {}, "metadata": {}}
SLOTS = {"company": "Acme", "follow_ups_done": 0.0, "situation": None, "flag": True}


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ([slot("company", "Acme")], []),
        ([slot("situation", None)], []),
        ([slot("company", "Initech")], [slot("company", "Initech")]),
        # as JSON, which Rasa stores: 0 is not 0.0, 1 is not True
        ([slot("follow_ups_done", 0)], [slot("follow_ups_done", 0)]),
        ([slot("flag", 1)], [slot("flag", 1)]),
        # a slot the tracker does not show is left to Rasa
        ([slot("unknown", None)], [slot("unknown", None)]),
        # each event is compared with the value the slot holds at that point
        (
            [slot("company", "Initech"), slot("company", "Acme"), slot("company", "Acme")],
            [slot("company", "Initech"), slot("company", "Acme")],
        ),
        ([BOT, slot("company", "Acme"), BOT], [BOT, BOT]),
        # after an event that may change slots otherwise, nothing is left out
        (
            [slot("company", "Acme"), {"event": "reset_slots"}, slot("company", "Acme")],
            [{"event": "reset_slots"}, slot("company", "Acme")],
        ),
        (
            [{"event": "restart"}, slot("company", "Acme")],
            [{"event": "restart"}, slot("company", "Acme")],
        ),
        (["not an event", slot("company", "Acme")], ["not an event", slot("company", "Acme")]),
    ],
)
def test_only_slot_events_that_change_nothing_are_left_out(
    events: list[Any], expected: list[Any]
) -> None:
    assert changing_events(events, SLOTS) == expected


async def test_the_executor_answers_without_them_except_to_form_validation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rasa_sdk import Action

    class SetsEverything(Action):
        def __init__(self, name: str) -> None:
            self._name = name

        def name(self) -> str:
            return self._name

        def run(self, dispatcher: Any, tracker: Any, domain: Any) -> list[dict[str, Any]]:
            dispatcher.utter_message(text="noted")
            return [slot("company", "Acme"), slot("situation", "rejected")]

    monkeypatch.setattr(ActionExecutor, "run", ActionExecutor.run)
    slot_events.install()
    slot_events.install()  # a second install changes nothing
    executor = ActionExecutor()
    for name in ("action_sets_everything", "validate_application_form"):
        executor.register_action(SetsEverything(name))

    def call(action_name: str) -> dict[str, Any]:
        tracker = {"sender_id": "someone", "slots": SLOTS, "latest_message": {}, "events": []}
        return {"next_action": action_name, "sender_id": "someone", "tracker": tracker}

    answer = await executor.run(call("action_sets_everything"))  # type: ignore[arg-type]
    assert answer is not None
    assert answer["events"] == [slot("situation", "rejected")]
    assert [response["text"] for response in answer["responses"]] == ["noted"]

    answer = await executor.run(call("validate_application_form"))  # type: ignore[arg-type]
    assert answer is not None
    assert answer["events"] == [slot("company", "Acme"), slot("situation", "rejected")]


async def test_the_wrapper_keeps_what_wrapped_the_executor_before(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # e.g. the records outage's apology, installed first by the action server
    async def earlier_wrapper(self: ActionExecutor, action_call: Any) -> dict[str, Any]:
        return {"events": [slot("company", "Acme"), slot("role", "nurse")], "responses": []}

    monkeypatch.setattr(ActionExecutor, "run", earlier_wrapper)
    slot_events.install()
    tracker = {"slots": SLOTS}
    answer = await ActionExecutor().run({"next_action": "action_coach", "tracker": tracker})  # type: ignore[typeddict-item]
    assert answer == {"events": [slot("role", "nurse")], "responses": []}


def test_a_conversation_stores_slot_events_only_when_a_slot_changes(
    assistant: Assistant,
) -> None:
    sender = f"slot-events-{uuid.uuid4().hex[:12]}"
    assistant.say(sender, "I interviewed at Acme Corp for the data analyst role 12 days ago")
    assistant.say(sender, "still no answer from Acme Corp")
    assistant.say(sender, "should I contact the recruiter?")
    tracker = assistant.tracker(sender)

    slot_sets = [event for event in tracker["events"] if event["event"] == "slot"]
    last: dict[str, Any] = {}
    for event in slot_sets:
        if event["name"] in last:
            assert event["value"] != last[event["name"]], f"{event['name']} set again"
        last[event["name"]] = event["value"]
    assert tracker["slots"]["company"] == "Acme Corp"
    assert tracker["slots"]["role"] == "data analyst"
    assert tracker["slots"]["days_since_interview"] == 12.0
    assert tracker["slots"]["situation"] == "ask_contact_recruiter"
    # the second and third turns re-set company, role and the dates: none of it stored
    assert sum(event["name"] == "company" for event in slot_sets) == 1
