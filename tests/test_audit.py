"""`make audit`: the ignore list is well-formed and justified, and pip-audit's report
decides the outcome as documented (the real pip-audit run is `make audit` itself)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scripts import audit

CLEAN = {"dependencies": [{"name": "requests", "version": "2.34.2", "vulns": []}]}
VULNERABLE = {
    "dependencies": [
        {"name": "requests", "version": "2.34.2", "vulns": []},
        {
            "name": "aiohttp",
            "version": "3.9.5",
            "vulns": [{"id": "GHSA-8495-4g3g-x7pr", "fix_versions": ["3.10.11"], "aliases": []}],
        },
    ]
}
NO_DATA = {
    "dependencies": [
        {"name": name, "skip_reason": f"Dependency not found on PyPI: {name}"}
        for name in ("absl-py", "aiohttp")
    ]
}


def test_the_ignore_list_is_short_and_every_entry_is_justified() -> None:
    entries = audit.read_ignore_list()
    assert 0 < len(entries) <= 20
    for advisory, reason in entries.items():
        assert audit.ADVISORY_ID.match(advisory)
        assert len(reason.split()) >= audit.MIN_JUSTIFICATION_WORDS, advisory


@pytest.mark.parametrize(
    "line, problem",
    [
        ("CVE-2024-1 too short an id but a long enough reason for the rule", "not a PYSEC"),
        ("CVE-2024-52304", "needs a justification"),
        ("CVE-2024-52304 because", "needs a justification"),
        ("pysec-2024-1 lower case ids are not what pip-audit prints here", "not a PYSEC"),
    ],
)
def test_a_bad_ignore_line_is_an_error(tmp_path: Path, line: str, problem: str) -> None:
    path = tmp_path / "ignore.txt"
    path.write_text(f"# comment\n\n{line}\n")
    with pytest.raises(audit.AuditError, match=problem):
        audit.read_ignore_list(path)


def test_a_duplicate_entry_is_an_error(tmp_path: Path) -> None:
    line = "CVE-2024-52304 the server-side parser is not used by this project at all\n"
    path = tmp_path / "ignore.txt"
    path.write_text(line * 2)
    with pytest.raises(audit.AuditError, match="twice"):
        audit.read_ignore_list(path)


def run_main(
    monkeypatch: pytest.MonkeyPatch, report: dict[str, Any], require_data: bool = False
) -> int:
    monkeypatch.setattr(audit, "run_audit", lambda uv, ignored: report)
    if require_data:
        monkeypatch.setenv("AUDIT_REQUIRE_DATA", "1")
    else:
        monkeypatch.delenv("AUDIT_REQUIRE_DATA", raising=False)
    return audit.main(["--uv", "uv"])


def test_a_vulnerability_not_in_the_list_fails_the_audit(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_main(monkeypatch, VULNERABLE) == 1
    assert "aiohttp 3.9.5: GHSA-8495-4g3g-x7pr, fixed in 3.10.11" in capsys.readouterr().err


def test_a_clean_report_passes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_main(monkeypatch, CLEAN) == 0
    assert "1 locked packages, no known vulnerability" in capsys.readouterr().out


def test_no_vulnerability_data_is_said_loudly_and_fails_when_required(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_main(monkeypatch, NO_DATA) == 0
    assert "NOT AUDITED" in capsys.readouterr().err
    assert run_main(monkeypatch, NO_DATA, require_data=True) == 1
