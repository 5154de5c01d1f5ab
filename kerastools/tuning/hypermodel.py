"""Keras Tuner HyperModels for classifiers of any input shape and number of classes."""

import contextlib
import math

import keras
import keras_tuner

from kerastools import _checks
from kerastools.tuning import search_space as space

ARCHITECTURES = ("auto", "mlp", "cnn")


def steps_per_epoch(x, batch_size=None, validation_split=0.0, steps_per_epoch=None):
    """Optimizer steps per epoch of ``model.fit(x, ...)``, as Keras counts them.

    - ``steps_per_epoch`` given: that.
    - arrays (NumPy, tensors, DataFrames, or lists/dicts of them): the samples
      left after Keras' ``validation_split`` (it keeps
      ``floor(n * (1 - validation_split))``) divided by ``batch_size``
      (Keras' 32 when None), rounded up.
    - a ``tf.data.Dataset``: its cardinality, when finite and known.
    - a ``keras.utils.PyDataset``, a ``torch`` ``DataLoader`` or anything with
      ``len()``: its length, the number of batches.
    - otherwise (a generator, an infinite or filtered dataset): a ValueError
      asking for ``steps_per_epoch``.

    Args:
        x: the training data ``fit`` receives.
        batch_size: ``fit``'s batch size (arrays only). Defaults to `None` (32).
        validation_split: ``fit``'s validation split (arrays only). Defaults
            to `0.0`.
        steps_per_epoch: ``fit``'s ``steps_per_epoch``. Defaults to `None`.

    Returns:
        A positive int.
    """
    if steps_per_epoch is not None:
        return _checks.check_positive_int("steps_per_epoch", steps_per_epoch)
    leaves = keras.tree.flatten(x) if isinstance(x, (list, tuple, dict)) else [x]
    if leaves and all(hasattr(leaf, "shape") for leaf in leaves):
        n = int(leaves[0].shape[0])
        split = _checks.check_in_range("validation_split", validation_split or 0.0, 0.0, 1.0)
        n_train = int(math.floor(n * (1.0 - split)))
        batch = _checks.check_positive_int("batch_size", 32 if batch_size is None else batch_size)
        if n_train < 1:
            raise ValueError(
                "Argument `x` must hold at least one training sample after the validation "
                f"split. Received: x with {n} samples, validation_split={validation_split}"
            )
        return math.ceil(n_train / batch)
    if hasattr(x, "cardinality"):  # tf.data.Dataset
        n = int(x.cardinality())
        if n > 0:
            return n
    elif hasattr(x, "__len__"):
        n = len(x)
        if n > 0:
            return n
    raise ValueError(
        "Argument `steps_per_epoch` must be passed to `search` (or `fit`) when the training "
        "data has no known length (a generator, an infinite or filtered tf.data.Dataset), so "
        "that the learning-rate schedules span the run. "
        f"Received: x={type(x).__name__}, steps_per_epoch=None"
    )


