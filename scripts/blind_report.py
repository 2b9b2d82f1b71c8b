"""The trained model on one part of the blind sets (tests/data/blind): intent accuracy,
the risk check, and company/person/role extraction.

    .venv/bin/python -m scripts.blind_report [--part dev|final] [--model MODEL] [--errors]

`dev` is for development; `final` is read once, at the end of a piece of work, and its
figures are reported as they come (tests/data/blind/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rasa.core.agent import Agent
from rasa.shared.nlu.training_data.loading import load_data
from rasa.utils.log_utils import configure_structlog

from actions.knowledge import parse_knowledge
from actions.settings import DEFAULT_KNOWLEDGE_FILE, PROJECT_ROOT
from actions.situation_details import message_names

BLIND = PROJECT_ROOT / "tests" / "data" / "blind"
NAMED = ("company", "person", "role")
FALLBACK = "nlu_fallback"


@dataclass
class IntentReport:
    total: int = 0
    correct: int = 0
    # Unsure messages answered with buttons for the two likeliest readings: how often
    # the right one was among them.
    fallback: int = 0
    fallback_right_in_buttons: int = 0
    errors: list[tuple[str, str, str]] = field(default_factory=list)
    # (expected, the model's ranking without the fallback) for choosing the threshold
    rankings: list[tuple[str, list[tuple[str, float]]]] = field(default_factory=list)
    by_intent: Counter[str] = field(default_factory=Counter)
    correct_by_intent: Counter[str] = field(default_factory=Counter)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0


@dataclass
class NameReport:
    true_positive: Counter[str] = field(default_factory=Counter)
    predicted: Counter[str] = field(default_factory=Counter)
    expected: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    def scores(self, labels: tuple[str, ...]) -> dict[str, float]:
        tp = sum(self.true_positive[label] for label in labels)
        predicted = sum(self.predicted[label] for label in labels)
        expected = sum(self.expected[label] for label in labels)
        precision = tp / predicted if predicted else 0.0
        recall = tp / expected if expected else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {"precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3)}


def accuracy_at(report: IntentReport, threshold: float, ambiguity: float) -> float:
    """The accuracy the same readings would have under another fallback threshold (the
    risk check aside: it runs after the fallback and is scored separately)."""
    right = 0
    for expected, ranking in report.rankings:
        if not ranking:
            continue
        top, confidence = ranking[0]
        second = ranking[1][1] if len(ranking) > 1 else 0.0
        unsure = confidence < threshold or confidence - second < ambiguity
        right += (not unsure) and top == expected
    return right / len(report.rankings) if report.rankings else 0.0


def _same_name(value: str) -> str:
    """Names compared as a person reads them: case, a leading "the" and edge punctuation
    aside ("the Mapleton Hotel" and "Mapleton Hotel." are one name)."""
    text = re.sub(r"^(?:the)\s+", "", value.strip().lower())
    return text.strip(" .,!?;:'\"()")


def _two_likeliest(parsed: dict[str, Any]) -> list[str]:
    ranking = [r["name"] for r in parsed.get("intent_ranking") or [] if r["name"] != FALLBACK]
    return ranking[:2]


async def _intents(agent: Agent, path: Path) -> IntentReport:
    report = IntentReport()
    for example in load_data(str(path)).intent_examples:
        expected, text = example.get("intent"), example.get("text")
        parsed = await agent.parse_message(text)
        predicted = parsed["intent"]["name"]
        report.total += 1
        report.by_intent[expected] += 1
        if predicted == expected:
            report.correct += 1
            report.correct_by_intent[expected] += 1
        else:
            report.errors.append((expected, predicted, text))
        ranking = [
            (r["name"], float(r["confidence"]))
            for r in parsed.get("intent_ranking") or []
            if r["name"] != FALLBACK
        ]
        report.rankings.append((expected, ranking))
        if predicted == FALLBACK:
            report.fallback += 1
            report.fallback_right_in_buttons += expected in _two_likeliest(parsed)
    return report


async def _names(agent: Agent, path: Path, not_company_names: list[str]) -> NameReport:
    report = NameReport()
    for example in load_data(str(path)).intent_examples:
        text = example.get("text")
        gold: dict[str, set[str]] = {label: set() for label in NAMED}
        for entity in example.get("entities") or []:
            if entity["entity"] in gold:
                gold[entity["entity"]].add(_same_name(str(entity["value"])))
        parsed = await agent.parse_message(text)
        found = message_names(parsed, not_company_names)
        for label in NAMED:
            predicted = {_same_name(v) for v in found[label]}
            report.expected[label] += len(gold[label])
            report.predicted[label] += len(predicted)
            report.true_positive[label] += len(predicted & gold[label])
            if predicted != gold[label]:
                report.errors.append(
                    f"{label}: expected {sorted(gold[label])} got {sorted(predicted)}: {text}"
                )
    return report


async def report(part: str, model: Path) -> dict[str, Any]:
    configure_structlog(logging.WARNING)
    agent = Agent.load(str(model))
    situations = await _intents(agent, BLIND / f"{part}_situations.yml")
    risk = await _intents(agent, BLIND / f"{part}_risk.yml")
    knowledge = parse_knowledge(DEFAULT_KNOWLEDGE_FILE)
    names = await _names(agent, BLIND / f"{part}_entities.yml", knowledge.not_company_names)
    crisis_total = risk.by_intent["crisis"]
    false_alarms = [e for e in risk.errors if e[0] != "crisis" and e[1] == "crisis"]
    return {
        "part": part,
        "situations": situations,
        "risk": risk,
        "names": names,
        "summary": {
            "intent_accuracy": round(situations.accuracy, 3),
            "situation_messages": situations.total,
            "unsure_with_buttons": situations.fallback,
            "right_reading_among_the_buttons": situations.fallback_right_in_buttons,
            "crisis_recall": round(risk.correct_by_intent["crisis"] / crisis_total, 3)
            if crisis_total
            else None,
            "crisis_messages": crisis_total,
            "false_alarms": len(false_alarms),
            "not_a_risk_messages": risk.total - crisis_total,
            "names": names.scores(NAMED),
            **{label: names.scores((label,)) for label in NAMED},
        },
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("dev", "final"), default="dev")
    parser.add_argument(
        "--model", type=Path, default=PROJECT_ROOT / "models" / "callback-coach.tar.gz"
    )
    parser.add_argument("--errors", action="store_true", help="list every miss (dev only)")
    args = parser.parse_args(argv)
    result = asyncio.run(report(args.part, args.model))
    print(json.dumps(result["summary"], indent=1))
    if args.part == "dev":
        situations_report: IntentReport = result["situations"]
        for threshold in (0.3, 0.35, 0.4, 0.45, 0.5):
            accuracy = accuracy_at(situations_report, threshold, 0.05)
            print(f"fallback threshold {threshold}: intent accuracy {accuracy:.3f}")
    if args.errors and args.part == "dev":
        situations: IntentReport = result["situations"]
        risk: IntentReport = result["risk"]
        for expected, predicted, text in situations.errors + risk.errors:
            print(f"  {expected} -> {predicted}: {text}")
        for line in result["names"].errors:
            print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
