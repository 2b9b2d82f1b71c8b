"""Rasa's own tools over the project: data validation and conversation tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from actions.settings import PROJECT_ROOT

RASA = str(Path(sys.executable).parent / "rasa")


def test_conversation_tests_predict_every_step(model_path: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [
            RASA,
            "test",
            "core",
            "--model",
            str(model_path),
            "--stories",
            "tests/conversations",
            "--out",
            str(tmp_path),
            "--fail-on-prediction-errors",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    failed = tmp_path / "failed_test_stories.yml"
    details = (
        failed.read_text() if failed.exists() else result.stdout[-3000:] + result.stderr[-3000:]
    )
    assert result.returncode == 0, details
    report = (tmp_path / "story_report.json").read_text()
    assert '"conversation_accuracy"' in report or "accuracy" in report