class ClassifierHyperModel(keras_tuner.HyperModel):
    """Searches architecture, regularisation, optimizer and LR schedule of a classifier.

    The model takes inputs of ``input_shape`` and ends in a
    ``num_classes``-way softmax trained with sparse categorical cross-entropy
    (integer labels). Two families:

    - ``kind="mlp"`` (inputs of any shape, flattened): ``layers`` (1 to
      ``max_layers``, default 1), ``units_i`` (``units`` range in steps of 32,
      default 256), ``activation`` (relu or elu, default relu), ``dropout_i``.
    - ``kind="cnn"`` (inputs ``(height, width)`` or ``(height, width,
      channels)``): ``conv_blocks`` (1 to ``max_layers``, default 2) of a 3x3
      convolution (``filters_i`` from ``filters``, default 32 then 64...),
      optional ``batch_norm`` (default off), ReLU, 2x2 max pooling while the
      map is at least 4 wide, ``dropout_i``; then ``dense_units`` (64 to 256,
      default 128).
    - ``kind="auto"``: the CNN when the input has spatial dimensions (rank 2
      or 3), the MLP otherwise.

    Both search ``kernel_regularizer`` and ``bias_regularizer`` (or one per
    layer with ``per_layer_regularization=True``), ``optimizer`` and its
    parameters, ``schedule`` and its parameters and ``batch_size``. Every
    hyperparameter has a default that is a good value alone (one hidden layer
    of 256 ReLU units, no dropout, no regularisation, Adam at 1e-3 with betas
    0.9 and 0.999, a cosine decay of the learning rate over the run, batch 32): with the kerastools
    tuners (``kerastools.tuning.RandomSearch``, ``BayesianOptimization``,
    ``Hyperband``) that baseline is the first trial. Every hyperparameter of
    every branch is declared on each ``build``, so Keras Tuner samples each
    from its range from the first trial on.

    Schedules are sized from the data ``fit`` receives: ``fit`` counts the
    steps per epoch (``steps_per_epoch``: arrays after the validation split
    and the batch size, a ``tf.data.Dataset`` or ``PyDataset`` by its length;
    a generator needs ``steps_per_epoch=`` passed to ``search``) and the
    epochs it will run (``epochs - initial_epoch``, so Hyperband's rounds are
    sized too), then compiles the model with the optimizer and schedule for
    that run. ``build`` alone compiles for ``steps_per_epoch`` when given,
    else for the data of the last ``fit`` (100 steps per epoch before any).

    Every model it builds saves and reloads with ``safe_mode=True``.

    Args:
        input_shape: the shape of one sample, e.g. ``(20,)`` or ``(28, 28)``.
        num_classes: the number of classes, >= 2.
        kind: ``"auto"``, ``"mlp"`` or ``"cnn"``. Defaults to `"auto"`.
        epochs: training epochs of a trial when ``search`` gives none.
            Defaults to `10`. (Hyperband passes its own ``epochs`` to ``fit``.)
        optimizers: preset names to search. Defaults to all of
            ``search_space.OPTIMIZERS``.
        schedules: schedule names to search. Defaults to all of
            ``search_space.SCHEDULES``.
        regularizers: regularizer names to search. Defaults to all of
            ``search_space.REGULARIZERS``.
        batch_sizes: batch sizes to search (the first is the default), or
            None for data that comes in batches (a ``tf.data.Dataset``, a
            ``PyDataset``, a generator). Defaults to `(32, 64, 128, 256)`.
        per_layer_regularization: one regularizer choice per layer (kernels
            and biases separately) instead of one for the whole model.
            Defaults to `False`.
        max_layers: largest depth searched. Defaults to `3`.
        units: ``(low, high)`` of the hidden units of the MLP (in steps of
            32). Defaults to `(32, 512)`.
        filters: filter counts of the CNN's convolutions. Defaults to
            `(32, 64, 128)`.
        max_dropout: largest dropout rate searched (0 disables dropout).
            Defaults to `0.5`.
        learning_rate_range: ``(low, high)`` of the log-uniform learning rate
            of every optimizer choice. Defaults to `None` (a range per preset,
            ``search_space.LEARNING_RATES``).
        regularization_range: ``(low, high)`` of the L1/L2 strengths.
            Defaults to `(1e-6, 1e-2)`.
        steps_per_epoch: the steps per epoch ``build`` sizes schedules for
            before any ``fit``; ``fit`` uses the data's own. Defaults to `None`.
        name, tunable: as in ``keras_tuner.HyperModel``.

    Example:

    ```python
    hypermodel = ClassifierHyperModel(input_shape=(20,), num_classes=3, epochs=10)
    tuner = kerastools.tuning.RandomSearch(hypermodel, objective="val_accuracy", max_trials=10)
    tuner.search(x_train, y_train, validation_split=0.1)  # trial 0: the defaults
    ```
    """

    def __init__(self, input_shape, num_classes, kind="auto", epochs=10,
                 optimizers=space.OPTIMIZERS, schedules=space.SCHEDULES,
                 regularizers=space.REGULARIZERS, batch_sizes=(32, 64, 128, 256),
                 per_layer_regularization=False, max_layers=3, units=(32, 512),
                 filters=(32, 64, 128), max_dropout=0.5, learning_rate_range=None,
                 regularization_range=(1e-6, 1e-2), steps_per_epoch=None, name=None,
                 tunable=True):
        super().__init__(name=name, tunable=tunable)
        self.input_shape = _check_shape(input_shape)
        self.num_classes = _checks.check_positive_int("num_classes", num_classes)
        if self.num_classes < 2:
            raise ValueError(f"Argument `num_classes` must be >= 2. Received: num_classes={num_classes}")
        self.kind = _checks.check_choice("kind", kind, ARCHITECTURES)
        if self.kind == "auto":
            self.kind = "cnn" if len(self.input_shape) in (2, 3) else "mlp"
        if self.kind == "cnn" and len(self.input_shape) not in (2, 3):
            raise ValueError(
                "Argument `kind` must be 'mlp' or 'auto' for inputs without spatial dimensions "
                "(the CNN takes (height, width) or (height, width, channels)). "
                f"Received: kind='cnn', input_shape={self.input_shape}"
            )
        self.epochs = _checks.check_positive_int("epochs", epochs)
        self.optimizers = space.check_choices("optimizers", optimizers, space.OPTIMIZERS)
        self.schedules = space.check_choices("schedules", schedules, space.SCHEDULES)
        self.regularizers = space.check_choices("regularizers", regularizers, space.REGULARIZERS)
        if batch_sizes is not None:
            batch_sizes = (batch_sizes,) if isinstance(batch_sizes, int) else tuple(batch_sizes)
            if not batch_sizes or len(set(batch_sizes)) != len(batch_sizes):
                raise ValueError(
                    "Argument `batch_sizes` must list distinct batch sizes (or be None). "
                    f"Received: batch_sizes={list(batch_sizes)!r}"
                )
            for b in batch_sizes:
                _checks.check_positive_int("batch_sizes", b)
        self.batch_sizes = batch_sizes
        self.per_layer_regularization = bool(per_layer_regularization)
        self.max_layers = _checks.check_positive_int("max_layers", max_layers)
        self.units = space.check_range("units", units, integer=True)
        filters = tuple(filters) if not isinstance(filters, int) else (filters,)
        if not filters or len(set(filters)) != len(filters):
            raise ValueError(
                f"Argument `filters` must list distinct filter counts. Received: filters={filters!r}"
            )
        for f in filters:
            _checks.check_positive_int("filters", f)
        self.filters = filters
        self.max_dropout = _checks.check_in_range("max_dropout", max_dropout, 0.0, 1.0)
        self.learning_rate_range = (None if learning_rate_range is None
                                    else space.check_learning_rate_range(learning_rate_range))
        self.regularization_range = space.check_range("regularization_range",
                                                      regularization_range)
        self.steps_per_epoch = (None if steps_per_epoch is None else
                                _checks.check_positive_int("steps_per_epoch", steps_per_epoch))
        self.horizon = None  # (epochs, steps per epoch) of the last fit

    # -- pieces -----------------------------------------------------------
    def _in_layer(self, hp, depth_name, i):
        """The scope of a per-layer hyperparameter: active when the depth exceeds ``i``."""
        if i == 0 or self.max_layers == 1:
            return contextlib.nullcontext()
        return hp.conditional_scope(depth_name, list(range(i + 1, self.max_layers + 1)))

    def _draw_regularizers(self, hp, prefix):
        return tuple(
            space.choose_regularizer(hp, f"{prefix}_{which}_regularizer", self.regularizers,
                                     strength=self.regularization_range)
            for which in ("kernel", "bias"))

    def _layer_hyperparameters(self, hp, depth_name, i, layer_name, shared):
        """Regularizers and dropout rate of layer ``i`` (declared whatever the depth)."""
        with self._in_layer(hp, depth_name, i):
            regs = (self._draw_regularizers(hp, layer_name) if self.per_layer_regularization
                    else shared)
            rate = (space.choose_dropout(hp, f"dropout_{i}", self.max_dropout)
                    if self.max_dropout > 0 else 0.0)
        return regs, rate

    def _units_default(self):
        low, high = self.units
        return low + 32 * round((min(max(256, low), high) - low) / 32)

    def _body_mlp(self, hp, x, shared):
        x = keras.layers.Flatten(name="flatten")(x) if len(self.input_shape) > 1 else x
        activation = hp.Choice("activation", ["relu", "elu"], default="relu")
        depth = hp.Int("layers", 1, self.max_layers, default=1)
        low, high = self.units
        for i in range(self.max_layers):  # every layer's hyperparameters, whatever the depth
            name = f"hidden_{i}"
            with self._in_layer(hp, "layers", i):
                units = hp.Int(f"units_{i}", low, high, step=32, default=self._units_default())
            (kernel_reg, bias_reg), rate = self._layer_hyperparameters(hp, "layers", i, name,
                                                                       shared)
            if i >= depth:
                continue
            x = keras.layers.Dense(
                units, activation=activation, kernel_initializer="he_normal",
                kernel_regularizer=kernel_reg, bias_regularizer=bias_reg, name=name)(x)
            if rate:
                x = keras.layers.Dropout(rate, name=f"dropout_{i}")(x)
        return x

    def _body_cnn(self, hp, x, shared):
        if len(self.input_shape) == 2:
            x = keras.layers.Reshape((*self.input_shape, 1), name="channels")(x)
        batch_norm = hp.Boolean("batch_norm", default=False)
        depth = hp.Int("conv_blocks", 1, self.max_layers, default=min(2, self.max_layers))
        for i in range(self.max_layers):
            name = f"conv_{i}"
            default = min(self.filters, key=lambda f: abs(f - 32 * 2 ** i))
            with self._in_layer(hp, "conv_blocks", i):
                filters = (self.filters[0] if len(self.filters) == 1 else
                           hp.Choice(f"filters_{i}", list(self.filters), default=default))
            (kernel_reg, bias_reg), rate = self._layer_hyperparameters(hp, "conv_blocks", i,
                                                                       name, shared)
            if i >= depth:
                continue
            x = keras.layers.Conv2D(
                filters, 3, padding="same", use_bias=not batch_norm,
                kernel_initializer="he_normal", kernel_regularizer=kernel_reg,
                bias_regularizer=None if batch_norm else bias_reg, name=name)(x)
            if batch_norm:
                x = keras.layers.BatchNormalization(name=f"bn_{i}")(x)
            x = keras.layers.Activation("relu", name=f"relu_{i}")(x)
            if min(x.shape[1], x.shape[2]) >= 4:
                x = keras.layers.MaxPooling2D(name=f"pool_{i}")(x)
            if rate:
                x = keras.layers.Dropout(rate, name=f"dropout_{i}")(x)
        x = keras.layers.Flatten(name="flatten")(x)
        kernel_reg, bias_reg = (self._draw_regularizers(hp, "dense")
                                if self.per_layer_regularization else shared)
        return keras.layers.Dense(
            hp.Int("dense_units", 64, 256, step=64, default=128), activation="relu",
            kernel_initializer="he_normal", kernel_regularizer=kernel_reg,
            bias_regularizer=bias_reg, name="dense")(x)

    def batch_size(self, hp):
        """The batch size ``hp`` holds (None when ``batch_sizes`` is None)."""
        if self.batch_sizes is None:
            return None
        if len(self.batch_sizes) == 1:
            return self.batch_sizes[0]
        return hp.Choice("batch_size", list(self.batch_sizes), default=self.batch_sizes[0])

    def optimizer(self, hp, epochs, steps_per_epoch):
        """The optimizer (with its schedule) ``hp`` holds, for a run of this length."""

        def schedule(lr):
            return space.choose_schedule(hp, lr, epochs, steps_per_epoch, self.schedules)

        return space.choose_optimizer(hp, self.optimizers, schedule=schedule,
                                      learning_rate_range=self.learning_rate_range)

    def compile(self, hp, model, epochs, steps_per_epoch):
        """Compiles ``model`` with the optimizer and schedule for this run."""
        model.compile(optimizer=self.optimizer(hp, epochs, steps_per_epoch),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    # -- HyperModel API ----------------------------------------------------
    def build(self, hp):
        shared = None if self.per_layer_regularization else self._draw_regularizers(hp, "model")
        inputs = keras.Input(shape=self.input_shape, name="inputs")
        body = self._body_mlp if self.kind == "mlp" else self._body_cnn
        x = body(hp, inputs, shared)
        outputs = keras.layers.Dense(self.num_classes, activation="softmax", name="output")(x)
        model = keras.Model(inputs, outputs, name=f"{self.kind}_classifier")
        self.batch_size(hp)  # declared here, so that it is in the space before any trial
        epochs, steps = self.horizon or (self.epochs, self.steps_per_epoch or 100)
        return self.compile(hp, model, epochs, steps)

    def fit(self, hp, model, *args, **kwargs):
        """``model.fit`` with the trial's batch size and schedules sized for the run."""
        x = args[0] if args else kwargs.get("x")
        if self.batch_sizes is not None and _is_arrays(x):
            kwargs.setdefault("batch_size", self.batch_size(hp))
        kwargs.setdefault("epochs", self.epochs)
        epochs = max(1, kwargs["epochs"] - kwargs.get("initial_epoch", 0))
        if space.schedule_of(hp, self.schedules) == "constant":
            steps = 1  # the run's length does not matter
        else:
            steps = steps_per_epoch(x, kwargs.get("batch_size"),
                                    kwargs.get("validation_split", 0.0),
                                    kwargs.get("steps_per_epoch"))
            self.horizon = (epochs, steps)
        self.compile(hp, model, epochs, steps)
        return model.fit(*args, **kwargs)


class FashionMNISTHyperModel(ClassifierHyperModel):
    """``ClassifierHyperModel`` for Fashion-MNIST: 10 classes, 28x28 images.

    Takes images as ``kerastools.datasets.load_fashion_mnist`` returns them,
    ``(28, 28)``, or flattened with ``input_shape=(784,)`` (MLP only).

    Args:
        kind: ``"mlp"``, ``"cnn"`` or ``"auto"``. Defaults to `"mlp"`.
        input_shape: Defaults to `(28, 28)`.
        **kwargs: the other arguments of ``ClassifierHyperModel``.

    Example:

    ```python
    hypermodel = FashionMNISTHyperModel("mlp", epochs=30)
    tuner = kerastools.tuning.Hyperband(hypermodel, objective="val_accuracy", max_epochs=30)
    tuner.search(x_train, y_train, validation_split=0.1)
    ```
    """

    def __init__(self, kind="mlp", input_shape=(28, 28), **kwargs):
        super().__init__(input_shape, 10, kind=kind, **kwargs)


def _check_shape(value):
    try:
        shape = tuple(int(d) for d in value) if not isinstance(value, int) else (int(value),)
    except (TypeError, ValueError):
        shape = None
    if not shape or min(shape) < 1:
        raise ValueError(
            "Argument `input_shape` must be the shape of one sample, positive integers "
            f"such as (20,) or (28, 28). Received: input_shape={value!r}"
        )
    return shape


def _is_arrays(x):
    leaves = keras.tree.flatten(x) if isinstance(x, (list, tuple, dict)) else [x]
    return bool(leaves) and all(hasattr(leaf, "shape") for leaf in leaves)
