"""Companies, people and roles read as one from our model's and spaCy's guesses
(callback_coach/nlu/name_spans.py), on spaCy's real tokens and tags."""

from __future__ import annotations

from typing import Any

import pytest
import spacy
from spacy.language import Language

from callback_coach.nlu.name_spans import Token, tidy_names


@pytest.fixture(scope="module")
def nlp() -> Language:
    return spacy.load("en_core_web_md", exclude=["parser"])


def guess(label: str, value: str, text: str) -> dict[str, Any]:
    start = text.index(value)
    return {"entity": label, "value": value, "start": start, "end": start + len(value)}


def names(nlp: Language, text: str, *guesses: tuple[str, str]) -> set[tuple[str, str]]:
    doc = nlp(text.lower())  # as SpacyNLP reads it
    tokens = [
        Token(t.idx, t.idx + len(t.text), text[t.idx : t.idx + len(t.text)], t.tag_) for t in doc
    ]
    entities = [guess(label, value, text) for label, value in guesses]
    return {(e["entity"], e["value"]) for e in tidy_names(text, entities, tokens)}


def test_a_piece_of_a_name_grows_to_the_whole_name(nlp: Language) -> None:
    text = "I interviewed at Hollow Oak Games on Monday"
    assert names(nlp, text, ("company", "Oak")) == {("company", "Hollow Oak Games")}


def test_our_label_wins_over_spacys_for_the_same_words(nlp: Language) -> None:
    text = "Lumora rejected me yesterday"
    got = names(nlp, text, ("company", "Lumora"), ("PERSON", "Lumora"))
    assert got == {("company", "Lumora")}


def test_names_joined_by_an_ampersand_are_one(nlp: Language) -> None:
    text = "they told me at Fjord & Finch that it was filled"
    assert names(nlp, text, ("company", "& Finch")) == {("company", "Fjord & Finch")}


def test_a_title_belongs_to_the_person(nlp: Language) -> None:
    text = "Ms. Lindqvist said they'd decide by Friday"
    assert names(nlp, text, ("PERSON", "Lindqvist")) == {("person", "Ms. Lindqvist")}


def test_a_person_at_a_company_is_two_names(nlp: Language) -> None:
    text = "what should I write to Claire at Moonbeam Studios?"
    got = names(nlp, text, ("ORG", "Claire at Moonbeam Studios"))
    assert got == {("person", "Claire"), ("company", "Moonbeam Studios")}


def test_a_role_grows_over_its_words_but_not_over_job_words_or_dates(nlp: Language) -> None:
    text = "Zentrix turned me down for the personal trainer job last Thursday"
    got = names(nlp, text, ("role", "trainer"), ("DATE", "last Thursday"), ("company", "Zentrix"))
    assert ("role", "personal trainer") in got
    text = "birchwood dental turned me down for dental nurse last Thursday"
    got = names(nlp, text, ("role", "nurse"), ("DATE", "last Thursday"))
    assert ("role", "dental nurse") in got


def test_skills_spacy_takes_for_companies_are_not_companies(nlp: Language) -> None:
    text = "Mrs. Patel said I need a PMP for the project manager job"
    got = names(nlp, text, ("PERSON", "Patel"), ("ORG", "PMP"), ("role", "project manager"))
    assert got == {("person", "Mrs. Patel"), ("role", "project manager")}


def test_a_role_inside_a_company_name_is_part_of_the_name(nlp: Language) -> None:
    text = "Oakridge Dental eliminated the receptionist position"
    got = names(nlp, text, ("ORG", "Oakridge Dental"), ("role", "Dental"), ("role", "receptionist"))
    assert got == {("company", "Oakridge Dental"), ("role", "receptionist")}


def test_dates_and_other_entities_pass_unchanged(nlp: Language) -> None:
    text = "heard nothing from them since the 21st"
    assert names(nlp, text, ("DATE", "the 21st")) == {("DATE", "the 21st")}


def test_words_before_a_job_word_are_the_role_when_our_model_marked_none(nlp: Language) -> None:
    text = "Ironclad Security put the security guard job on hold"
    got = names(nlp, text, ("ORG", "Ironclad Security"))
    assert got == {("company", "Ironclad Security"), ("role", "security guard")}
    # words that describe a job rather than name it
    assert names(nlp, "they gave my dream job to someone else") == set()


def test_a_name_inside_a_longer_role_is_part_of_the_role(nlp: Language) -> None:
    text = "Ben said the devops engineer job is frozen"
    got = names(nlp, text, ("person", "Ben"), ("company", "devops"), ("role", "devops engineer"))
    assert got == {("person", "Ben"), ("role", "devops engineer")}


def test_a_month_is_not_a_person(nlp: Language) -> None:
    assert names(nlp, "they said maybe in June", ("PERSON", "June")) == set()


def test_of_two_companies_the_one_spacy_reads_as_a_person_is_the_person(nlp: Language) -> None:
    text = "I interviewed at Acme Corp with John Parker and they never got back to me"
    got = names(
        nlp, text, ("company", "Acme Corp"), ("company", "John Parker"), ("PERSON", "John Parker")
    )
    assert got == {("company", "Acme Corp"), ("person", "John Parker")}
    # one company: our model's reading stands
    text = "Zentrix Labs put the hiring on standby"
    assert names(nlp, text, ("company", "Zentrix Labs"), ("PERSON", "Zentrix Labs")) == {
        ("company", "Zentrix Labs")
    }
