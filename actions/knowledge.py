"""The curated knowledge file: its schema, loading and validation.

Everything the coach says about a situation lives in one YAML file that a
non-programmer can edit (see the README). The file is checked against the schema
below when the action server starts; a mistake stops it with an error naming the
file, the entry and the field. While the server runs, an edited file is picked up
on the next message, without retraining or restarting.
"""

from __future__ import annotations

import logging
import string
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Extra, ValidationError, conlist, constr, root_validator, validator

from actions.timeline import TimingRules

logger = logging.getLogger(__name__)

SITUATIONS = (
    "no_callback",
    "rejected",
    "on_hold",
    "vacancy_cancelled",
    "skills_gap",
    "feeling_discouraged",
    "ask_contact_recruiter",
    "ask_interview_etiquette",
)
NEXT_STEPS = (
    "wait",
    "follow_up",
    "follow_up_again",
    "wait_for_reply",
    "move_on",
    "ask_feedback",
    "check_back",
    "keep_searching",
    "prepare",
    "take_care",
)
# A next-step text may have a variant for when the interview date is unknown, and one
# for when they were given a date ("we'll decide by Friday", "on hold until January").
NO_DATE_SUFFIX = "_no_date"
PROMISED_SUFFIX = "_promised"
# Placeholders a text may use; anything else is a typo the schema reports.
PLACEHOLDERS = frozenset({"date", "company", "person", "role", "days", "promised", "stop_date"})

Text = constr(strip_whitespace=True, min_length=1)
Identifier = constr(regex=r"^[a-z][a-z0-9_]*$")
# A piece joined into a sentence, e.g. " ({role})": its leading space is kept.
Fragment = constr(min_length=1)


class KnowledgeError(Exception):
    """The knowledge file is missing, is not YAML, or breaks the schema."""


def _check_placeholders(text: str, allowed: frozenset[str] = PLACEHOLDERS) -> str:
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as error:
        raise ValueError(f"badly formed placeholder in {text!r}: {error}") from error
    unknown = fields - allowed
    if unknown:
        names = ", ".join("{" + p + "}" for p in sorted(allowed)) or "none"
        raise ValueError(f"unknown placeholder(s) {sorted(unknown)}; allowed: {names}")
    return text


def _placeholders_among(*names: str) -> Any:
    """A validator allowing only these placeholders in every field it is attached to."""
    allowed = frozenset(names)

    def check(cls: type, text: Any) -> Any:
        if isinstance(text, str):
            return _check_placeholders(text, allowed)
        if isinstance(text, dict):
            return {key: _check_placeholders(value, allowed) for key, value in text.items()}
        return text

    return check


class Strict(BaseModel):
    class Config:
        extra = Extra.forbid
        anystr_strip_whitespace = True


class Source(Strict):
    name: Text  # type: ignore[valid-type]
    title: Text  # type: ignore[valid-type]
    year: int | None = None


class Fact(Strict):
    """One figure or piece of advice from the research notes, with its source."""

    summary: Text  # type: ignore[valid-type]
    source: Identifier  # type: ignore[valid-type]


class Item(Strict):
    """A reason or a piece of guidance, traced to what it relies on."""

    text: Text  # type: ignore[valid-type]
    points: list[Identifier] = []  # type: ignore[valid-type]
    facts: list[Identifier] = []  # type: ignore[valid-type]

    _placeholders = validator("text", allow_reuse=True)(_placeholders_among(*PLACEHOLDERS))

    @root_validator(skip_on_failure=True)
    def relies_on_something(cls, values: dict[str, Any]) -> dict[str, Any]:
        if not values.get("points") and not values.get("facts"):
            raise ValueError("give the article point(s) or research fact(s) this relies on")
        return values


class Button(Strict):
    title: Text  # type: ignore[valid-type]
    intent: Identifier  # type: ignore[valid-type]


