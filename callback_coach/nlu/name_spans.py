"""One reading of the names in a message, from our model's and spaCy's guesses.

Our DIET model marks `company`, `person` and `role` (it learnt small, made-up and
lowercase names from data/nlu) but often marks only part of a longer name ("Oak" of
"Hollow Oak Games", "trainer" of "personal trainer"); spaCy's recogniser knows where
well-known names end but misses small ones and reads a company at the start of a
sentence as a person. This component, after both, joins them:

- overlapping guesses become one name spanning them all, labelled as our model
  labelled it when it marked any part (spaCy's ORG/PERSON otherwise);
- a name grows over the capitalised words around it ("Hollow [Oak] Games"), joined by
  "&" where needed ("Fjord & Finch"), and a person over a title before it ("Ms.");
- a role grows over the nouns and adjectives around it ("the [personal trainer] job"),
  never over "job"/"role"/"position" words, names or other words.

The result is `company`, `person` and `role` entities (extractor "NameSpans"); spaCy's
ORG and PERSON are replaced, its DATE entities are kept as they are.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import SPACY_DOCS
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

EXTRACTOR = "NameSpans"
OURS = {"company": "company", "person": "person"}
SPACY = {"ORG": "company", "PERSON": "person"}
ROLE = "role"
TITLES = frozenset({"mr", "mrs", "ms", "miss", "dr", "prof", "sir", "madam"})
JOINERS = frozenset({"&", "and"})
# Words around a role that are never part of its title.
ROLE_WORDS = frozenset(
    {
        "job", "jobs", "role", "roles", "position", "positions", "post", "vacancy",
        "vacancies", "application", "applications", "opening", "spot", "place", "offer",
        "interview", "interviews", "contract", "internship", "gig", "shift", "team",
        "budget", "hiring", "recruitment", "process", "candidacy",
        # times and words that describe a job rather than name it
        "last", "next", "this", "night", "morning", "afternoon", "evening", "today",
        "yesterday", "week", "month", "year", "dream", "first", "new", "same", "other",
        "current", "old", "perfect", "whole", "entire", "remote", "summer", "only", "real",
    }
)  # fmt: skip
# "the security guard job": the words before one of these name the role, when our
# model marked no role at all.
ROLE_TRIGGERS = frozenset({"job", "role", "position", "post", "vacancy", "opening"})
MONTHS = frozenset(m.lower() for m in [*calendar.month_name[1:], *calendar.month_abbr[1:]])
ROLE_TAGS = frozenset({"NN", "NNS", "NNP", "NNPS", "JJ"})
MAX_ROLE_TOKENS = 5
MAX_NAME_TOKENS = 6


@dataclass(frozen=True)
class Token:
    start: int
    end: int
    text: str
    tag: str


@dataclass
class Guess:
    start: int
    end: int
    label: str
    ours: bool
    # what spaCy called the same words, when it marked them too
    spacy_label: str | None = None


def _capitalised(token: Token) -> bool:
    return token.text[:1].isupper() or (token.text[:1].isdigit() and len(token.text) > 1)


def _starts_sentence(index: int, tokens: Sequence[Token], text: str) -> bool:
    return index == 0 or text[: tokens[index].start].rstrip().endswith((".", "!", "?", ":"))


def _covering(tokens: Sequence[Token], start: int, end: int) -> list[int]:
    return [i for i, t in enumerate(tokens) if t.start < end and start < t.end]


def _grow_name(text: str, tokens: Sequence[Token], guess: Guess) -> tuple[int, int]:
    inside = _covering(tokens, guess.start, guess.end)
    if not inside:
        return guess.start, guess.end
    first, last = inside[0], inside[-1]
    if guess.label == "person":
        # a title before a name: "Ms. Lindqvist", "Dr Mendes"
        previous = first - 1
        if previous >= 0 and tokens[previous].text == "." and previous >= 1:
            previous -= 1
        if previous >= 0 and tokens[previous].text.lower().rstrip(".") in TITLES:
            first = previous
        return tokens[first].start, tokens[last].end
    if not any(_capitalised(tokens[i]) for i in inside):
        return guess.start, guess.end  # a lowercase name is taken as our model marked it
    while (
        first > 0
        and _capitalised(tokens[first - 1])
        and not _starts_sentence(first - 1, tokens, text)
        and last - first < MAX_NAME_TOKENS
    ):
        first -= 1
    while last + 1 < len(tokens) and last - first < MAX_NAME_TOKENS:
        following = tokens[last + 1]
        if _capitalised(following):
            last += 1
        elif (
            following.text.lower() in JOINERS
            and last + 2 < len(tokens)
            and _capitalised(tokens[last + 2])
        ):
            last += 2
        else:
            break
    return tokens[first].start, tokens[last].end


def _role_before_job_word(tokens: Sequence[Token], blocked: list[tuple[int, int]]) -> list[Guess]:
    """'the [security guard] job': nouns and adjectives right before a job word, with at
    least one noun among them."""
    found = []
    for index, token in enumerate(tokens):
        if token.text.lower() not in ROLE_TRIGGERS or index == 0:
            continue
        first = index
        while (
            first > 0 and index - first < MAX_ROLE_TOKENS and _role_word(tokens[first - 1], blocked)
        ):
            first -= 1
        words = tokens[first:index]
        if any(t.tag.startswith("NN") for t in words):
            found.append(Guess(words[0].start, words[-1].end, ROLE, False))
    return found


def _role_word(token: Token, blocked: list[tuple[int, int]]) -> bool:
    return (
        token.tag in ROLE_TAGS
        and token.text.lower() not in ROLE_WORDS
        and token.text.isalpha()
        and not any(token.start < e and s < token.end for s, e in blocked)
    )


def _grow_role(
    tokens: Sequence[Token], start: int, end: int, names: list[tuple[int, int]]
) -> tuple[int, int]:
    inside = _covering(tokens, start, end)
    if not inside:
        return start, end

    def fits(index: int) -> bool:
        return _role_word(tokens[index], names)

    first, last = inside[0], inside[-1]
    while first > 0 and fits(first - 1) and last - first + 1 < MAX_ROLE_TOKENS:
        first -= 1
    while last + 1 < len(tokens) and fits(last + 1) and last - first + 1 < MAX_ROLE_TOKENS:
        last += 1
    return tokens[first].start, tokens[last].end


def _inside(inner: Guess, outer: Guess) -> bool:
    return outer.start <= inner.start and inner.end <= outer.end


def _skill_acronym(value: str) -> bool:
    """spaCy reads skills and certificates ("SQL", "PMP", "C1") as organisations; a
    short all-capitals word only spaCy marks is not taken for a company."""
    return " " not in value and len(value) <= 4 and value.upper() == value


def _split_person_at_company(text: str, guess: Guess) -> list[Guess]:
    """spaCy's "Claire at Moonbeam Studios" is a person at a company."""
    match = re.search(r"\s+(?:at|from)\s+", text[guess.start : guess.end])
    if guess.label != "company" or match is None or match.start() == 0:
        return [guess]
    return [
        Guess(guess.start, guess.start + match.start(), "person", guess.ours),
        Guess(guess.start + match.end(), guess.end, "company", guess.ours),
    ]


