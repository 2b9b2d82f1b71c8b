"""`make audit`: the ignore list is well-formed and justified, and pip-audit's report
decides the outcome as documented (the real pip-audit run is `make audit` itself)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from scripts import audit

RASA_VALUES = audit.PROJECT_ROOT / "deploy" / "helm" / "rasa-values.yaml"

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
    assert 0 < len(entries) <= 25
    for advisory, reason in entries.items():
        assert audit.ADVISORY_ID.match(advisory)
        assert len(reason.split()) >= audit.MIN_JUSTIFICATION_WORDS, advisory


def test_temporary_folders_are_made_inside_the_project(tmp_path: Path) -> None:
    """What the pytest entry of the ignore list relies on (tests/conftest.py)."""
    assert tmp_path.resolve().is_relative_to(audit.PROJECT_ROOT / "var" / "tmp")


def test_the_cors_origins_we_document_are_compared_exactly() -> None:
    """What the sanic-cors entry relies on: a plain origin is compared whole, and only a
    pattern has the unanchored match of CVE-2026-37737."""
    from sanic_cors.core import try_match

    values = yaml.safe_load(RASA_VALUES.read_text(encoding="utf-8"))
    args = values["args"]
    documented = [args[args.index("--cors") + 1]]
    readme = (audit.PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    documented += re.findall(r"--cors (\S+?)`", readme)
    assert len(documented) == 2
    for origin in documented:
        assert try_match(origin, origin)
        assert not try_match(origin + ".evil.test", origin), origin
    # the flaw itself, so this test notices if sanic-cors changes how it decides
    assert try_match("https://coach.example.org.evil.test", r"https://coach\.example\.org")


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


# --- --advisory-db: the same lock checked against a local OSV-format database ---


def osv_record(
    advisory: str, package: str, events: list[dict[str, str]], **more: Any
) -> dict[str, Any]:
    return {
        "id": advisory,
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": package},
                "ranges": [{"type": "ECOSYSTEM", "events": events}],
            }
        ],
        **more,
    }


@pytest.mark.parametrize(
    "version, events, affected",
    [
        ("3.9.5", [{"introduced": "0"}, {"fixed": "3.10.11"}], True),
        ("3.10.11", [{"introduced": "0"}, {"fixed": "3.10.11"}], False),
        ("3.9.5", [{"introduced": "3.10.0"}, {"fixed": "3.10.11"}], False),
        ("2.0.1", [{"introduced": "0"}, {"last_affected": "2.2.0"}], True),
        ("2.2.0", [{"introduced": "0"}, {"last_affected": "2.2.0"}], True),
        ("2.2.1", [{"introduced": "0"}, {"last_affected": "2.2.0"}], False),
        ("0.9.0", [{"introduced": "0"}], True),  # no fix released yet
        # two ranges in one entry, events out of order: between them is safe
        (
            "1.5",
            [{"fixed": "2.1"}, {"introduced": "2.0"}, {"introduced": "0"}, {"fixed": "1.2"}],
            False,
        ),
        (
            "2.0.5",
            [{"fixed": "2.1"}, {"introduced": "2.0"}, {"introduced": "0"}, {"fixed": "1.2"}],
            True,
        ),
        (
            "1.1",
            [{"fixed": "2.1"}, {"introduced": "2.0"}, {"introduced": "0"}, {"fixed": "1.2"}],
            True,
        ),
        ("2.12.0", [{"introduced": "2.12.0rc0"}, {"fixed": "2.12.1"}], True),
    ],
)
def test_osv_ranges_are_evaluated_as_the_schema_says(
    version: str, events: list[dict[str, str]], affected: bool
) -> None:
    record = osv_record("PYSEC-2099-1", "demo", events)
    assert audit.in_ranges(version, record["affected"][0]) is affected


def test_a_version_listed_by_the_record_is_affected_whatever_its_ranges() -> None:
    entry = {"package": {"ecosystem": "PyPI", "name": "demo"}, "versions": ["1.0"], "ranges": []}
    assert audit.in_ranges("1.0", entry)
    assert not audit.in_ranges("1.1", entry)


def write_database(root: Path) -> None:
    """A small database in both layouts: the PyPA repository's YAML per package, and
    OSV's flat JSON export."""
    (root / "vulns" / "aiohttp").mkdir(parents=True)
    (root / "vulns" / "aiohttp" / "PYSEC-2099-10.yaml").write_text(
        "id: PYSEC-2099-10\n"
        "aliases: [CVE-2099-1000]\n"
        "affected:\n"
        "- package: {ecosystem: PyPI, name: aiohttp}\n"
        "  ranges:\n"
        "  - type: GIT\n"
        "    repo: https://example.invalid/aiohttp\n"
        "    events: [{introduced: '0'}, {fixed: 0123abc}]\n"
        "  - type: ECOSYSTEM\n"
        "    events: [{introduced: '0'}, {fixed: 3.10.11}]\n"
    )
    records = [
        # a different spelling of a locked name still matches (PEP 503)
        osv_record("GHSA-2222-3333-4444", "Sanic_CORS", [{"introduced": "0"}]),
        # withdrawn advisories and other ecosystems are not findings
        osv_record("PYSEC-2099-11", "requests", [{"introduced": "0"}], withdrawn="2099-01-01"),
        {
            **osv_record("GHSA-5555-6666-7777", "requests", [{"introduced": "0"}]),
            "affected": [
                {
                    "package": {"ecosystem": "npm", "name": "requests"},
                    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}],
                }
            ],
        },
        osv_record("PYSEC-2099-12", "requests", [{"introduced": "0"}, {"fixed": "2.0"}]),
    ]
    for record in records:
        (root / f"{record['id']}.json").write_text(json.dumps(record))
    (root / "README.md").write_text("not a record")


