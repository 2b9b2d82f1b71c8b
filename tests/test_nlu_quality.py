"""The model on held-out messages nobody trained on, in-process with the real model.

tests/data/nlu_holdout.yml was written without sight of the training data (and then
used to choose the pipeline); tests/data/nlu_holdout_2.yml was written later, blind
to both, and used for nothing else.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from actions.settings import PROJECT_ROOT
from scripts.nlu_eval import Evaluation, evaluate

HOLDOUTS = ("nlu_holdout.yml", "nlu_holdout_2.yml")


@pytest.fixture(scope="module")
def evaluations(model_path: Path) -> dict[str, Evaluation]:
    return {
        name: asyncio.run(evaluate(model_path, PROJECT_ROOT / "tests" / "data" / name))
        for name in HOLDOUTS
    }


@pytest.mark.parametrize("holdout", HOLDOUTS)
def test_intent_accuracy_on_unseen_messages(
    evaluations: dict[str, Evaluation], holdout: str
) -> None:
    result = evaluations[holdout]
    assert result.total >= 200
    errors = "\n".join(f"{e} -> {p}: {t}" for e, p, t, _ in result.errors)
    assert result.accuracy >= 0.90, errors


@pytest.mark.parametrize("holdout", HOLDOUTS)
def test_out_of_scope_is_rarely_taken_for_a_situation(
    evaluations: dict[str, Evaluation], holdout: str
) -> None:
    result = evaluations[holdout]
    assert result.out_of_scope_total >= 40
    assert result.out_of_scope_as_situation / result.out_of_scope_total <= 0.05
