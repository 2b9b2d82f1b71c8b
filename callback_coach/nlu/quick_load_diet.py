"""DIETClassifier that loads in a fraction of the time, with identical predictions.

Rasa builds a stored DIET model by running one training step on an example, which
traces the whole training graph, loss and gradients included (over half of the
server's start-up time was spent there). Prediction needs none of it: this class builds
the layers with one eager prediction instead, then restores the same weights.
"""

from __future__ import annotations

import copy
from typing import Any

import tensorflow as tf
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.diet_classifier import DIETClassifier
from rasa.nlu.extractors.extractor import EntityTagSpec
from rasa.shared.nlu.constants import TEXT
from rasa.utils.tensorflow.constants import LEARNING_RATE, RUN_EAGERLY
from rasa.utils.tensorflow.data_generator import RasaBatchDataGenerator
from rasa.utils.tensorflow.model_data import RasaModelData
from rasa.utils.tensorflow.models import RasaModel


@DefaultV1Recipe.register(
    [
        DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER,
        DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR,
    ],
    is_trainable=True,
)
class QuickLoadDIETClassifier(DIETClassifier):
    """Trains exactly like DIETClassifier; only loading for prediction differs."""

    @classmethod
    def _load_model_class(
        cls,
        tf_model_file: str,
        model_data_example: RasaModelData,
        label_data: RasaModelData,
        entity_tag_specs: list[EntityTagSpec],
        config: dict[str, Any],
        finetune_mode: bool,
    ) -> RasaModel:
        if finetune_mode:
            # Fine-tuning trains, so it needs the training graph after all.
            return super()._load_model_class(
                tf_model_file,
                model_data_example,
                label_data,
                entity_tag_specs,
                config,
                finetune_mode,
            )
        predict_data_example = RasaModelData(
            label_key=model_data_example.label_key,
            data={name: features for name, features in model_data_example.items() if TEXT in name},
        )
        model = cls.model_class()(
            data_signature=model_data_example.get_signature(),
            label_data=label_data,
            entity_tag_specs=entity_tag_specs,
            config=copy.deepcopy(config),
        )
        model.compile(
            optimizer=tf.keras.optimizers.Adam(config.get(LEARNING_RATE, 0.001)),
            run_eagerly=config.get(RUN_EAGERLY),
        )
        # One eager pass through the prediction path creates every variable it uses.
        batch, _ = RasaBatchDataGenerator(predict_data_example, batch_size=1)[0]
        model._training = False
        model.prepare_for_predict()
        model.batch_predict(batch)

        status = model.load_weights(tf_model_file)
        # Every variable prediction uses must come from the file; only the optimiser's
        # state (training-only) is left unread.
        status.assert_existing_objects_matched()
        status.expect_partial()

        # The label embeddings were computed with the initial weights: compute them
        # again from the restored ones, and trace the prediction function once now
        # rather than on the first user message. Traced as written, without autograph:
        # the prediction path branches only on the configuration, never on a tensor
        # (a tensor condition would fail this trace loudly), and rewriting its source
        # for autograph took most of the tracing time.
        model._tf_predict_step = tf.function(
            model.predict_step,
            input_signature=model._dynamic_signature(batch),
            autograph=False,
        )
        model.prepared_for_prediction = False
        model.run_inference(predict_data_example)
        return model
