"""A small chat client for the terminal, talking to the Rasa server's terminal channel
(the REST channel under its own name, with REST_CHANNEL_TOKEN; conversation
`terminal:<login>`).

Buttons are shown as numbers: type the number to pick one, or just type a message.
Reminders that fall due while the chat is open are printed as they arrive (the REST
channel cannot push them, so the client asks the Rasa server's reminders channel,
with its shared secret, every few seconds).
"""

from __future__ import annotations

import shutil
import textwrap
import threading
import time
from typing import Any

import requests

from callback_coach.identity import conversation_id

REMINDER_INTENT = "reminder_due"
REMINDER_POLL_SECONDS = 5.0


class ChatState:
    """The buttons a number picks; replies and reminders both update them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.buttons: list[dict[str, str]] = []

    def show(self, messages: list[dict[str, Any]]) -> None:
        width = min(shutil.get_terminal_size((100, 20)).columns, 100)
        with self.lock:
            buttons: list[dict[str, str]] = []
            for message in messages:
                for paragraph in str(message.get("text") or "").split("\n"):
                    print(
                        textwrap.fill(
                            paragraph, width, initial_indent="  ", subsequent_indent="    "
                        )
                    )
                buttons = message.get("buttons") or buttons
            for number, button in enumerate(buttons, start=1):
                print(f"    [{number}] {button['title']}")
            self.buttons = buttons


def reminder_messages(
    events: list[dict[str, Any]], after: float
) -> tuple[list[dict[str, Any]], float]:
    """What the bot said in reminder turns newer than `after`, and the newest turn's time."""
    messages: list[dict[str, Any]] = []
    newest = after
    in_reminder = False
    for event in events:
        if event.get("event") == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            in_reminder = intent == REMINDER_INTENT and float(event.get("timestamp") or 0) > after
            if in_reminder:
                newest = max(newest, float(event["timestamp"]))
        elif in_reminder and event.get("event") == "bot":
            data = event.get("data") or {}
            messages.append({"text": event.get("text"), "buttons": data.get("buttons")})
    return messages, newest


def fetch_reminders(
    session: requests.Session, rasa_url: str, sender: str, secret: str, after: float
) -> tuple[list[dict[str, Any]], float]:
    """Reminder turns newer than `after`, from the reminders channel (see its module)."""
    response = session.get(
        f"{rasa_url}/webhooks/reminders/delivered",
        params={"sender": sender, "after": repr(after)},
        headers={"Authorization": f"Bearer {secret}"},
        timeout=10,
    )
    response.raise_for_status()
    body = response.json()
    return list(body["messages"]), float(body["newest"])


def watch_reminders(
    rasa_url: str, sender: str, secret: str, state: ChatState, stop: threading.Event
) -> None:
    seen = time.time()
    with requests.Session() as session:
        while not stop.wait(REMINDER_POLL_SECONDS):
            try:
                messages, seen = fetch_reminders(session, rasa_url, sender, secret, seen)
            except (requests.RequestException, ValueError, KeyError, TypeError):
                continue  # the server is busy or restarting: look again later
            if messages:
                print()
                state.show(messages)
                print("you> ", end="", flush=True)


def chat(rasa_url: str, login: str, token: str, reminder_secret: str | None = None) -> None:
    """Reads messages until /stop, Ctrl-D or Ctrl-C; a number picks a button.

    `token` is REST_CHANNEL_TOKEN. With `reminder_secret` (REMINDER_CHANNEL_SECRET)
    reminders show up while chatting."""
    state = ChatState()
    stop = threading.Event()
    if reminder_secret:
        threading.Thread(
            target=watch_reminders,
            args=(rasa_url, conversation_id("terminal", login), reminder_secret, state, stop),
            daemon=True,
        ).start()
    try:
        _converse(rasa_url, login, token, state)
    finally:
        stop.set()


def _converse(rasa_url: str, login: str, token: str, state: ChatState) -> None:
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {token}"
        while True:
            try:
                text = input("you> ").strip()
            except EOFError:
                print()
                return
            if not text:
                continue
            if text == "/stop":
                return
            with state.lock:
                buttons = list(state.buttons)
            if text.isdigit() and len(text) <= 2:
                if not 1 <= int(text) <= len(buttons):
                    print("  (no suggestion has that number; type a message instead)")
                    continue
                button = buttons[int(text) - 1]
                print(f"  (you picked: {button['title']})")
                text = button["payload"]
            try:
                response = session.post(
                    f"{rasa_url}/webhooks/terminal/webhook",
                    json={"sender": login, "message": text},
                    timeout=60,
                )
                response.raise_for_status()
            except requests.RequestException as error:
                print(f"  (the assistant did not answer: {error}; try again)")
                continue
            state.show(response.json())
