"""The one way wording from the knowledge file becomes text: every {placeholder} is
filled, with a stand-in when the coach does not know the value, so no brace ever
reaches a user."""

from __future__ import annotations

import string
from collections.abc import Mapping

_FORMATTER = string.Formatter()


def render(template: str, values: Mapping[str, str], stand_ins: Mapping[str, str]) -> str:
    """`template` with each {name} replaced by its value, else its stand-in, else nothing.

    Only plain names are read ({name}, no attributes, indexes or format specs: the
    knowledge file's checks allow nothing else), so a value can never pull in more.
    """
    parts: list[str] = []
    for literal, name, _spec, _conversion in _FORMATTER.parse(template):
        parts.append(literal)
        if name is not None:
            parts.append(values.get(name) or stand_ins.get(name) or "")
    return "".join(parts)
