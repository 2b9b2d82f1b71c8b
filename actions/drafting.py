"""Ready-to-send drafts: which kind the user wants, filled with what is known and
clearly marked blanks for what is not. Pure; the wording is in the knowledge file."""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass

from actions.knowledge import DRAFT_PLACEHOLDERS, Drafts

DEFAULT_KIND = "follow_up"
# Rasa's channels send each blank-line-separated paragraph as a message of its own; a
# paragraph break with a space on the empty line keeps the draft in one message.
PARAGRAPH_BREAK = "\n \n"


@dataclass(frozen=True)
class Draft:
    kind: str
    title: str
    text: str
    # names of the blanks left for the user, in the order they appear
    blanks: tuple[str, ...]


def asks_for_draft(text: str, drafts: Drafts) -> bool:
    lowered = text.lower()
    return any(word.lower() in lowered for word in drafts.request_words)


def choose_kind(text: str, step: str | None, drafts: Drafts, asked: str | None = None) -> str:
    """The kind named by a button, else by the request's words, else fitting the step."""
    fitting = {
        name: kind for name, kind in drafts.kinds.items() if step not in kind.never_for_steps
    }
    if asked in fitting:
        return str(asked)
    lowered = text.lower()
    for name, kind in fitting.items():
        if any(str(keyword).lower() in lowered for keyword in kind.keywords):
            return name
    for name, kind in fitting.items():
        if step in kind.steps:
            return name
    if DEFAULT_KIND in fitting:
        return DEFAULT_KIND
    return next(iter(fitting), next(iter(drafts.kinds)))


def compose(kind_name: str, values: Mapping[str, str | None], drafts: Drafts) -> Draft:
    """Fills the kind's text; a value that is missing or empty becomes a marked blank."""
    kind = drafts.kinds[kind_name]
    used = [name for _, name, _, _ in string.Formatter().parse(kind.text) if name]
    filled: dict[str, str] = {}
    blanks: list[str] = []
    for name in DRAFT_PLACEHOLDERS:
        value = (values.get(name) or "").strip()
        if value:
            filled[name] = value
            continue
        blank_name = drafts.blank_names[name]
        filled[name] = str(drafts.blank).format(what=blank_name)
        if name in used and blank_name not in blanks:
            blanks.append(blank_name)
    blanks.sort(key=lambda blank: used.index(_placeholder_of(blank, drafts)))
    text = str(kind.text).format_map(filled).strip().replace("\n\n", PARAGRAPH_BREAK)
    return Draft(kind_name, str(kind.title), text, tuple(blanks))


def _placeholder_of(blank_name: str, drafts: Drafts) -> str:
    return next(name for name, title in drafts.blank_names.items() if title == blank_name)


def draft_button(drafts: Drafts, kind_name: str) -> dict[str, str]:
    """The button that asks for this kind of draft ("Write the follow-up email for me")."""
    title = str(drafts.button).format(title=drafts.kinds[kind_name].title)
    return {"title": title, "payload": f'/ask_contact_recruiter{{"draft_kind":"{kind_name}"}}'}