def _join(guesses: list[Guess], text: str) -> list[Guess]:
    """Overlapping guesses, and pieces of our model's separated only by spaces or "&",
    become one."""
    joined: list[Guess] = []
    for guess in sorted(guesses, key=lambda g: (g.start, -g.end)):
        last = joined[-1] if joined else None
        overlaps = last is not None and guess.start < last.end
        adjacent = (
            last is not None
            and last.ours
            and guess.ours
            and last.label == guess.label
            and re.fullmatch(r"\s*&?\s*", text[last.end : guess.start]) is not None
        )
        if last is not None and (overlaps or adjacent):
            last.end = max(last.end, guess.end)
            spacy_label = guess.spacy_label or (None if guess.ours else guess.label)
            last.spacy_label = last.spacy_label or spacy_label
            if guess.ours and not last.ours:
                last.label, last.ours = guess.label, True
            continue
        joined.append(
            Guess(
                guess.start,
                guess.end,
                guess.label,
                guess.ours,
                guess.spacy_label or (None if guess.ours else guess.label),
            )
        )
    return joined


def _one_employer(named: list[Guess]) -> list[Guess]:
    """A message rarely names two employers: when our model reads two companies and
    spaCy reads one of them as a person ("at Acme Corp with John Parker"), it is one."""
    companies = [g for g in named if g.label == "company"]
    if len(companies) < 2:
        return named
    for guess in companies:
        if guess.spacy_label == "person":
            guess.label = "person"
            break
    return named


