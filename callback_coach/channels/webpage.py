"""The web page with the chat widget, served by the Rasa server itself at
/webhooks/web/ so the widget talks to socket.io on the same origin.

The widget's script is rasa-webchat's built bundle, installed from the npm registry
at set-up (web/package-lock.json pins it); nothing is loaded from a CDN.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

WEB_DIR = Path(__file__).resolve().parents[2] / "web"
FILES = {
    "": ("index.html", "text/html; charset=utf-8"),
    "widget.js": ("widget.js", "text/javascript; charset=utf-8"),
    "webchat.js": ("node_modules/rasa-webchat/lib/index.js", "text/javascript; charset=utf-8"),
}
# The page runs only our two scripts and talks only to its own origin.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self' data:; connect-src 'self' ws: wss:; "
        "frame-ancestors 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class WebPageInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "web"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        page = Blueprint("callback_coach_web_page", __name__)

        @page.route("/", methods=["GET"])
        async def index(request: Request) -> HTTPResponse:
            return await _serve("")

        @page.route("/<name:str>", methods=["GET"])
        async def asset(request: Request, name: str) -> HTTPResponse:
            return await _serve(name)

        return page


async def _serve(name: str) -> HTTPResponse:
    if name not in FILES:  # a fixed list: no path from the request reaches the disk
        return response.text("Not found", status=404)
    relative, content_type = FILES[name]
    path = WEB_DIR / relative
    if not path.is_file():
        return response.text(
            "The widget is not installed: run `make setup` (needs npm).", status=503
        )
    return await response.file(path, mime_type=content_type, headers=SECURITY_HEADERS)