class Situation(Strict):
    title: Text  # type: ignore[valid-type]
    reassurance: conlist(Text, min_items=3)  # type: ignore[valid-type]
    reasons: conlist(Item, min_items=2)  # type: ignore[valid-type]
    guidance: conlist(Item, min_items=2)  # type: ignore[valid-type]
    next_step: dict[str, Text]  # type: ignore[valid-type]
    # For an entry that answers a question rather than a situation, headings that fit
    # it; otherwise the messages' headings.
    reasons_heading: Text | None = None  # type: ignore[valid-type]
    guidance_heading: Text | None = None  # type: ignore[valid-type]
    # at most 3, so with the draft and reminder offers a message stays within Slack's 5
    buttons: conlist(Button, min_items=1, max_items=3)  # type: ignore[valid-type]

    _placeholders = validator("reassurance", each_item=True, allow_reuse=True)(
        _placeholders_among(*PLACEHOLDERS)
    )

    @validator("next_step")
    def known_steps(cls, steps: dict[str, str]) -> dict[str, str]:
        if not steps:
            raise ValueError("give at least one next-step text")
        for key, text in steps.items():
            if key.removesuffix(NO_DATE_SUFFIX).removesuffix(PROMISED_SUFFIX) not in NEXT_STEPS:
                raise ValueError(f"{key!r} is not a next step; use one of {', '.join(NEXT_STEPS)}")
            _check_placeholders(text)
        return steps


class Messages(Strict):
    """Connecting words of the coaching replies."""

    reasons_heading: Text  # type: ignore[valid-type]
    guidance_heading: Text  # type: ignore[valid-type]
    sources_line: Text  # type: ignore[valid-type]
    ask_interview_date: Text  # type: ignore[valid-type]
    ask_situation: Text  # type: ignore[valid-type]
    unknown_company: Text  # type: ignore[valid-type]
    unknown_person: Text  # type: ignore[valid-type]
    unknown_role: Text  # type: ignore[valid-type]
    thank_you_note: Text  # type: ignore[valid-type]
    # The buttons under a coaching reply: "reasons", "guidance", "sources" → title.
    more_buttons: dict[str, Text]  # type: ignore[valid-type]
    # A message the model is unsure about: the question above the two likeliest readings,
    # and the button titles of requests that are not situations (intent → title).
    unsure: Text  # type: ignore[valid-type]
    unsure_buttons: dict[Identifier, Text] = {}  # type: ignore[valid-type]

    @validator("more_buttons")
    def the_three_details(cls, buttons: dict[str, str]) -> dict[str, str]:
        if set(buttons) != {"reasons", "guidance", "sources"}:
            raise ValueError("name exactly the buttons reasons, guidance and sources")
        return buttons

    _placeholders = validator("thank_you_note", allow_reuse=True)(
        _placeholders_among(*PLACEHOLDERS)
    )

    @validator("sources_line")
    def sources_placeholder(cls, text: str) -> str:
        if "{sources}" not in text:
            raise ValueError("must contain {sources}")
        return text


class TimingRule(Strict):
    """One waiting time and the research facts behind it."""

    value: int
    facts: list[Identifier] = []  # type: ignore[valid-type]

    @validator("value")
    def in_range(cls, value: int) -> int:
        if not 0 <= value <= 90:
            raise ValueError("must be between 0 and 90")
        return value


# The rules taken from the research notes must say which facts they rest on; the last
# two are the coach's own choices.
RESEARCHED_TIMING_RULES = (
    "thank_you_within_days",
    "follow_up_after_business_days",
    "after_promised_date_business_days",
    "follow_up_again_after_days",
    "follow_ups_before_moving_on",
    "move_on_weeks_past_promised_date",
    "move_on_weeks_after_interview",
    "on_hold_check_back_days",
    "on_hold_stop_after_weeks",
    "feedback_within_business_days",
)


