"""The real Rasa server and action server, over REST, with slots read from the tracker API."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from tests.conftest import Assistant
from tests.generated_conversations import DOMAIN


def new_sender() -> str:
    return f"e2e-{uuid.uuid4().hex[:12]}"


def texts(replies: list[dict]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def test_a_situation_with_details_is_understood_and_coached(assistant: Assistant) -> None:
    sender = new_sender()
    replies = assistant.say(
        sender,
        "I interviewed at Acme Corp three weeks ago for the data analyst position "
        "with Sarah Miller and they never called me back",
    )
    # short: a line for the feeling, then the step; the rest behind buttons
    assert len(replies) == 2
    assert sum(len(r["text"].split()) for r in replies) <= 80
    payloads = [b["payload"] for b in replies[-1]["buttons"]]
    assert '/ask_more{"detail":"reasons"}' in payloads
    reasons = assistant.say(sender, '/ask_more{"detail":"reasons"}')
    assert "•" in reasons[0]["text"] and "Sarah Miller" not in reasons[0]["text"].split("\n")[0]

    slots = assistant.slots(sender)
    assert slots["situation"] == "no_callback"
    assert slots["next_step"] == "follow_up"
    assert slots["company"] == "Acme Corp"
    assert slots["person"] == "Sarah Miller"
    assert slots["role"] == "data analyst"
    assert slots["days_since_interview"] == 21.0


def test_follow_up_date_is_asked_for_then_used(assistant: Assistant) -> None:
    sender = new_sender()
    replies = assistant.say(sender, "they ghosted me after the interview")
    assert "when your interview was" in texts(replies).lower()
    assert assistant.slots(sender)["next_step"] == "wait"

    replies = assistant.say(sender, "10 days ago")
    slots = assistant.slots(sender)
    assert slots["situation"] == "no_callback"
    assert slots["days_since_interview"] == 10.0
    assert slots["next_step"] == "follow_up"
    assert len(replies) == 1

    replies = assistant.say(sender, "thanks a lot")
    # Rasa picks one of the response's variants at random
    assert texts(replies) in {
        variant["text"] for variant in DOMAIN.responses["utter_youre_welcome"]
    }
    assert assistant.slots(sender)["situation"] == "no_callback"


def test_button_payload_leads_to_its_situation(assistant: Assistant) -> None:
    sender = new_sender()
    first = assistant.say(sender, "I got a rejection email from Initech this morning")
    assert assistant.slots(sender)["situation"] == "rejected"
    assert assistant.slots(sender)["next_step"] == "ask_feedback"
    # the other situations are under "What else helps?", one tap away
    more = assistant.say(sender, '/ask_more{"detail":"guidance"}')
    assert '/ask_more{"detail":"reasons"}' in [b["payload"] for b in first[-1]["buttons"]]
    payload = next(
        b["payload"] for b in more[-1]["buttons"] if b["payload"].lstrip("/").isidentifier()
    )
    assistant.say(sender, payload)
    assert assistant.slots(sender)["situation"] == payload.lstrip("/")


def test_the_same_situation_twice_is_worded_differently(assistant: Assistant) -> None:
    sender = new_sender()
    first = assistant.say(sender, "the hiring is frozen, they put my application on hold")
    second = assistant.say(sender, "/on_hold")
    assert assistant.slots(sender)["situation"] == "on_hold"
    assert first[0]["text"] != second[0]["text"]


def test_small_talk_and_out_of_scope_leave_the_situation_unset(assistant: Assistant) -> None:
    sender = new_sender()
    greeting = assistant.say(sender, "hello there")
    assert "Callback Coach" in texts(greeting)
    out_of_scope = assistant.say(sender, "can you order me a large pepperoni pizza")
    assert "outside what I can help with" in texts(out_of_scope)
    slots = assistant.slots(sender)
    assert slots["situation"] is None
    assert slots["next_step"] is None


def test_the_assistant_never_pretends_to_be_human(assistant: Assistant) -> None:
    replies = assistant.say(new_sender(), "am I talking to a real person?")
    assert "I'm a bot" in texts(replies)


def test_crisis_gets_care_and_emergency_help_not_coaching(assistant: Assistant) -> None:
    sender = new_sender()
    replies = assistant.say(sender, "after all these rejections i want to kill myself")
    assert "emergency" in texts(replies)
    assert assistant.slots(sender)["next_step"] is None


def test_message_time_is_the_reference_for_relative_dates(assistant: Assistant) -> None:
    sender = new_sender()
    assistant.say(sender, "my interview was yesterday and no news yet, should I call them?")
    slots = assistant.slots(sender)
    assert slots["days_since_interview"] == 1.0
    yesterday = datetime.now(timezone.utc).date().toordinal() - 1
    assert datetime.fromisoformat(slots["interview_date"]).toordinal() == yesterday
    assert slots["next_step"] == "wait"


def test_the_follow_up_ladder_over_several_turns(assistant: Assistant) -> None:
    sender = new_sender()
    assistant.say(sender, "I interviewed at Acme Corp three weeks ago and they never called back")
    assert assistant.slots(sender)["next_step"] == "follow_up"

    assistant.say(sender, "I emailed them last week and still nothing")
    slots = assistant.slots(sender)
    assert slots["follow_ups_done"] == 1.0
    assert slots["next_step"] == "follow_up_again"
    assert slots["days_since_interview"] == 21.0  # "last week" dated the email, not the interview

    replies = assistant.say(sender, "I followed up again today")
    slots = assistant.slots(sender)
    assert slots["follow_ups_done"] == 2.0
    # two follow-ups, the last one today: a week for them to answer before moving on
    assert slots["next_step"] == "wait_for_reply"
    assert "give them until" in texts(replies).lower()


def test_a_long_conversation_keeps_its_history_where_it_is_needed(assistant: Assistant) -> None:
    """Actions are sent only the latest turns (callback_coach.action_payload), yet the
    coaching keeps varying and "what do you know about me" counts the whole talk."""
    sender = new_sender()
    replies = [assistant.say(sender, "/no_callback") for _ in range(12)]
    # the opening line only the first time; the count survives the trimmed payloads
    assert [len(reply) for reply in replies] == [2] + [1] * 11
    assert assistant.slots(sender)["times_coached"] == {"no_callback": 12}

    shown = texts(assistant.say(sender, "what do you know about me?"))
    events = assistant.tracker(sender)["events"]
    asked = next(
        index
        for index, event in enumerate(events)
        if event["event"] == "action" and event["name"] == "action_show_my_data"
    )
    started = next(i for i, event in enumerate(events) if event["event"] == "session_started")
    # the action saw every event of the session before its own (Rasa's tracker begins
    # at the session_started event)
    assert f"{asked - started} stored events" in shown, shown
