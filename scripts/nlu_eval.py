"""Intent accuracy of a trained model on a labelled NLU file, in-process (no plots, no reports).

.venv/bin/python -m scripts.nlu_eval MODEL.tar.gz tests/data/nlu_holdout.yml
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from rasa.core.agent import Agent
from rasa.shared.nlu.training_data.loading import load_data
from rasa.utils.log_utils import configure_structlog

from actions.knowledge import SITUATIONS


@dataclass
class Evaluation:
    total: int = 0
    correct: int = 0
    out_of_scope_total: int = 0
    out_of_scope_as_situation: int = 0
    errors: list[tuple[str, str, str, float]] = field(default_factory=list)
    pairs: list[tuple[str, str]] = field(default_factory=list)  # (expected, predicted)
    by_intent: Counter[str] = field(default_factory=Counter)
    correct_by_intent: Counter[str] = field(default_factory=Counter)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0


async def evaluate(model: Path, data: Path) -> Evaluation:
    configure_structlog(logging.WARNING)
    agent = Agent.load(str(model))
    result = Evaluation()
    for example in load_data(str(data)).intent_examples:
        expected = example.get("intent")
        parsed = await agent.parse_message(example.get("text"))
        predicted = parsed["intent"]["name"]
        result.total += 1
        result.pairs.append((expected, predicted))
        result.by_intent[expected] += 1
        if predicted == expected:
            result.correct += 1
            result.correct_by_intent[expected] += 1
        else:
            result.errors.append(
                (expected, predicted, example.get("text"), parsed["intent"]["confidence"])
            )
        if expected == "out_of_scope":
            result.out_of_scope_total += 1
            result.out_of_scope_as_situation += predicted in SITUATIONS
    return result


def main(argv: list[str]) -> int:
    model, data = Path(argv[0]), Path(argv[1])
    result = asyncio.run(evaluate(model, data))
    print(
        json.dumps(
            {
                "accuracy": round(result.accuracy, 4),
                "examples": result.total,
                "out_of_scope_as_situation": result.out_of_scope_as_situation,
                "per_intent": {
                    k: round(result.correct_by_intent[k] / n, 3)
                    for k, n in sorted(result.by_intent.items())
                },
            },
            indent=1,
        )
    )
    for expected, predicted, text, confidence in result.errors:
        print(f"  {expected} -> {predicted} ({confidence:.2f}): {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
