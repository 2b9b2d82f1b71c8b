"""Writes hashed word 7-grams of the reference texts, for the "our own words" test.

The test must run where ../shared/reference is absent, and the reference texts are not
ours to commit, so only one-way hashes of their 7-word runs are kept.

    .venv/bin/python -m scripts.reference_fingerprints \
        ../shared/reference/*.txt ../shared/reference/*.md
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Iterator
from pathlib import Path

N = 7
OUTPUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "reference_7grams.txt"


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower().replace("’", "'").replace("'", ""))


def fingerprints(text: str) -> Iterator[str]:
    tokens = words(text)
    for i in range(len(tokens) - N + 1):
        yield hashlib.sha256(" ".join(tokens[i : i + N]).encode()).hexdigest()[:16]


def main(paths: list[str]) -> int:
    found: set[str] = set()
    for path in paths:
        found.update(fingerprints(Path(path).read_text(encoding="utf-8")))
    OUTPUT.write_text("\n".join(sorted(found)) + "\n", encoding="utf-8")
    print(f"{len(found)} fingerprints from {len(paths)} files -> {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