class Timing(Strict):
    thank_you_within_days: TimingRule
    follow_up_after_business_days: TimingRule
    after_promised_date_business_days: TimingRule
    follow_up_again_after_days: TimingRule
    follow_ups_before_moving_on: TimingRule
    move_on_weeks_past_promised_date: TimingRule
    move_on_weeks_after_interview: TimingRule
    on_hold_check_back_days: TimingRule
    on_hold_stop_after_weeks: TimingRule
    feedback_within_business_days: TimingRule
    keep_searching_within_days: TimingRule
    take_care_within_business_days: TimingRule

    @root_validator(skip_on_failure=True)
    def researched_rules_cite_facts(cls, values: dict[str, Any]) -> dict[str, Any]:
        missing = [name for name in RESEARCHED_TIMING_RULES if not values[name].facts]
        if missing:
            raise ValueError(f"{', '.join(missing)}: must list the facts it rests on")
        return values

    @property
    def facts(self) -> list[str]:
        """Every fact the rules rest on, in order, once each."""
        return self.facts_for(self.__fields__)

    def facts_for(self, rule_names: Iterable[str]) -> list[str]:
        ids = [fact for name in rule_names for fact in getattr(self, name).facts]
        return list(dict.fromkeys(ids))

    def rules(self) -> TimingRules:
        return TimingRules(**{name: getattr(self, name).value for name in self.__fields__})


DRAFT_PLACEHOLDERS = ("person", "company", "role", "interview_date", "promised")


class DraftKind(Strict):
    title: Text  # type: ignore[valid-type]
    keywords: list[Text] = []  # type: ignore[valid-type]
    steps: list[Identifier] = []  # type: ignore[valid-type]
    # Next steps this kind never fits, whatever the request says (a cancelled role is
    # never asked for "news on the next steps").
    never_for_steps: list[Identifier] = []  # type: ignore[valid-type]
    text: Text  # type: ignore[valid-type]

    _placeholders = validator("text", allow_reuse=True)(_placeholders_among(*DRAFT_PLACEHOLDERS))

    @validator("steps", "never_for_steps", each_item=True)
    def known_step(cls, step: str) -> str:
        if step not in NEXT_STEPS:
            raise ValueError(f"{step!r} is not a next step; use one of {', '.join(NEXT_STEPS)}")
        return step


class Drafts(Strict):
    intro: Text  # type: ignore[valid-type]
    blank: Text  # type: ignore[valid-type]
    blank_names: dict[str, Text]  # type: ignore[valid-type]
    missing_note: Text  # type: ignore[valid-type]
    button: Text  # type: ignore[valid-type]
    request_words: conlist(Text, min_items=1)  # type: ignore[valid-type]
    kinds: dict[Identifier, DraftKind]  # type: ignore[valid-type]

    _blank = validator("blank", allow_reuse=True)(_placeholders_among("what"))
    _note = validator("missing_note", allow_reuse=True)(_placeholders_among("blanks"))
    _button = validator("button", allow_reuse=True)(_placeholders_among("title"))

    @validator("blank_names")
    def every_blank_named(cls, names: dict[str, str]) -> dict[str, str]:
        missing = [name for name in DRAFT_PLACEHOLDERS if name not in names]
        if missing:
            raise ValueError(f"name the blank for: {', '.join(missing)}")
        return names

    @validator("kinds")
    def some_kinds(cls, kinds: dict[str, DraftKind]) -> dict[str, DraftKind]:
        if not kinds:
            raise ValueError("give at least one kind of draft")
        return kinds


class Wording(Strict):
    class Config:
        anystr_strip_whitespace = False  # Text fields strip themselves; Fragments must not


