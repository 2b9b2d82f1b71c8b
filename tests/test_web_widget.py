"""The web page and its chat widget in a real headless Chromium (Debian's), driven by
Playwright, against the real Rasa and action servers."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, sync_playwright

from actions.settings import PROJECT_ROOT
from tests.conftest import Assistant

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Headless on a machine with no network beyond loopback: no background connections.
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 760}
SCREENSHOTS = PROJECT_ROOT / "var" / "screenshots"
REPLY_TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: `make test` installs it (apt-get).")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


def page_url(assistant: Assistant) -> str:
    return f"{assistant.url}/webhooks/web/"


def open_chat(page: Page, assistant: Assistant) -> None:
    page.goto(page_url(assistant))
    launcher = page.locator(".rw-launcher")
    launcher.wait_for()
    # keyboard alone: focus the launcher and press Enter
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className").startswith("rw-launcher")
    page.keyboard.press("Enter")
    page.locator(".rw-new-message").wait_for()


def say(page: Page, text: str) -> None:
    page.fill(".rw-new-message", text)
    page.keyboard.press("Enter")


def test_the_page_serves_only_its_own_files(assistant: Assistant) -> None:
    page = requests.get(page_url(assistant), timeout=10)
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert re.findall(r'src="([^"]+)"', page.text) == ["webchat.js", "widget.js"]
    for sneaky in ("..%2Fpyproject.toml", "%2Fetc%2Fpasswd", "node_modules"):
        assert requests.get(page_url(assistant) + sneaky, timeout=10).status_code == 404


def test_chat_on_a_phone_buttons_reload_and_no_script_injection(
    browser: Browser, assistant: Assistant
) -> None:
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    outside: list[str] = []
    messages: list[str] = []
    page.on("console", lambda m: messages.append(m.text))
    # rasa-webchat's bundle asks for a Google font; the page's CSP blocks it (no
    # response), so the widget uses the system font and nothing comes from outside.
    page.on("response", lambda r: outside.append(r.url) if "127.0.0.1" not in r.url else None)
    open_chat(page, assistant)
    assert page.get_attribute(".rw-new-message", "aria-label") == "Your message"
    assert page.get_attribute(".rw-messages-container", "role") == "log"

    say(page, "I interviewed at Acme Corp two weeks ago and never heard back")
    # a short answer; the reasons are one tap away
    page.locator(".rw-reply", has_text="Why does this happen?").wait_for(timeout=REPLY_TIMEOUT_MS)
    reply = page.locator(".rw-reply", has_text="Write the follow-up email for me")
    reply.wait_for(timeout=REPLY_TIMEOUT_MS)
    assert page.get_by_text("Why this often happens").count() == 0
    width = page.evaluate("document.querySelector('.rw-conversation-container').offsetWidth")
    assert width <= PHONE["width"]

    reply.click()
    page.get_by_text("Subject: Following up on my interview").wait_for(timeout=REPLY_TIMEOUT_MS)
    draft = page.locator(".rw-response", has_text="Subject: Following up").inner_text()
    assert "Hi [recruiter's name]," in draft  # the blank keeps its brackets
    assert "[your name]" in draft
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "widget-phone.png"))

    page.reload()
    page.locator(".rw-launcher, .rw-new-message").first.wait_for()
    if page.locator(".rw-new-message").count() == 0:
        page.click(".rw-launcher")
    page.get_by_text("Subject: Following up on my interview").wait_for(timeout=REPLY_TIMEOUT_MS)
    assert page.get_by_text("I interviewed at Acme Corp two weeks ago").count() == 1
    # the rest, when asked
    say(page, "why does this happen?")
    page.get_by_text("Why this often happens").wait_for(timeout=REPLY_TIMEOUT_MS)
    page.locator(".rw-reply", has_text="Sources").click()
    page.get_by_text("This advice draws on").wait_for(timeout=REPLY_TIMEOUT_MS)

    say(page, '<img src=x onerror="window.__injected = 1"><script>window.__injected = 2</script>')
    page.wait_for_timeout(3000)
    assert page.evaluate("window.__injected") is None
    assert page.locator("#rasaWebchatPro img[src='x']").count() == 0
    assert page.locator("#rasaWebchatPro script").count() == 0
    # A reminder set in the widget comes back into the open page when it falls due.
    say(page, "remind me to follow up next week")
    page.get_by_text("I'll remind you on").wait_for(timeout=REPLY_TIMEOUT_MS)
    engine = sa.create_engine(assistant.database_url)
    with engine.begin() as connection:
        reminder_id, owner = connection.execute(
            sa.text(
                "SELECT id, sender_id FROM reminders WHERE channel = 'socketio' "
                "ORDER BY id DESC LIMIT 1"
            )
        ).one()
        # the conversation is the session the server issued, which the page kept
        assert owner.startswith("web:")
        kept = page.evaluate("JSON.stringify(Object.assign({}, window.localStorage))")
        assert owner.removeprefix("web:") + "." in kept
        due = (datetime.now(timezone.utc) - timedelta(seconds=1)).replace(tzinfo=None)
        connection.execute(
            sa.text("UPDATE reminders SET due_at = :due WHERE id = :id"),
            {"due": due, "id": reminder_id},
        )
    page.get_by_text("Reminder: today's the day to").wait_for(timeout=REPLY_TIMEOUT_MS)

    assert outside == [], "nothing is loaded from outside the machine"
    assert [m for m in messages if "Failed to load resource" in m and "127.0.0.1" in m] == []
    context.close()
