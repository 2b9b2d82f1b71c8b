"""A small chat client for the terminal, talking to the Rasa server's REST channel.

Buttons are shown as numbers: type the number to pick one, or just type a message.
"""

from __future__ import annotations

import shutil
import textwrap
from typing import Any

import requests


def _print_reply(messages: list[dict[str, Any]]) -> list[dict[str, str]]:
    width = min(shutil.get_terminal_size((100, 20)).columns, 100)
    buttons: list[dict[str, str]] = []
    for message in messages:
        for paragraph in str(message.get("text") or "").split("\n"):
            print(textwrap.fill(paragraph, width, initial_indent="  ", subsequent_indent="    "))
        buttons = message.get("buttons") or buttons
    for number, button in enumerate(buttons, start=1):
        print(f"    [{number}] {button['title']}")
    return buttons


def chat(rasa_url: str, sender: str) -> None:
    """Reads messages until /stop, Ctrl-D or Ctrl-C; a number picks a button."""
    buttons: list[dict[str, str]] = []
    with requests.Session() as session:
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
            if text.isdigit() and 1 <= int(text) <= len(buttons):
                button = buttons[int(text) - 1]
                print(f"  (you picked: {button['title']})")
                text = button["payload"]
            try:
                response = session.post(
                    f"{rasa_url}/webhooks/rest/webhook",
                    json={"sender": sender, "message": text},
                    timeout=60,
                )
                response.raise_for_status()
            except requests.RequestException as error:
                print(f"  (the assistant did not answer: {error}; try again)")
                continue
            buttons = _print_reply(response.json())