class Memory(Wording):
    statuses: dict[str, Text]  # type: ignore[valid-type]
    steps: dict[str, Text]  # type: ignore[valid-type]
    pending_heading: Text  # type: ignore[valid-type]
    pending_line: Text  # type: ignore[valid-type]
    role_part: Fragment  # type: ignore[valid-type]
    date_part: Fragment  # type: ignore[valid-type]
    pending_empty: Text  # type: ignore[valid-type]
    recorded: Text  # type: ignore[valid-type]
    # Said instead of recording a new application once the person has the most we keep.
    full: Text  # type: ignore[valid-type]

    _line = validator("pending_line", allow_reuse=True)(
        _placeholders_among("company", "role", "status", "step", "date")
    )
    _role = validator("role_part", allow_reuse=True)(_placeholders_among("role"))
    _date = validator("date_part", allow_reuse=True)(_placeholders_among("date"))
    _recorded = validator("recorded", allow_reuse=True)(_placeholders_among("company", "role"))

    @validator("statuses")
    def every_situation(cls, statuses: dict[str, str]) -> dict[str, str]:
        missing = [s for s in SITUATIONS if s not in statuses]
        if missing:
            raise ValueError(f"missing status for: {', '.join(missing)}")
        return statuses

    @validator("steps")
    def every_step(cls, steps: dict[str, str]) -> dict[str, str]:
        missing = [s for s in NEXT_STEPS if s not in steps]
        if missing:
            raise ValueError(f"missing wording for step(s): {', '.join(missing)}")
        return steps


REMINDER_FIELDS = ("date", "step", "about")


class Reminders(Wording):
    hour: int
    ask_when: Text  # type: ignore[valid-type]
    in_the_past: Text  # type: ignore[valid-type]
    confirmed: Text  # type: ignore[valid-type]
    about: Fragment  # type: ignore[valid-type]
    offer_button: Text  # type: ignore[valid-type]
    due: Text  # type: ignore[valid-type]
    list_heading: Text  # type: ignore[valid-type]
    list_line: Text  # type: ignore[valid-type]
    none: Text  # type: ignore[valid-type]
    cancel_button: Text  # type: ignore[valid-type]
    which_one: Text  # type: ignore[valid-type]
    cancelled: Text  # type: ignore[valid-type]
    nothing_due: Text  # type: ignore[valid-type]
    next_one: Text  # type: ignore[valid-type]
    default_step: Text  # type: ignore[valid-type]
    # Said instead of setting one more once the person has the most pending we keep.
    too_many: Text  # type: ignore[valid-type]

    _texts = validator(
        "ask_when",
        "in_the_past",
        "confirmed",
        "offer_button",
        "due",
        "list_heading",
        "list_line",
        "none",
        "cancel_button",
        "which_one",
        "cancelled",
        "nothing_due",
        "next_one",
        "default_step",
        allow_reuse=True,
    )(_placeholders_among(*REMINDER_FIELDS))
    _about = validator("about", allow_reuse=True)(_placeholders_among("company"))

    @validator("hour")
    def an_hour(cls, hour: int) -> int:
        if not 0 <= hour <= 23:
            raise ValueError("must be an hour of the day, 0 to 23")
        return hour


class Privacy(Wording):
    heading: Text  # type: ignore[valid-type]
    application_line: Text  # type: ignore[valid-type]
    reminder_line: Text  # type: ignore[valid-type]
    conversation_line: Text  # type: ignore[valid-type]
    slots_line: Text  # type: ignore[valid-type]
    nothing: Text  # type: ignore[valid-type]
    none_word: Text  # type: ignore[valid-type]
    delete_hint: Text  # type: ignore[valid-type]
    deleted: Text  # type: ignore[valid-type]
    # What stays in the chat platform's own history, by channel ("slack", "telegram").
    kept_by_platform: dict[str, Text] = {}  # type: ignore[valid-type]

    _application = validator("application_line", allow_reuse=True)(
        _placeholders_among("company", "role", "status", "step", "date", "contacts", "follow_ups")
    )
    _reminder = validator("reminder_line", allow_reuse=True)(_placeholders_among(*REMINDER_FIELDS))
    _conversation = validator("conversation_line", allow_reuse=True)(_placeholders_among("events"))
    _slots = validator("slots_line", allow_reuse=True)(_placeholders_among("details"))
    _deleted = validator("deleted", allow_reuse=True)(
        _placeholders_among("applications", "reminders")
    )


