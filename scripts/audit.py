"""`make audit`: pip-audit over the locked dependencies, with a short justified ignore list.

pip-audit runs in its own throw-away environment (`uv tool run`), not in .venv: it needs
packaging>=23, which Rasa 3.6's pins rule out. It audits the requirements that
`uv export --frozen` writes from uv.lock, so what is checked is exactly what is locked.

Fails on a known vulnerability that pip-audit-ignore.txt does not list. When pip-audit
gets no vulnerability data at all (no route to PyPI's JSON API), it says so loudly;
that fails too only with AUDIT_REQUIRE_DATA=1, since some networks allow installing
packages but not that API (docs/security.md).

    python3 -m scripts.audit [--uv "python3 -m uv"]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PIP_AUDIT = "pip-audit==2.10.1"
IGNORE_FILE = PROJECT_ROOT / "pip-audit-ignore.txt"
WORK_DIR = PROJECT_ROOT / "var" / "audit"
ADVISORY_ID = re.compile(
    r"^(PYSEC-\d{4}-\d+|GHSA(-[23456789cfghjmpqrvwx]{4}){3}|CVE-\d{4}-\d{4,})$"
)
# A justification says what the flaw is and why it does not matter here.
MIN_JUSTIFICATION_WORDS = 8


class AuditError(RuntimeError):
    """The audit could not run or its inputs are malformed."""


def read_ignore_list(path: Path = IGNORE_FILE) -> dict[str, str]:
    """Advisory id -> justification; a malformed or unjustified line is an error."""
    entries: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        advisory, _, reason = line.partition(" ")
        where = f"{path.name}:{number}"
        if not ADVISORY_ID.match(advisory):
            raise AuditError(f"{where}: {advisory!r} is not a PYSEC-, GHSA- or CVE- id")
        if len(reason.split()) < MIN_JUSTIFICATION_WORDS:
            raise AuditError(f"{where}: {advisory} needs a justification after the id")
        if advisory in entries:
            raise AuditError(f"{where}: {advisory} is listed twice")
        entries[advisory] = reason.strip()
    return entries


@dataclass
class Findings:
    vulnerable: list[str] = field(default_factory=list)  # "name version id (fix: ...)"
    audited: int = 0
    skipped: dict[str, str] = field(default_factory=dict)  # name -> why

    @property
    def no_data(self) -> bool:
        """pip-audit could check nothing: every package was skipped."""
        return self.audited == 0 and bool(self.skipped)


def read_report(report: dict[str, Any]) -> Findings:
    """The parts of pip-audit's JSON report (-f json) that decide the outcome; pip-audit
    has already dropped the ignored advisories."""
    findings = Findings()
    for dependency in report.get("dependencies", []):
        name = f"{dependency.get('name')} {dependency.get('version', '')}".strip()
        if dependency.get("skip_reason"):
            findings.skipped[name] = str(dependency["skip_reason"])
            continue
        findings.audited += 1
        for vuln in dependency.get("vulns", []):
            fixes = ", ".join(vuln.get("fix_versions") or []) or "none yet"
            aliases = ", ".join(vuln.get("aliases") or [])
            findings.vulnerable.append(
                f"{name}: {vuln.get('id')}"
                + (f" ({aliases})" if aliases else "")
                + f", fixed in {fixes}"
            )
    return findings


def run_audit(uv: list[str], ignored: dict[str, str]) -> dict[str, Any]:
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    requirements, report = WORK_DIR / "requirements.txt", WORK_DIR / "report.json"
    log = WORK_DIR / "pip-audit.log"
    report.unlink(missing_ok=True)
    export = [*uv, "export", "--frozen", "--no-hashes", "--no-emit-project", "--quiet"]
    subprocess.run([*export, "-o", str(requirements)], cwd=PROJECT_ROOT, check=True)
    command = [
        *uv,
        "tool",
        "run",
        "--from",
        PIP_AUDIT,
        "pip-audit",
        "--disable-pip",  # the lock pins every package: nothing to resolve
        "--no-deps",
        "--progress-spinner=off",
        "--format=json",
        f"--output={report}",
        f"--requirement={requirements}",
        *(f"--ignore-vuln={advisory}" for advisory in ignored),
    ]
    with log.open("w") as output:
        subprocess.run(command, cwd=PROJECT_ROOT, stdout=output, stderr=subprocess.STDOUT)
    if not report.exists():  # pip-audit writes the report whenever it got that far
        raise AuditError(f"pip-audit did not finish; see {log}")
    data: dict[str, Any] = json.loads(report.read_text())
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--uv", default=f"{sys.executable} -m uv", help="how to run uv")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        ignored = read_ignore_list()
        findings = read_report(run_audit(shlex.split(args.uv), ignored))
    except (AuditError, subprocess.CalledProcessError, OSError, ValueError) as error:
        print(f"audit: error: {error}", file=sys.stderr)
        return 2
    took = f"{time.monotonic() - started:.0f} s"
    if findings.vulnerable:
        print("audit: known vulnerabilities in the locked dependencies:", file=sys.stderr)
        for line in findings.vulnerable:
            print(f"  {line}", file=sys.stderr)
        print(
            "Upgrade the package in pyproject.toml/uv.lock, or, where Rasa's pins forbid it "
            "and the flaw does not apply, add its id and why to pip-audit-ignore.txt.",
            file=sys.stderr,
        )
        return 1
    if findings.no_data:
        reason = next(iter(findings.skipped.values()))
        print(
            f"audit: WARNING: NOT AUDITED. pip-audit got no vulnerability data for any of "
            f"the {len(findings.skipped)} locked packages ({reason}). PyPI's JSON API is "
            "probably out of reach from this network. Set AUDIT_REQUIRE_DATA=1 to fail here.",
            file=sys.stderr,
        )
        return 1 if os.environ.get("AUDIT_REQUIRE_DATA") == "1" else 0
    for name, reason in findings.skipped.items():
        print(f"audit: not audited: {name}: {reason}", file=sys.stderr)
    print(
        f"audit: {findings.audited} locked packages, no known vulnerability "
        f"beyond the {len(ignored)} justified in pip-audit-ignore.txt ({took})."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
