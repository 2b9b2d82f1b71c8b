"""SpacyEntityExtractor without the second full spaCy pass per message.

Rasa's extractor runs the whole spaCy pipeline again on every message, because SpacyNLP
lower-cases text by default and named entities need the cased text. Only the entity
recogniser (and whatever feeds it) is needed for that: in en_core_web_md the recogniser
has its own embedding layer, so the tagger, lemmatiser and shared tok2vec are skipped,
for identical entities in about 60 % of the time. When SpacyNLP is case-sensitive, its
document is reused and spaCy is not run again at all.

(We keep SpacyNLP lower-cased: a cased SpacyNLP scored slightly lower in
cross-validation and on the held-out sets.)
"""

from __future__ import annotations

import functools
from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.constants import SPACY_DOCS
from rasa.nlu.extractors.spacy_entity_extractor import SpacyEntityExtractor
from rasa.nlu.utils.spacy_utils import SpacyModel
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from spacy.language import Language
from spacy.tokens import Doc

ENTITY_PIPES = {"ner", "entity_ruler"}


@functools.lru_cache(maxsize=4)
def entity_pipeline(nlp: Language) -> tuple[tuple[str, Any], ...]:
    """The pipes that produce `doc.ents`, with any shared layer they listen to
    (worked out once per loaded spaCy model, not per message)."""
    needed = set(ENTITY_PIPES)
    for name, pipe in nlp.pipeline:
        if needed & set(getattr(pipe, "listening_components", ())):
            needed.add(name)
    return tuple((name, pipe) for name, pipe in nlp.pipeline if name in needed)


def entities_doc(nlp: Language, text: str) -> Doc:
    doc = nlp.make_doc(text)
    for _, pipe in entity_pipeline(nlp):
        doc = pipe(doc)
    return doc


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR,
    is_trainable=False,
    model_from="SpacyNLP",
)
class SharedDocSpacyEntityExtractor(SpacyEntityExtractor):
    def process(self, messages: list[Message], model: SpacyModel) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            doc = message.get(SPACY_DOCS[TEXT])
            # Reused only when it is the cased text and the recogniser ran on it.
            if doc is None or doc.text != text or not doc.has_annotation("ENT_IOB"):
                doc = entities_doc(model.model, text)
            extracted = self.filter_irrelevant_entities(
                self.add_extractor_name(self._extract_entities(doc)), self._config["dimensions"]
            )
            message.set(ENTITIES, message.get(ENTITIES, []) + extracted, add_to_output=True)
        return messages
