"""fastai's ``fit_one_cycle`` for a Keras model."""

import math
import warnings

import keras

from kerastools import _checks
from kerastools.schedules.fastai import fastai_one_cycle


def _steps_per_epoch(x, batch_size, steps_per_epoch):
    if steps_per_epoch is not None:
        return _checks.check_positive_int("steps_per_epoch", steps_per_epoch)
    first = x[0] if isinstance(x, (list, tuple)) else x
    if isinstance(x, dict):
        first = next(iter(x.values()))
    try:
        n = len(first)
    except TypeError:
        raise ValueError(
            "Argument `steps_per_epoch` must be given when `x` has no length (a generator, an "
            f"infinite dataset). Received: steps_per_epoch=None, x={type(x).__name__}"
        ) from None
    if isinstance(x, (keras.utils.PyDataset,)) or hasattr(x, "element_spec"):
        return _checks.check_positive_int("len(x)", n)  # already batched
    batch_size = 32 if batch_size is None else _checks.check_positive_int("batch_size", batch_size)
    return math.ceil(n / batch_size)


def _compile_kwargs(model, loss):
    if loss is not None:
        return {"loss": loss}
    try:
        config = model.get_compile_config()
    except Exception:  # noqa: BLE001 (an uncompiled model)
        config = None
    if not config:
        raise ValueError(
            "Argument `loss` must be given for a model that is not compiled. Received: loss=None"
        )
    config = keras.saving.deserialize_keras_object(config)
    config.pop("optimizer", None)
    return config


def fit_one_cycle(model, x, y=None, epochs=1, lr_max=1e-3, div=25.0, div_final=1e5, pct_start=0.25,
                  moms=(0.95, 0.85, 0.95), optimizer=None, loss=None, batch_size=None,
                  steps_per_epoch=None, **fit_kwargs):
    """fastai's ``Learner.fit_one_cycle``: compiles ``model`` with a one-cycle optimizer and fits it.

    Reference: fastai's ``fit_one_cycle`` (``fastai.callback.schedule``):
    learning rate ``combined_cos(pct_start, lr_max / div, lr_max, lr_max /
    div_final)`` and momentum ``combined_cos(pct_start, *moms)``, cosine in
    both phases, at position ``i / N`` for batch ``i`` of ``N = epochs *
    steps_per_epoch`` (``kerastools.schedules.fastai_one_cycle``); same names
    and defaults. Both schedules run inside the compiled step.

    The optimizer:

    - `None` (fastai's default, Adam with ``moms`` as ``beta_1``):
      ``kerastools.optimizers.adam(lr, beta_1=momentum, beta_2=0.99,
      epsilon=1e-5, weight_decay=0.01)``, fastai's ``Adam`` hyper-parameters
      (decoupled weight decay as fastai's default; epsilon placed as Keras'
      Adam places it, not after the bias correction as fastai does).
    - a callable ``optimizer(learning_rate, momentum)`` (fastai's
      ``opt_func``): called with the two schedules, e.g.
      ``lambda lr, m: kerastools.optimizers.sgd(lr, momentum=m)``.
    - an unbuilt ``keras.optimizers.Optimizer``: its learning rate is set to
      the schedule; its momentum is not driven (a warning says so; Keras'
      optimizers take a float momentum: use a kerastools preset or
      ``kerastools.callbacks.MomentumScheduler`` on TensorFlow).

    The model is compiled again with that optimizer, keeping its loss and
    metrics (``model.get_compile_config()``), or with ``loss`` for an
    uncompiled model; then ``model.fit(x, y, epochs=epochs, ...)`` runs from
    ``iterations = 0``.

    Args:
        model: a ``keras.Model``, compiled or not (then give ``loss``).
        x: the inputs (arrays, a ``tf.data.Dataset``, a ``PyDataset``).
        y: the targets. Defaults to `None`.
        epochs: number of epochs, > 0. Defaults to `1`.
        lr_max: the peak learning rate. Defaults to `1e-3` (fastai's).
        div: ``start = lr_max / div``. Defaults to `25.0`.
        div_final: ``end = lr_max / div_final``. Defaults to `1e5`.
        pct_start: fraction of the steps rising, in (0, 1). Defaults to
            `0.25`.
        moms: momenta ``(start, middle, end)`` or `None`. Defaults to
            `(0.95, 0.85, 0.95)`.
        optimizer: see above. Defaults to `None`.
        loss: the loss, for an uncompiled model. Defaults to `None`.
        batch_size: as ``model.fit``'s. Defaults to `None` (32).
        steps_per_epoch: batches per epoch (needed when ``x`` has no
            length). Defaults to `None` (from ``len(x)`` and ``batch_size``).
        **fit_kwargs: passed to ``model.fit``.

    Returns:
        The ``History`` of ``model.fit``.

    Example:

    ```python
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = fit_one_cycle(model, x, y, epochs=5, lr_max=3e-3, batch_size=64)
    ```
    """
    epochs = _checks.check_positive_int("epochs", epochs)
    spe = _steps_per_epoch(x, batch_size, steps_per_epoch)
    lr, momentum = fastai_one_cycle(lr_max, epochs * spe, div=div, div_final=div_final,
                                    pct_start=pct_start, moms=moms)
    if optimizer is None:
        from kerastools.optimizers import adam

        opt = adam(lr, beta_1=momentum if momentum is not None else 0.9, beta_2=0.99,
                   epsilon=1e-5, weight_decay=0.01)
    elif isinstance(optimizer, keras.optimizers.Optimizer):
        if optimizer.built:
            raise ValueError(
                "Argument `optimizer` must not be built yet (its learning rate is replaced by the "
                f"one-cycle schedule). Received: optimizer={optimizer!r}"
            )
        optimizer.learning_rate = lr
        if momentum is not None:
            warnings.warn(
                f"fit_one_cycle: {type(optimizer).__name__} takes a float momentum; `moms` is not "
                "applied. Pass optimizer=lambda lr, m: kerastools.optimizers.adam(lr, beta_1=m) "
                "(or sgd(lr, momentum=m)) to drive it.",
                stacklevel=2,
            )
        opt = optimizer
    elif callable(optimizer):
        opt = optimizer(lr, momentum)
    else:
        raise ValueError(
            "Argument `optimizer` must be None, an optimizer or a callable(lr, momentum). "
            f"Received: optimizer={optimizer!r}"
        )
    model.compile(optimizer=opt, **_compile_kwargs(model, loss))
    fit_kwargs.setdefault("batch_size", batch_size)
    if steps_per_epoch is not None:
        fit_kwargs.setdefault("steps_per_epoch", steps_per_epoch)
    return model.fit(x, y, epochs=epochs, **fit_kwargs)