class Knowledge(Strict):
    version: int
    sources: dict[Identifier, Source]  # type: ignore[valid-type]
    article_points: dict[Identifier, Text]  # type: ignore[valid-type]
    facts: dict[Identifier, Fact]  # type: ignore[valid-type]
    timing: Timing
    messages: Messages
    drafts: Drafts
    memory: Memory
    reminders: Reminders
    privacy: Privacy
    not_company_names: list[Text] = []  # type: ignore[valid-type]
    situations: dict[str, Situation]

    @validator("situations")
    def every_situation(cls, situations: dict[str, Situation]) -> dict[str, Situation]:
        missing = [s for s in SITUATIONS if s not in situations]
        unknown = [s for s in situations if s not in SITUATIONS]
        if missing:
            raise ValueError(f"missing situation(s): {', '.join(missing)}")
        if unknown:
            raise ValueError(f"unknown situation(s): {', '.join(unknown)}")
        return situations

    @root_validator(skip_on_failure=True)
    def references_exist(cls, values: dict[str, Any]) -> dict[str, Any]:
        """Every id an entry names must be defined, so a typo cannot hide a citation."""
        problems: list[str] = []
        sources, points, facts = values["sources"], values["article_points"], values["facts"]
        for fact_id, fact in facts.items():
            if fact.source not in sources:
                problems.append(f"facts -> {fact_id} -> source: unknown source {fact.source!r}")
        timing = values["timing"]
        for rule_name in timing.__fields__:
            for fact_id in getattr(timing, rule_name).facts:
                if fact_id not in facts:
                    problems.append(f"timing -> {rule_name} -> facts: unknown fact {fact_id!r}")
        for name, situation in values["situations"].items():
            for field in ("reasons", "guidance"):
                for index, item in enumerate(getattr(situation, field)):
                    where = f"situations -> {name} -> {field} -> {index}"
                    problems += [
                        f"{where} -> points: unknown article point {p!r}"
                        for p in item.points
                        if p not in points
                    ]
                    problems += [
                        f"{where} -> facts: unknown fact {f!r}"
                        for f in item.facts
                        if f not in facts
                    ]
        if problems:
            raise ValueError("; ".join(problems))
        return values

    def items(self, situation: str) -> list[Item]:
        entry = self.situations[situation]
        return [*entry.reasons, *entry.guidance]


def _describe(error: ValidationError) -> str:
    lines = []
    for detail in error.errors():
        location = " -> ".join(str(part) for part in detail["loc"] if part != "__root__")
        lines.append(f"  {location or '(top level)'}: {detail['msg']}")
    return "\n".join(lines)


def parse_knowledge(path: Path) -> Knowledge:
    """Reads and validates the knowledge file, or raises KnowledgeError saying where it is wrong."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise KnowledgeError(f"{path}: cannot read the knowledge file: {error}") from error
    except yaml.YAMLError as error:
        raise KnowledgeError(f"{path}: not valid YAML: {error}") from error
    if not isinstance(raw, dict):
        raise KnowledgeError(f"{path}: expected a mapping at the top level")
    try:
        return Knowledge.parse_obj(raw)
    except ValidationError as error:
        raise KnowledgeError(
            f"{path}: the knowledge file breaks its schema:\n{_describe(error)}"
        ) from error


class KnowledgeCache:
    """Holds the validated knowledge and reloads it when the file changes.

    A broken edit while the server runs is logged and the last good version kept,
    so a typo never takes the coach down mid-conversation.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._knowledge: Knowledge | None = None
        self._stamp: tuple[int, int] | None = None

    def _current_stamp(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return (stat.st_mtime_ns, stat.st_size)

    def get(self) -> Knowledge:
        stamp = self._current_stamp()
        with self._lock:
            if self._knowledge is not None and stamp == self._stamp:
                return self._knowledge
            try:
                knowledge = parse_knowledge(self.path)
            except KnowledgeError:
                if self._knowledge is None:
                    raise
                logger.exception("Keeping the last valid knowledge: the edited file is invalid.")
                self._stamp = stamp  # do not re-parse the same broken file on every message
                return self._knowledge
            self._knowledge, self._stamp = knowledge, stamp
            return knowledge
