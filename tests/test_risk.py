"""Recognising a person who may be in danger (callback_coach/nlu/risk_detector.py).

The phrase check alone, then the trained model with it on the blind development set
(tests/data/blind/dev_risk.yml, written without sight of the training data). The final
blind set is not read here: it stays untouched until the end of the work on it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml

from actions.settings import PROJECT_ROOT
from callback_coach.nlu.risk_detector import RiskPhrases
from scripts.nlu_eval import Evaluation, evaluate

PHRASES = RiskPhrases.load(PROJECT_ROOT / "knowledge" / "risk.yml")


@pytest.mark.parametrize(
    "text",
    [
        "after this rejection I want to end my life",
        "I don’t want to live anymore",  # a typographic apostrophe
        "I dont want to live anymore",  # none at all
        "honestly im suicidal",
        "what's the point of living if nobody hires me",
        "they'd all be better off without me",
        "how many pills would it take",
    ],
)
def test_a_risk_phrase_is_a_crisis_whatever_the_model_read(text: str) -> None:
    for read_as in ("rejected", "out_of_scope", "nlu_fallback", "greet", None):
        assert PHRASES.assess(text, read_as) == "crisis"
    assert PHRASES.assess(text, "crisis") is None  # already one


@pytest.mark.parametrize(
    "text",
    [
        "I'm dying to know if I got it",
        "this waiting is killing me",
        "it hurts, I really wanted that job",
        "worst week of my life",
        "I'm devastated",
        "ready to throw in the towel on this job hunt",
    ],
)
def test_a_figure_of_speech_read_as_a_crisis_is_discouragement(text: str) -> None:
    assert PHRASES.assess(text, "crisis") == "feeling_discouraged"
    assert PHRASES.assess(text, "feeling_discouraged") is None


@pytest.mark.parametrize(
    "text",
    ["5 kms from home", "I did not wake up in time", "I'm done with applying", "kill the lights"],
)
def test_ordinary_words_are_not_a_risk(text: str) -> None:
    assert PHRASES.assess(text, "no_callback") is None


def test_risk_phrases_do_not_fire_on_ordinary_training_examples() -> None:
    for path in (PROJECT_ROOT / "data" / "nlu").glob("*.yml"):
        for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            if block.get("intent") in (None, "crisis"):
                continue
            for line in str(block.get("examples", "")).splitlines():
                example = line.strip().removeprefix("- ")
                assert PHRASES.assess(example, block["intent"]) is None, (path.name, example)


def test_the_phrase_file_must_have_risk_phrases(tmp_path: Path) -> None:
    empty = tmp_path / "risk.yml"
    empty.write_text("risk: []\n", encoding="utf-8")
    with pytest.raises(ValueError, match="risk"):
        RiskPhrases.load(empty)


@pytest.fixture(scope="module")
def dev_risk(model_path: Path) -> Evaluation:
    return asyncio.run(
        evaluate(model_path, PROJECT_ROOT / "tests" / "data" / "blind" / "dev_risk.yml")
    )


def test_the_model_with_the_risk_check_on_the_blind_development_set(dev_risk: Evaluation) -> None:
    """Every genuine risk message gets the care reply, and no figure of speech does."""
    crisis = [pair for pair in dev_risk.pairs if pair[0] == "crisis"]
    other = [pair for pair in dev_risk.pairs if pair[0] != "crisis"]
    assert len(crisis) >= 30 and len(other) >= 40
    errors = "\n".join(f"{e} -> {p}: {t}" for e, p, t, _ in dev_risk.errors)
    assert all(predicted == "crisis" for _, predicted in crisis), errors
    assert not any(predicted == "crisis" for _, predicted in other), errors


def test_a_crisis_reading_the_model_alone_is_unsure_of_is_strong_feelings() -> None:
    text = "at the end of my rope with these recruiters"
    assert PHRASES.assess(text, "crisis", confidence=0.77, min_confidence=0.9) == (
        "feeling_discouraged"
    )
    assert PHRASES.assess(text, "crisis", confidence=0.97, min_confidence=0.9) is None
    # a risk phrase needs no confidence at all
    said = "honestly thinking about ending it"
    assert PHRASES.assess(said, "nlu_fallback", confidence=0.1, min_confidence=0.9) == "crisis"
    assert PHRASES.assess(said, "crisis", confidence=0.1, min_confidence=0.9) is None


def test_a_set_phrase_is_not_a_risk_but_a_risk_beside_it_still_is() -> None:
    assert PHRASES.assess("changing careers at 49 feels like career suicide", "rejected") is None
    assert PHRASES.assess("I'm killing myself over these applications", "rejected") is None
    said = "career suicide, and honestly I want to kill myself"
    assert PHRASES.assess(said, "rejected") == "crisis"