PINS = {"aiohttp": "3.9.5", "sanic-cors": "2.0.1", "requests": "2.34.2"}


def test_the_database_finds_what_affects_the_pins(tmp_path: Path) -> None:
    write_database(tmp_path)
    report = audit.match_advisories(PINS, audit.read_advisories(tmp_path), ignored=[])
    found = {d["name"]: [v["id"] for v in d["vulns"]] for d in report["dependencies"]}
    assert found == {
        "aiohttp": ["PYSEC-2099-10"],
        "requests": [],
        "sanic-cors": ["GHSA-2222-3333-4444"],
    }
    aiohttp = next(d for d in report["dependencies"] if d["name"] == "aiohttp")
    assert aiohttp["vulns"][0]["fix_versions"] == ["3.10.11"]  # not the GIT commit
    assert audit.read_report(report).audited == 3


def test_an_ignored_alias_drops_the_advisory_as_pip_audit_does(tmp_path: Path) -> None:
    write_database(tmp_path)
    report = audit.match_advisories(
        PINS, audit.read_advisories(tmp_path), ignored=["CVE-2099-1000", "GHSA-2222-3333-4444"]
    )
    assert audit.read_report(report).vulnerable == []
    assert report["unused_ignores"] == []


def test_an_ignore_entry_that_matches_nothing_locked_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_database(tmp_path)
    # PYSEC-2099-12 exists but affects requests < 2.0 only; CVE-2099-9 is in no record
    stale = ["PYSEC-2099-12", "CVE-2099-9"]
    report = audit.match_advisories(PINS, audit.read_advisories(tmp_path), ignored=stale)
    assert report["unused_ignores"] == ["CVE-2099-9", "PYSEC-2099-12"]
    monkeypatch.setattr(audit, "run_audit", lambda uv, ignored: report)
    monkeypatch.setattr(audit, "read_ignore_list", lambda: dict.fromkeys(stale, "why"))
    assert audit.main(["--uv", "uv"]) == 1  # aiohttp and sanic-cors are not ignored
    assert (
        "lists PYSEC-2099-12, which no advisory in this database holds" in capsys.readouterr().err
    )


def test_a_broken_database_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(audit.AuditError, match="not a directory"):
        list(audit.read_advisories(tmp_path / "missing"))
    (tmp_path / "PYSEC-2099-13.json").write_text("{ not json")
    with pytest.raises(audit.AuditError, match="PYSEC-2099-13.json: not an OSV record"):
        list(audit.read_advisories(tmp_path))


def test_the_exported_lock_is_read_as_exact_pins() -> None:
    exported = (
        "# This file was autogenerated by uv\n"
        "absl-py==1.4.0\n"
        "    # via\n"
        "    #   rasa\n"
        "tensorflow-io-gcs-filesystem==0.32.0 ; sys_platform == 'linux'\n"
        "Sanic_CORS==2.0.1\n"
    )
    assert audit.read_pins(exported) == {
        "absl-py": "1.4.0",
        "tensorflow-io-gcs-filesystem": "0.32.0",
        "sanic-cors": "2.0.1",
    }
    with pytest.raises(audit.AuditError, match="not pinned"):
        audit.read_pins("requests>=2\n")


def test_main_with_a_database_reports_through_the_same_outcome(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_database(tmp_path)
    exported = tmp_path / "requirements.txt"
    exported.write_text("".join(f"{name}=={version}\n" for name, version in PINS.items()))
    monkeypatch.setattr(audit, "export_locked", lambda uv: exported)
    monkeypatch.setattr(audit, "read_ignore_list", lambda: {})
    assert audit.main(["--uv", "uv", "--advisory-db", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "aiohttp 3.9.5: PYSEC-2099-10 (CVE-2099-1000), fixed in 3.10.11" in err
    assert "sanic-cors 2.0.1: GHSA-2222-3333-4444, fixed in none yet" in err
    assert "requests" not in err


def test_make_audit_with_a_database_checks_the_real_lock(tmp_path: Path) -> None:
    """The whole path: make's ADVISORY_DB, uv's export of uv.lock, the matcher, the outcome."""

    def make_audit(database: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["make", "--no-print-directory", "audit", f"ADVISORY_DB={database}"],
            cwd=audit.PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )

    empty = tmp_path / "empty"
    empty.mkdir()
    clean = make_audit(empty)
    assert clean.returncode == 0, clean.stderr
    assert "no known vulnerability beyond the" in clean.stdout
    # with no records, every ignore entry is named as matching nothing
    assert clean.stderr.count("which no advisory in this database holds") == len(
        audit.read_ignore_list()
    )

    one = tmp_path / "one"
    one.mkdir()
    # absl-py is locked by TensorFlow; a made-up advisory against every version of it
    record = osv_record("PYSEC-2099-20", "absl-py", [{"introduced": "0"}])
    (one / "PYSEC-2099-20.json").write_text(json.dumps(record))
    found = make_audit(one)
    assert found.returncode != 0  # make reports the script's 1 as its own 2
    assert "absl-py 1.4.0: PYSEC-2099-20, fixed in none yet" in found.stderr
