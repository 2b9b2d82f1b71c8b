"""docs/security.md names, for each attack, the tests that cover it: each named test
exists, so the table cannot point at a test that was renamed or removed."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "security.md"


def attack_rows() -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Attacks, and the tests that cover them", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| ") and "---" not in line][
        1:
    ]


def defined_tests(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.name.startswith("test_")
    }


def test_every_attack_names_tests_that_exist() -> None:
    rows = attack_rows()
    assert len(rows) >= 20
    for row in rows:
        cell = row.rstrip(" |").rsplit("|", 1)[1]
        files = re.findall(r"tests/(test_\w+\.py)|(test_\w+\.py)::", cell)
        names = re.findall(r"(?:::|`)(test_\w+)`", cell)
        assert files or names, f"no test named for: {row}"
        current = None
        for match in re.finditer(r"(?:tests/)?(test_\w+\.py)(?:::(test_\w+))?|`(test_\w+)`", cell):
            file_name, function, bare = match.groups()
            if file_name:
                current = ROOT / "tests" / file_name
                assert current.exists(), f"{file_name} is missing ({row})"
                if function:
                    assert function in defined_tests(current), f"{file_name}::{function} is missing"
            elif bare:
                assert current is not None, row
                assert bare in defined_tests(current), f"{current.name}::{bare} is missing"
