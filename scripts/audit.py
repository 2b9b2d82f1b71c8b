"""`make audit`: pip-audit over the locked dependencies, with a short justified ignore list.

pip-audit runs in its own throw-away environment (`uv tool run`), not in .venv: it needs
packaging>=23, which Rasa 3.6's pins rule out (this script itself runs in .venv). It
audits the requirements that `uv export --frozen` writes from uv.lock, so what is checked
is exactly what is locked.

Fails on a known vulnerability that pip-audit-ignore.txt does not list. When pip-audit
gets no vulnerability data at all (no route to PyPI's JSON API), it says so loudly;
that fails too only with AUDIT_REQUIRE_DATA=1, since some networks allow installing
packages but not that API (docs/security.md).

Where that API is out of reach but a copy of an OSV-format advisory database is not
(a clone of github.com/pypa/advisory-database, or OSV's PyPI export unzipped),
`--advisory-db DIR` checks the same locked versions against it instead of asking
pip-audit, with the same ignore list and the same outcome.

    .venv/bin/python -m scripts.audit [--uv "python3 -m uv"] [--advisory-db DIR]
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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

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
    requirements = export_locked(uv)
    report, log = WORK_DIR / "report.json", WORK_DIR / "pip-audit.log"
    report.unlink(missing_ok=True)
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


def export_locked(uv: list[str]) -> Path:
    """requirements.txt of exactly what uv.lock pins (name==version lines)."""
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    requirements = WORK_DIR / "requirements.txt"
    export = [*uv, "export", "--frozen", "--no-hashes", "--no-emit-project", "--quiet"]
    subprocess.run([*export, "-o", str(requirements)], cwd=PROJECT_ROOT, check=True)
    return requirements


def read_pins(requirements: str) -> dict[str, str]:
    """Canonical name -> version of each `name==version` line, as `uv export --no-hashes`
    writes them (comments and environment markers after ';' are dropped)."""
    pins: dict[str, str] = {}
    for line in requirements.splitlines():
        requirement = line.split(";")[0].strip()
        if not requirement or requirement.startswith(("#", "-")):
            continue
        name, separator, version = requirement.partition("==")
        if not separator:
            raise AuditError(f"not pinned to one version: {requirement!r}")
        pins[canonicalize_name(name.strip())] = version.strip()
    return pins


def read_advisories(root: Path) -> Iterator[dict[str, Any]]:
    """Every OSV record under root: JSON (OSV's own export) or YAML (the PyPA database)."""
    if not root.is_dir():
        raise AuditError(f"advisory database {root} is not a directory")
    # libyaml's parser where PyYAML has it: the pure-Python one is far slower on the
    # ~7,000 files of the PyPA database
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for path in sorted(root.rglob("*")):
        if path.suffix not in {".json", ".yaml", ".yml"} or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        try:
            record = json.loads(text) if path.suffix == ".json" else yaml.load(text, loader)
        except (ValueError, yaml.YAMLError) as error:
            raise AuditError(f"{path}: not an OSV record: {error}") from error
        if isinstance(record, dict) and "id" in record and "affected" in record:
            yield record


def _sort_key(event: dict[str, str]) -> tuple[int, Version]:
    value = next(iter(event.values()))
    return (0, Version("0")) if value == "0" else (1, Version(value))


def in_ranges(version: str, affected: dict[str, Any]) -> bool:
    """Whether version falls in an OSV `affected` entry: listed in `versions`, or inside an
    ECOSYSTEM range (introduced <= v < fixed, or <= last_affected), evaluated as the OSV
    schema describes: events in version order, each switching the state."""
    if version in affected.get("versions", []):
        return True
    try:
        current = Version(version)
    except InvalidVersion:
        return False
    for version_range in affected.get("ranges", []):
        if version_range.get("type") != "ECOSYSTEM":
            continue  # GIT ranges name commits, not releases
        try:
            events = sorted(
                (e for e in version_range.get("events", []) if "limit" not in e), key=_sort_key
            )
        except InvalidVersion:
            continue
        vulnerable = False
        for event in events:
            if "introduced" in event:
                if event["introduced"] == "0" or current >= Version(event["introduced"]):
                    vulnerable = True
            elif "fixed" in event:
                vulnerable = vulnerable and current < Version(event["fixed"])
            elif "last_affected" in event:
                vulnerable = vulnerable and current <= Version(event["last_affected"])
        if vulnerable:
            return True
    return False


def fixed_versions(affected: dict[str, Any]) -> list[str]:
    return [
        event["fixed"]
        for version_range in affected.get("ranges", [])
        if version_range.get("type") == "ECOSYSTEM"
        for event in version_range.get("events", [])
        if "fixed" in event
    ]


def match_advisories(
    pins: dict[str, str], advisories: Iterable[dict[str, Any]], ignored: Iterable[str]
) -> dict[str, Any]:
    """A report shaped like pip-audit's JSON (so read_report decides the outcome the same
    way), with the advisories whose id or alias is ignored left out, as pip-audit does.
    Unlike pip-audit's, it also names the ignore entries that matched nothing
    (`unused_ignores`): an entry for a version no longer locked should go."""
    ignore, used = set(ignored), set()
    vulns: dict[str, list[dict[str, Any]]] = {name: [] for name in pins}
    for record in advisories:
        if record.get("withdrawn"):
            continue
        names = {record["id"], *record.get("aliases", [])}
        for affected in record["affected"]:
            package = affected.get("package", {})
            name = canonicalize_name(str(package.get("name", "")))
            if package.get("ecosystem") != "PyPI" or name not in pins:
                continue
            if not in_ranges(pins[name], affected):
                continue
            if names & ignore:
                used |= names & ignore
            else:
                vulns[name].append(
                    {
                        "id": record["id"],
                        "aliases": record.get("aliases", []),
                        "fix_versions": fixed_versions(affected),
                    }
                )
    return {
        "dependencies": [
            {"name": name, "version": version, "vulns": vulns[name]}
            for name, version in sorted(pins.items())
        ],
        "unused_ignores": sorted(ignore - used),
    }


def audit_offline(uv: list[str], ignored: dict[str, str], database: Path) -> dict[str, Any]:
    pins = read_pins(export_locked(uv).read_text(encoding="utf-8"))
    return match_advisories(pins, read_advisories(database), ignored)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--uv", default=f"{sys.executable} -m uv", help="how to run uv")
    parser.add_argument(
        "--advisory-db",
        type=Path,
        help="check against this OSV-format advisory database instead of asking pip-audit",
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        ignored = read_ignore_list()
        uv = shlex.split(args.uv)
        if args.advisory_db:
            report = audit_offline(uv, ignored, args.advisory_db)
        else:
            report = run_audit(uv, ignored)
        findings = read_report(report)
    except (AuditError, subprocess.CalledProcessError, OSError, ValueError) as error:
        print(f"audit: error: {error}", file=sys.stderr)
        return 2
    took = f"{time.monotonic() - started:.0f} s"
    for advisory in report.get("unused_ignores", []):
        print(
            f"audit: note: {IGNORE_FILE.name} lists {advisory}, which no advisory in this "
            "database holds against a locked version: remove it unless another source does",
            file=sys.stderr,
        )
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
            "probably out of reach from this network: `make audit ADVISORY_DB=DIR` checks "
            "against a copy of the advisory database instead (docs/security.md). Set "
            "AUDIT_REQUIRE_DATA=1 to fail here.",
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
