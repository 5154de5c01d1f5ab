"""A Keras Tuner HyperModel for the course's Fashion-MNIST searches."""

import math

import keras
import keras_tuner

from kerastools import _checks
from kerastools.tuning import search_space as space


class FashionMNISTHyperModel(keras_tuner.HyperModel):
    """Searches architecture, regularisation, optimizer and LR schedule.

    The model takes images of shape ``(28, 28)`` (as
    ``kerastools.datasets.load_fashion_mnist`` returns them) and ends in a
    10-way softmax trained with sparse categorical cross-entropy.

    Hyperparameters:

    - ``kind="mlp"``: ``layers`` (1 to ``max_layers``), ``units_i``,
      ``activation``, ``dropout_i``.
    - ``kind="cnn"``: ``conv_blocks`` (1 to ``max_layers``), ``filters_i``,
      ``batch_norm``, ``dropout_i``, ``dense_units``.
    - both: ``kernel_regularizer`` and ``bias_regularizer`` (or one per layer
      with ``per_layer_regularization=True``), ``optimizer`` and its
      parameters, ``schedule`` and its parameters, ``batch_size``.

    Works with ``RandomSearch``, ``BayesianOptimization`` and ``Hyperband``;
    every model it builds saves and reloads with ``safe_mode=True``.

    Args:
        kind: ``"mlp"`` or ``"cnn"``. Defaults to `"mlp"`.
        epochs: training epochs of a trial, the schedules' horizon. Defaults
            to `10`. (Hyperband passes its own ``epochs`` to ``fit``.)
        train_samples: samples seen per epoch (after any validation split),
            to turn epochs into optimizer steps. Defaults to `54000`.
        optimizers: preset names to search. Defaults to all of
            ``search_space.OPTIMIZERS``.
        schedules: schedule names to search. Defaults to all of
            ``search_space.SCHEDULES``.
        regularizers: regularizer names to search. Defaults to all of
            ``search_space.REGULARIZERS``.
        batch_sizes: batch sizes to search. Defaults to `(32, 64, 128)`.
        per_layer_regularization: one regularizer choice per layer (kernels
            and biases separately) instead of one for the whole model.
            Defaults to `False`.
        max_layers: largest depth searched. Defaults to `3`.
        max_dropout: largest dropout rate searched (0 disables dropout).
            Defaults to `0.5`.
        learning_rate_range: ``(low, high)`` of the log-uniform learning rate
            of every optimizer choice. Defaults to `None` (a range per preset).
        name, tunable: as in ``keras_tuner.HyperModel``.

    Example:

    ```python
    hypermodel = FashionMNISTHyperModel("mlp", epochs=10, optimizers=["adam", "nesterov"])
    tuner = keras_tuner.RandomSearch(hypermodel, objective="val_accuracy", max_trials=20)
    tuner.search(x_train, y_train, validation_split=0.1)
    ```
    """

    def __init__(self, kind="mlp", epochs=10, train_samples=54000,
                 optimizers=space.OPTIMIZERS, schedules=space.SCHEDULES,
                 regularizers=space.REGULARIZERS, batch_sizes=(32, 64, 128),
                 per_layer_regularization=False, max_layers=3, max_dropout=0.5,
                 learning_rate_range=None, name=None, tunable=True):
        super().__init__(name=name, tunable=tunable)
        self.kind = _checks.check_choice("kind", kind, space.ARCHITECTURES)
        self.epochs = _checks.check_positive_int("epochs", epochs)
        self.train_samples = _checks.check_positive_int("train_samples", train_samples)
        self.optimizers = space.check_choices("optimizers", optimizers, space.OPTIMIZERS)
        self.schedules = space.check_choices("schedules", schedules, space.SCHEDULES)
        self.regularizers = space.check_choices("regularizers", regularizers, space.REGULARIZERS)
        batch_sizes = tuple(batch_sizes)
        if not batch_sizes:
            raise ValueError(
                "Argument `batch_sizes` must list at least one batch size. "
                f"Received: batch_sizes={list(batch_sizes)!r}"
            )
        for b in batch_sizes:
            _checks.check_positive_int("batch_sizes", b)
        self.batch_sizes = batch_sizes
        self.per_layer_regularization = bool(per_layer_regularization)
        self.max_layers = _checks.check_positive_int("max_layers", max_layers)
        self.max_dropout = _checks.check_in_range("max_dropout", max_dropout, 0.0, 1.0)
        self.learning_rate_range = (None if learning_rate_range is None
                                    else space.check_learning_rate_range(learning_rate_range))

    # -- pieces -----------------------------------------------------------
    def _regularizers(self, hp, layer_name):
        prefix = layer_name if self.per_layer_regularization else "model"
        return (
            space.choose_regularizer(hp, f"{prefix}_kernel_regularizer", self.regularizers),
            space.choose_regularizer(hp, f"{prefix}_bias_regularizer", self.regularizers),
        )

    def _dropout(self, hp, x, i):
        if self.max_dropout <= 0:
            return x
        rate = space.choose_dropout(hp, f"dropout_{i}", self.max_dropout)
        return keras.layers.Dropout(rate, name=f"dropout_{i}")(x) if rate > 0 else x

    def _body_mlp(self, hp, x):
        x = keras.layers.Flatten(name="flatten")(x)
        activation = hp.Choice("activation", ["relu", "elu"])
        for i in range(hp.Int("layers", 1, self.max_layers)):
            name = f"hidden_{i}"
            kernel_reg, bias_reg = self._regularizers(hp, name)
            x = keras.layers.Dense(
                hp.Int(f"units_{i}", 32, 512, step=32), activation=activation,
                kernel_initializer="he_normal", kernel_regularizer=kernel_reg,
                bias_regularizer=bias_reg, name=name)(x)
            x = self._dropout(hp, x, i)
        return x

    def _body_cnn(self, hp, x):
        x = keras.layers.Reshape((28, 28, 1), name="channels")(x)
        batch_norm = hp.Boolean("batch_norm")
        for i in range(hp.Int("conv_blocks", 1, self.max_layers)):
            name = f"conv_{i}"
            kernel_reg, bias_reg = self._regularizers(hp, name)
            x = keras.layers.Conv2D(
                hp.Choice(f"filters_{i}", [32, 64, 128]), 3, padding="same",
                use_bias=not batch_norm, kernel_initializer="he_normal",
                kernel_regularizer=kernel_reg,
                bias_regularizer=None if batch_norm else bias_reg, name=name)(x)
            if batch_norm:
                x = keras.layers.BatchNormalization(name=f"bn_{i}")(x)
            x = keras.layers.Activation("relu", name=f"relu_{i}")(x)
            if x.shape[1] >= 4:
                x = keras.layers.MaxPooling2D(name=f"pool_{i}")(x)
            x = self._dropout(hp, x, i)
        x = keras.layers.Flatten(name="flatten")(x)
        kernel_reg, bias_reg = self._regularizers(hp, "dense")
        return keras.layers.Dense(
            hp.Int("dense_units", 64, 256, step=64), activation="relu",
            kernel_regularizer=kernel_reg, bias_regularizer=bias_reg, name="dense")(x)

    def steps_per_epoch(self, batch_size):
        return math.ceil(self.train_samples / batch_size)

    # -- HyperModel API ----------------------------------------------------
    def build(self, hp):
        inputs = keras.Input(shape=(28, 28), name="images")
        body = self._body_mlp if self.kind == "mlp" else self._body_cnn
        x = body(hp, inputs)
        outputs = keras.layers.Dense(10, activation="softmax", name="output")(x)
        model = keras.Model(inputs, outputs, name=f"fashion_{self.kind}")

        batch_size = _choice_int(hp, "batch_size", self.batch_sizes)
        steps = self.steps_per_epoch(batch_size)

        def schedule(lr):
            return space.choose_schedule(hp, lr, self.epochs, steps, self.schedules)

        optimizer = space.choose_optimizer(hp, self.optimizers, schedule=schedule,
                                           learning_rate_range=self.learning_rate_range)
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        return model

    def fit(self, hp, model, *args, **kwargs):
        kwargs.setdefault("batch_size", _choice_int(hp, "batch_size", self.batch_sizes))
        kwargs.setdefault("epochs", self.epochs)
        return model.fit(*args, **kwargs)


def _choice_int(hp, name, values):
    return values[0] if len(values) == 1 else hp.Choice(name, list(values))
