"""en_core_web_md for serving in about half the memory, with identical results.

Loaded the way Rasa's SpacyNLP does it, the model costs the Rasa server ~250 MB, most
of it in two tables that serving never reads whole:

- the string table (709,000 strings, ~140 MB): spaCy only needs a string back for a
  hash it has met, and every word of a message, every lemma and every label is added
  when it is met; the table is skipped (and the unused parser with it);
- the vector index (684,000 word hashes mapped to 20,000 rows, ~80 MB as a Python
  dict): kept as two sorted arrays (~8 MB) and searched, a few microseconds a word;
  the freed memory is then handed back to the system (malloc_trim).

It is also loaded once per process. Rasa's prediction graph has two SpacyNLP nodes,
one that provides the model and one that runs it on messages, and each builds its own
SpacyNLP: a second copy of the model (~60 MB) that nothing reads, since the running
node is handed the provided one.

tests/test_nlu_components.py checks that tokens, lemmas, tags, vectors and entities
are the same as with the full model on every training and held-out message.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import gc
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import spacy
from rasa.nlu.utils.spacy_utils import SpacyModel, SpacyNLP
from spacy.language import Language

ORIGINAL_LOAD_MODEL = SpacyNLP.load_model
MAX_KEY = 2**64


class CompactKeyToRow(Mapping[int, int]):
    """A read-only stand-in for spaCy's `Vectors.key2row` dict."""

    def __init__(self, key_to_row: Mapping[int, int]) -> None:
        keys = np.fromiter(key_to_row.keys(), dtype=np.uint64, count=len(key_to_row))
        rows = np.fromiter(key_to_row.values(), dtype=np.int64, count=len(key_to_row))
        order = np.argsort(keys)
        self._keys = keys[order]
        self._rows = rows[order].astype(np.int32)

    def __getitem__(self, key: Any) -> int:
        try:
            number = int(key)
        except (TypeError, ValueError):
            raise KeyError(key) from None
        if 0 <= number < MAX_KEY:
            index = int(np.searchsorted(self._keys, np.uint64(number)))
            if index < len(self._keys) and int(self._keys[index]) == number:
                return int(self._rows[index])
        raise KeyError(key)

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[int]:
        return (int(key) for key in self._keys)


def lean_language(spacy_model_name: str) -> Language:
    language = spacy.load(spacy_model_name, exclude=["parser", "strings"])
    vectors = language.vocab.vectors
    vectors.key2row = CompactKeyToRow(vectors.key2row)
    release_freed_memory()
    return language


def release_freed_memory() -> None:
    """Hands the memory of the replaced index back to the system: glibc keeps freed
    heap pages otherwise, and the process would look as big as before."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to trim
        ctypes.CDLL("libc.so.6").malloc_trim(0)


# Shared read-only: spaCy only adds the strings of new words to the vocabulary.
@functools.cache
def load_lean_model(spacy_model_name: str) -> SpacyModel:
    """SpacyNLP.load_model with the lean tables, loaded once per model name; Rasa's own
    loading (and its errors) for a missing or incompatible model."""
    try:
        language = lean_language(spacy_model_name)
    except OSError:
        return ORIGINAL_LOAD_MODEL(spacy_model_name)
    required = language.meta.get("spacy_version", "")
    if not spacy.util.is_compatible_version(spacy.about.__version__, required):
        return ORIGINAL_LOAD_MODEL(spacy_model_name)
    return SpacyModel(model=language, model_name=spacy_model_name)


def install() -> None:
    SpacyNLP.load_model = staticmethod(load_lean_model)
