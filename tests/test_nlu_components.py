"""Our NLU components change how Rasa loads and runs the model, never what it predicts."""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path
from typing import Any

import pytest
import spacy
from rasa.core.agent import Agent
from rasa.nlu.classifiers.diet_classifier import DIETClassifier
from rasa.nlu.utils.spacy_utils import SpacyNLP
from spacy.language import Language

from callback_coach import rasa_server
from callback_coach.nlu.quick_load_diet import QuickLoadDIETClassifier
from callback_coach.nlu.shared_doc_entities import entities_doc, entity_pipeline

MESSAGES = (
    "I interviewed at Acme Corp for the data analyst role 9 days ago and heard nothing",
    "Maria Lopez from Initech told me the vacancy is on hold until March",
    "they rejected me yesterday, what should I learn?",
    "what's the weather like in Paris",
    "hi",
    "i spoke to maria lopez at acme corp last thursday and nothing since",
)


def parse_all(model_path: Path) -> list[dict[str, Any]]:
    agent = Agent.load(str(model_path))
    return [asyncio.run(agent.parse_message(text)) for text in MESSAGES]


def test_quick_load_predicts_exactly_what_rasas_loading_predicts(
    model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    quick = parse_all(model_path)

    # The same model loaded Rasa's way: one traced training step, then the weights.
    rasa_way = DIETClassifier._load_model_class.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(QuickLoadDIETClassifier, "_load_model_class", classmethod(rasa_way))
    standard = parse_all(model_path)

    for ours, theirs in zip(quick, standard, strict=True):
        assert ours["intent"]["name"] == theirs["intent"]["name"], ours["text"]
        assert ours["intent"]["confidence"] == pytest.approx(
            theirs["intent"]["confidence"], abs=1e-5
        )
        assert [(e["entity"], e["value"], e["start"], e["end"]) for e in ours["entities"]] == [
            (e["entity"], e["value"], e["start"], e["end"]) for e in theirs["entities"]
        ]


def same_predictions(ours: list[dict[str, Any]], theirs: list[dict[str, Any]]) -> None:
    for one, other in zip(ours, theirs, strict=True):
        assert one["intent"]["name"] == other["intent"]["name"], one["text"]
        assert one["intent"]["confidence"] == pytest.approx(other["intent"]["confidence"], abs=1e-6)
        assert [(e["entity"], e["value"], e["start"], e["end"]) for e in one["entities"]] == [
            (e["entity"], e["value"], e["start"], e["end"]) for e in other["entities"]
        ], one["text"]


def test_features_without_the_lowercase_entity_pass_predict_the_same(
    model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    standard = parse_all(model_path)
    monkeypatch.setattr(SpacyNLP, "_doc_for_text", rasa_server.doc_for_features)
    recogniser_runs: list[str] = []
    original_call = Language.__call__

    def recording_call(self: Language, text: Any, **kwargs: Any) -> Any:
        if "ner" not in kwargs.get("disable", []):
            recogniser_runs.append(str(text))
        return original_call(self, text, **kwargs)

    monkeypatch.setattr(Language, "__call__", recording_call)
    lean = parse_all(model_path)
    assert recogniser_runs == []  # the lower-cased pass no longer runs it
    same_predictions(lean, standard)
    # the all-lower-case message still gets its entities, from the extractor's own pass
    assert {e["entity"] for e in lean[-1]["entities"]} >= {"PERSON", "ORG"}


def test_entities_need_one_full_spacy_pass_only(
    model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent = Agent.load(str(model_path))
    full_passes: list[str] = []
    original_call = Language.__call__

    def counting_call(self: Language, text: Any, **kwargs: Any) -> Any:
        full_passes.append(str(text))
        return original_call(self, text, **kwargs)

    monkeypatch.setattr(Language, "__call__", counting_call)
    text = "Maria Lopez at Acme Corp has not answered since last Thursday"
    parsed = asyncio.run(agent.parse_message(text))
    found = {(e["entity"], e["value"]) for e in parsed["entities"]}
    assert {("PERSON", "Maria Lopez"), ("ORG", "Acme Corp"), ("DATE", "last Thursday")} <= found
    # SpacyNLP's lower-cased pass; the entities came from the recogniser alone.
    assert full_passes == [text.lower()]


@pytest.mark.parametrize(
    "text",
    [
        "Maria Lopez at Acme Corp has not answered since last Thursday",
        "I interviewed at Google in London 3 weeks ago with John Smith",
        "Initech's recruiter Bob said they'd decide by Friday, the 3rd of December",
        "no names here at all",
    ],
)
def test_recogniser_alone_finds_what_the_whole_pipeline_finds(text: str) -> None:
    nlp = spacy_model()
    assert [n for n, _ in entity_pipeline(nlp)] == ["ner"]
    whole = [(e.text, e.label_, e.start_char) for e in nlp(text).ents]
    assert [(e.text, e.label_, e.start_char) for e in entities_doc(nlp, text).ents] == whole


@functools.lru_cache(maxsize=1)
def spacy_model() -> Language:
    return spacy.load("en_core_web_md", disable=["parser"])