def tidy_names(
    text: str, entities: Sequence[dict[str, Any]], tokens: Sequence[Token]
) -> list[dict[str, Any]]:
    """The message's entities with companies, people and roles read as one (see the
    module's docstring); other entities are returned unchanged."""
    names: list[Guess] = []
    roles: list[Guess] = []
    kept: list[dict[str, Any]] = []
    dates = [
        (e["start"], e["end"])
        for e in entities
        if e.get("entity") == "DATE"
        and isinstance(e.get("start"), int)
        and isinstance(e.get("end"), int)
    ]
    for entity in entities:
        label = entity.get("entity")
        start, end = entity.get("start"), entity.get("end")
        if not (isinstance(start, int) and isinstance(end, int)) or label not in {
            *OURS,
            *SPACY,
            ROLE,
        }:
            kept.append(entity)
        elif label == ROLE:
            roles.append(Guess(start, end, ROLE, True))
        else:
            names.append(Guess(start, end, OURS.get(label) or SPACY[label], label in OURS))
    # spaCy's names that are skills ("SQL"), part of a date ("the 5th of June") or inside
    # a role our model marked ("the [SEO] specialist job") are not names.
    names = [
        n
        for n in names
        if n.ours
        or not (
            _skill_acronym(text[n.start : n.end])
            or any(s <= n.start and n.end <= e for s, e in dates)
            or text[n.start : n.end].lower() in MONTHS
            or any(_inside(n, r) for r in roles)
        )
    ]
    named: list[Guess] = []
    for guess in _join(names, text):
        guess.start, guess.end = _grow_name(text, tokens, guess)
        named.extend(_split_person_at_company(text, guess))
    named = _one_employer(_join(named, text))
    # On overlap the longer reading wins: "Oakridge [Dental]" is a name, the
    # "[devops] engineer" a role.
    roles = _join(roles, text)
    named = [
        n
        for n in named
        if not any(_inside(n, r) and n.end - n.start < r.end - r.start for r in roles)
    ]
    roles = [r for r in roles if not any(_inside(r, n) for n in named)]
    spans = [(n.start, n.end) for n in named] + dates
    if not roles:
        roles = _role_before_job_word(tokens, spans)
    grown_roles = []
    for role in roles:
        role.start, role.end = _grow_role(tokens, role.start, role.end, spans)
        grown_roles.append(role)
    result = [
        {"entity": g.label, "start": g.start, "end": g.end, "value": text[g.start : g.end]}
        for g in [*named, *_join(grown_roles, text)]
    ]
    for entity in result:
        entity["extractor"] = EXTRACTOR
    return sorted([*kept, *result], key=lambda e: e.get("start") or 0)


def _tokens(message: Message) -> list[Token]:
    doc = message.get(SPACY_DOCS[TEXT])
    if doc is None:
        return [
            Token(m.start(), m.end(), m.group(), "")
            for m in re.finditer(r"\w+(?:['’.-]\w+)*\.?|&", message.get(TEXT) or "")
        ]
    text = message.get(TEXT) or ""
    # SpacyNLP may have read the lowercased text: same offsets, the cased words here.
    return [
        Token(t.idx, t.idx + len(t.text), text[t.idx : t.idx + len(t.text)], t.tag_) for t in doc
    ]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class NameSpans(GraphComponent):
    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> NameSpans:
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data  # the marked names of the training data are the truth

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            entities = message.get(ENTITIES) or []
            if entities:
                tidied = tidy_names(message.get(TEXT) or "", entities, _tokens(message))
                message.set(ENTITIES, tidied, add_to_output=True)
        return messages
