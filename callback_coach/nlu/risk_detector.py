"""Recognises a person who may be in danger, whatever intent the model chose.

A graph component that runs last in the NLU pipeline (after the FallbackClassifier), so
it sees the final intent. A message with a phrase from `risk` in knowledge/risk.yml
becomes the `crisis` intent, and so gets the care reply (rule: crisis → utter_crisis),
even when the model read it as a rejection, out of scope or unclear. A message the
model read as `crisis` that holds only an everyday figure of speech from `not_a_risk`
("dying to know", "this is killing me"), or that the model alone is unsure of, is
answered as discouraged feelings instead.
Anything else keeps the model's reading. When in doubt, add a risk phrase: a phrase always
wins, and a care reply someone did not need is far better than silence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PHRASES_FILE = "knowledge/risk.yml"
CRISIS = "crisis"
NOT_A_RISK = "feeling_discouraged"
_APOSTROPHES = re.compile(r"[’‘`´]")


def _pattern(phrases: list[str]) -> re.Pattern[str] | None:
    """One pattern for all phrases: whole words, `*` at the end for any ending, and an
    apostrophe that may be typed or left out."""
    parts = []
    for phrase in phrases:
        text = _APOSTROPHES.sub("'", str(phrase).strip().lower())
        prefix = text.endswith("*")
        words = re.escape(text.rstrip("*").strip()).replace("'", "'?")
        words = re.sub(r"(\\ )+", r"\\s+", words)
        if words:
            parts.append(rf"(?<!\w){words}" + ("" if prefix else r"(?!\w)"))
    return re.compile("|".join(parts)) if parts else None


@dataclass(frozen=True)
class RiskPhrases:
    risk: re.Pattern[str] | None
    not_a_risk: re.Pattern[str] | None
    # Set phrases that hold a risk phrase but are not one ("career suicide", "killing
    # myself over these applications"): taken out before the risk phrases are looked for.
    idioms: re.Pattern[str] | None = None

    @classmethod
    def load(cls, path: Path) -> RiskPhrases:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        risk = data.get("risk") or []
        if not isinstance(risk, list) or not risk:
            raise ValueError(f"{path}: `risk` must be a list of phrases")
        return cls(
            _pattern(risk),
            _pattern(list(data.get("not_a_risk") or [])),
            _pattern(list(data.get("idioms") or [])),
        )

    def assess(
        self,
        text: str,
        intent: str | None,
        confidence: float = 1.0,
        min_confidence: float = 0.0,
    ) -> str | None:
        """The intent this message must have instead of `intent`, or None to keep it.

        A crisis reading with no risk phrase stands only when the model is at least
        `min_confidence` sure of it; below that it is read as strong feelings.
        """
        said = _APOSTROPHES.sub("'", text.lower())
        if self.idioms is not None:
            said = self.idioms.sub(" ", said)
        if self.risk is not None and self.risk.search(said):
            return None if intent == CRISIS else CRISIS
        if intent != CRISIS:
            return None
        if self.not_a_risk is not None and self.not_a_risk.search(said):
            return NOT_A_RISK
        return NOT_A_RISK if confidence < min_confidence else None


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class RiskDetector(GraphComponent, IntentClassifier):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # relative to the project, not to the folder the server was started in
        # The model alone (no risk phrase) makes a crisis only when at least this sure:
        # its unsure crisis readings were strong figures of speech ("at the end of my
        # rope with these recruiters"), its genuine ones 0.96 or more (blind dev set).
        return {"phrases_file": DEFAULT_PHRASES_FILE, "model_only_min_confidence": 0.9}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RiskDetector:
        return cls(config)

    def __init__(self, config: dict[str, Any]) -> None:
        path = Path(config.get("phrases_file") or DEFAULT_PHRASES_FILE)
        self.phrases = RiskPhrases.load(path if path.is_absolute() else PROJECT_ROOT / path)
        self.min_confidence = float(config.get("model_only_min_confidence") or 0.0)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str):
                continue
            current = message.get(INTENT) or {}
            instead = self.phrases.assess(
                text,
                current.get(INTENT_NAME_KEY),
                float(current.get(PREDICTED_CONFIDENCE_KEY) or 0.0),
                self.min_confidence,
            )
            if instead is not None:
                _set_intent(message, instead)
        return messages


def _set_intent(message: Message, name: str) -> None:
    """`name` with full confidence, first in the ranking, the model's guesses after it."""
    chosen = {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: 1.0}
    message.set(INTENT, chosen, add_to_output=True)
    ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != name]
    message.set(INTENT_RANKING_KEY, [chosen, *ranking], add_to_output=True)
