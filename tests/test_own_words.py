"""Everything the coach says is written in our own words: no 7-word run of the sources.

tests/data/reference_7grams.txt holds one-way hashes of every 7-word run of the
reference article and research notes (scripts/reference_fingerprints.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import yaml

from actions.settings import DEFAULT_KNOWLEDGE_FILE, PROJECT_ROOT
from scripts.reference_fingerprints import N, fingerprints, words

REFERENCE = set((PROJECT_ROOT / "tests" / "data" / "reference_7grams.txt").read_text().split())


def strings(node: object) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)


def copied_runs(text: str) -> list[str]:
    tokens = words(text)
    return [
        " ".join(tokens[i : i + N])
        for i, fingerprint in enumerate(fingerprints(text))
        if fingerprint in REFERENCE
    ]


def test_fingerprints_catch_a_copied_sentence() -> None:
    # A sentence of the article, so this test proves the check can fail.
    assert copied_runs("It is vital that you know that no, it is not you.")


def test_knowledge_file_is_in_our_own_words() -> None:
    knowledge = yaml.safe_load(DEFAULT_KNOWLEDGE_FILE.read_text(encoding="utf-8"))
    knowledge.pop("sources")  # titles of cited works are quoted on purpose
    copied = {text: copied_runs(text) for text in strings(knowledge)}
    assert {t: runs for t, runs in copied.items() if runs} == {}


def test_domain_responses_and_readme_are_in_our_own_words() -> None:
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    texts = list(strings(domain["responses"]))
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    # The README's transcript names the cited sources, which are quoted on purpose.
    knowledge = yaml.safe_load(DEFAULT_KNOWLEDGE_FILE.read_text(encoding="utf-8"))
    for source in knowledge["sources"].values():
        readme = readme.replace(source["name"], " ").replace(source["title"], " ")
    texts.append(readme)
    copied = {text[:60]: copied_runs(text) for text in texts}
    assert {t: runs for t, runs in copied.items() if runs} == {}
