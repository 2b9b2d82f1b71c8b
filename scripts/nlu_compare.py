"""`make nlu-compare`: cross-validated intent F1 of our pipeline beside Rasa's default one.

Both configurations are trained with `rasa train nlu` on the same stratified folds of
data/nlu (every intent spread evenly over the folds, fixed seed), each fold with an
empty Rasa cache, and scored on the held-out fold exactly as the held-out tests score
(scripts/nlu_eval.py: a fallback counts as a miss). Making the folds here, rather than
with `rasa test nlu --cross-validation`, keeps the folds identical for both pipelines
and the scoring identical to the tests'.

    .venv/bin/python -m scripts.nlu_compare [--folds 3] [--only config|rasa_default_pipeline]

Takes long: the default pipeline's transformer trains 100 epochs per fold.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import subprocess
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.metrics import f1_score

from callback_coach.launcher import BIN, PROJECT_ROOT, default_environment
from scripts.nlu_eval import evaluate

CONFIGS = {
    "callback-coach (config.yml)": PROJECT_ROOT / "config.yml",
    "Rasa default pipeline": PROJECT_ROOT / "scripts" / "configs" / "rasa_default_pipeline.yml",
}
SEED = 42


def stratified_folds(examples: list[Message], folds: int) -> list[list[Message]]:
    by_intent: dict[str, list[Message]] = defaultdict(list)
    for example in examples:
        by_intent[example.get("intent")].append(example)
    rng = random.Random(SEED)
    parts: list[list[Message]] = [[] for _ in range(folds)]
    offset = 0
    for intent in sorted(by_intent):
        group = sorted(by_intent[intent], key=lambda m: m.get("text"))
        rng.shuffle(group)
        for index, example in enumerate(group):
            parts[(index + offset) % folds].append(example)
        offset += len(group)
    return parts


def cross_validate(config: Path, folds: int, out: Path) -> dict[str, float]:
    out.mkdir(parents=True, exist_ok=True)
    examples = load_data(str(PROJECT_ROOT / "data" / "nlu")).intent_examples
    parts = stratified_folds(examples, folds)
    pairs: list[tuple[str, str]] = []
    started = time.monotonic()
    for fold, test_part in enumerate(parts):
        train_part = [m for i, part in enumerate(parts) if i != fold for m in part]
        with tempfile.TemporaryDirectory() as scratch:
            work = Path(scratch)
            writer = RasaYAMLWriter()
            (work / "train.yml").write_text(writer.dumps(TrainingData(train_part)))
            (work / "test.yml").write_text(writer.dumps(TrainingData(test_part)))
            env = {**default_environment(), "RASA_CACHE_DIRECTORY": str(work / "cache")}
            with open(out / f"train-fold{fold}.log", "wb") as log:
                subprocess.run(
                    [
                        str(BIN / "rasa"),
                        "train",
                        "nlu",
                        "--config",
                        str(config),
                        "--nlu",
                        str(work / "train.yml"),
                        "--out",
                        str(work),
                        "--fixed-model-name",
                        "fold",
                    ],
                    cwd=PROJECT_ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    check=True,
                )
            result = asyncio.run(evaluate(work / "fold.tar.gz", work / "test.yml"))
        pairs += result.pairs
        print(
            f"  {config.name} fold {fold + 1}/{folds}: accuracy {result.accuracy:.3f}", flush=True
        )
    expected = [e for e, _ in pairs]
    predicted = [p for _, p in pairs]
    summary = {
        "accuracy": sum(e == p for e, p in pairs) / len(pairs),
        "macro_f1": float(
            f1_score(expected, predicted, average="macro", labels=sorted(set(expected)))
        ),
        "weighted_f1": float(f1_score(expected, predicted, average="weighted")),
        "minutes": (time.monotonic() - started) / 60,
        "folds": folds,
        "examples": len(pairs),
    }
    (out / "summary.json").write_text(json.dumps(summary))
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--only", choices=[c.stem for c in CONFIGS.values()])
    args = parser.parse_args()
    results = {}
    for name, config in CONFIGS.items():
        out = PROJECT_ROOT / "var" / "nlu-compare" / config.stem
        if args.only in (None, config.stem):
            results[name] = cross_validate(config, args.folds, out)
        elif (out / "summary.json").exists():  # from an earlier --only run
            results[name] = json.loads((out / "summary.json").read_text())
    print(f"\n{args.folds}-fold cross-validation on data/nlu (all held-out folds together):")
    print("| pipeline | accuracy | macro F1 | weighted F1 | minutes |\n|---|---|---|---|---|")
    for name, r in results.items():
        print(
            f"| {name} | {r['accuracy']:.3f} | {r['macro_f1']:.3f} | {r['weighted_f1']:.3f} "
            f"| {r['minutes']:.1f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
