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


def parse_all(model_path: Path, texts: tuple[str, ...] = MESSAGES) -> list[dict[str, Any]]:
    agent = Agent.load(str(model_path))
    return [asyncio.run(agent.parse_message(text)) for text in texts]


def held_out_texts() -> tuple[str, ...]:
    from rasa.shared.nlu.training_data.loading import load_data

    return tuple(
        example.get("text")
        for source in sorted((Path(__file__).resolve().parent / "data").glob("nlu_holdout*.yml"))
        for example in load_data(str(source)).intent_examples
    )


def test_quick_load_predicts_exactly_what_rasas_loading_predicts(
    model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every held-out message too: the quick load traces prediction without autograph,
    # and a branch it would have rewritten could show on any message.
    texts = MESSAGES + held_out_texts()
    assert len(texts) > 400
    quick = parse_all(model_path, texts)

    # The same model loaded Rasa's way: one traced training step, then the weights.
    rasa_way = DIETClassifier._load_model_class.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(QuickLoadDIETClassifier, "_load_model_class", classmethod(rasa_way))
    standard = parse_all(model_path, texts)

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
    # the all-lower-case message still gets its names, from the extractor's own pass
    # (read whole, as company and person, by NameSpans)
    assert {e["entity"] for e in lean[-1]["entities"]} >= {"person", "company"}


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
    assert {("person", "Maria Lopez"), ("company", "Acme Corp"), ("DATE", "last Thursday")} <= found
    # SpacyNLP's lower-cased pass; the entities came from the recogniser alone.
    assert full_passes == [text.lower()]


def test_the_graph_holds_one_spacy_model(model_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import rasa.engine.graph

    from callback_coach.nlu import lean_spacy

    monkeypatch.setattr(SpacyNLP, "load_model", SpacyNLP.__dict__["load_model"])
    lean_spacy.install()
    agent = Agent.load(str(model_path))
    assert agent.processor is not None
    nodes = agent.processor.graph_runner._instantiated_nodes  # type: ignore[attr-defined]
    components = [node._component for node in nodes.values()]
    spacy_nodes = [c for c in components if isinstance(c, SpacyNLP)]
    assert isinstance(next(iter(nodes.values())), rasa.engine.graph.GraphNode)
    # the node that provides the model and the node that runs it on messages
    assert len(spacy_nodes) == 2
    assert spacy_nodes[0]._model.model is spacy_nodes[1]._model.model


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


def token_view(doc: Any) -> list[tuple[Any, ...]]:
    return [
        (t.text, t.lemma_, t.tag_, t.pos_, t.norm_, t.shape_, t.is_oov, t.has_vector) for t in doc
    ]


def test_the_lean_spacy_model_gives_the_full_models_results() -> None:
    import numpy as np
    from rasa.shared.nlu.training_data.loading import load_data

    from callback_coach.nlu.lean_spacy import CompactKeyToRow, lean_language

    training = Path(__file__).resolve().parent.parent / "data" / "nlu"
    texts = [example.get("text") for example in load_data(str(training)).intent_examples]
    texts += held_out_texts()
    texts += ["Zyxqwv blorptastic!!! 🙂 héllo naïve café", "", "   ", "ÄÖÜ ß 面接 интервью"]
    assert len(texts) > 1000
    full, lean = spacy_model(), lean_language("en_core_web_md")
    assert isinstance(lean.vocab.vectors.key2row, CompactKeyToRow)
    assert len(lean.vocab.vectors.key2row) == len(full.vocab.vectors.key2row)
    for text in texts:
        # as served: features from the lower-cased text, entities from the cased one
        ours, theirs = lean(text.lower(), disable=["ner"]), full(text.lower(), disable=["ner"])
        assert token_view(ours) == token_view(theirs), text
        assert np.array_equal(ours.tensor, theirs.tensor), text
        assert np.array_equal(ours.vector, theirs.vector), text
        ours, theirs = entities_doc(lean, text), entities_doc(full, text)
        assert [(e.text, e.label_) for e in ours.ents] == [
            (e.text, e.label_) for e in theirs.ents
        ], text


def test_the_compact_vector_index_answers_like_a_dict() -> None:
    from callback_coach.nlu.lean_spacy import CompactKeyToRow

    plain = {2**63 + 5: 7, 3: 0, 99: 7, 2**64 - 1: 2}
    compact = CompactKeyToRow(plain)
    assert dict(compact) == plain
    assert compact.get(99) == 7 and compact.get(4, -1) == -1 and compact.get(-1) is None
    assert 2**64 - 1 in compact and 2**64 not in compact and "x" not in compact
    with pytest.raises(KeyError):
        compact[12345]


def test_the_graph_run_in_plain_order_gives_dasks_results(model_path: Path) -> None:
    from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered

    from callback_coach.graph_runner import SequentialGraphRunner

    agent = Agent.load(str(model_path))
    assert agent.processor is not None
    dask_runner = agent.processor.graph_runner
    plain = SequentialGraphRunner.__new__(SequentialGraphRunner)
    plain.__dict__.update(dask_runner.__dict__)  # the same loaded nodes

    def talk(sender: str) -> list[tuple[Any, ...]]:
        for text in ("hi", *MESSAGES[3:5], "are you a bot?", "thanks", "bye"):
            asyncio.run(agent.handle_text(text, sender_id=sender))
        tracker = asyncio.run(agent.tracker_store.retrieve(sender))
        return [
            (
                type(event).__name__,
                getattr(event, "text", None),
                getattr(event, "action_name", None),
                getattr(event, "intent_name", None),
                getattr(event, "policy", None),
            )
            for event in tracker.events
            if isinstance(event, (ActionExecuted, BotUttered, UserUttered))
        ]

    with_dask = talk("graph-dask")
    parsed_with_dask = [asyncio.run(agent.parse_message(text)) for text in MESSAGES]
    agent.processor.graph_runner = plain
    assert talk("graph-plain") == with_dask
    same_predictions(
        [asyncio.run(agent.parse_message(text)) for text in MESSAGES], parsed_with_dask
    )
