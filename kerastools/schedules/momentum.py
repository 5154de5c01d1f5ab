"""Momentum (or ``beta_1``) following a schedule on Keras' own optimizers.

``FilterOptimizer`` takes a schedule for its momentum or ``beta_1`` directly
(``kerastools.optimizers.momentum_(lr, momentum=schedule.momentum_schedule())``,
``kerastools.optimizers.adam(lr, beta_1=...)``) and evaluates it inside the
compiled step: nothing to add. Keras' ``SGD`` and ``Adam`` bake their
``momentum``/``beta_1`` float into the compiled step, so ``MomentumScheduler``
replaces the float by a ``keras.Variable`` for the duration of ``fit`` and
assigns it before every batch.
"""

import keras
import numpy as np

_ATTRIBUTES = ("momentum", "beta_1")
_CHUNK = 256


def momentum_attribute(optimizer):
    """Name of the optimizer's momentum coefficient (``momentum``/``beta_1``) or None."""
    optimizer = getattr(optimizer, "inner_optimizer", optimizer)
    for name in _ATTRIBUTES:
        if hasattr(optimizer, name):
            return name
    return None


class _Coefficient(keras.Variable):
    """A float variable that Keras' Python-side ``momentum != 0`` test sees as non-zero."""

    def __ne__(self, other):
        if isinstance(other, (int, float)) and not isinstance(other, bool) and other == 0:
            return True
        return super().__ne__(other)

    __hash__ = keras.Variable.__hash__


class MomentumScheduler(keras.callbacks.Callback):
    """Sets Keras ``SGD``'s ``momentum`` or ``Adam``'s ``beta_1`` from a schedule every step.

    Reference: L. N. Smith, "A disciplined approach to neural network
    hyper-parameters: Part 1", 2018, [arXiv:1803.09820](https://arxiv.org/abs/1803.09820)
    (momentum cycled opposite to the learning rate).

    Before batch ``t`` (the optimizer's ``iterations``) the coefficient is
    ``schedule(t)``, the step at which the learning-rate schedule is
    evaluated too. At ``on_train_begin`` the optimizer's float attribute is
    replaced by an untracked ``keras.Variable`` (so ``optimizer.variables``
    and checkpoints are unchanged) and the train function is rebuilt; at
    ``on_train_end`` the float is put back (its original value).

    Cost: one variable assignment per batch (the schedule is evaluated
    vectorised, 256 steps at a time; ``iterations`` is read once per epoch),
    tens of microseconds on an idle CPU; see ``benchmarks/schedules.py``.
    Assumes ``steps_per_execution=1``. TensorFlow backend only (JAX bakes an
    untracked variable into the jitted step): on JAX use ``FilterOptimizer``
    with the schedule as its momentum, which costs nothing per batch.
    ``SGD`` must have been built with ``momentum > 0`` (Keras creates no
    momentum slots otherwise). While it runs, ``optimizer.get_config()``
    holds the variable: save checkpoints with ``save_weights_only=True`` or
    after ``fit``.

    Args:
        schedule: a ``LearningRateSchedule`` of the step (e.g.
            ``OneCycle.momentum_schedule()``) giving the coefficient.
        attribute: ``"momentum"`` or ``"beta_1"``. Defaults to `None`
            (whichever the optimizer has).

    Example:

    ```python
    lr = OneCycle(0.1, total_steps=epochs * steps_per_epoch)
    model.compile(optimizer=keras.optimizers.SGD(lr, momentum=0.95), ...)
    model.fit(..., callbacks=[MomentumScheduler(lr.momentum_schedule(0.85, 0.95))])
    ```
    """

    def __init__(self, schedule, attribute=None):
        super().__init__()
        if not callable(schedule):
            raise ValueError(  # noqa: TRY004 (the project's rule: ValueError)
                f"Argument `schedule` must be a schedule (callable of the step). "
                f"Received: schedule={schedule!r}"
            )
        if attribute is not None and attribute not in _ATTRIBUTES:
            raise ValueError(
                f"Argument `attribute` must be one of {list(_ATTRIBUTES)} or None. "
                f"Received: attribute={attribute!r}"
            )
        self.schedule = schedule
        self.attribute = attribute
        self._variable = None
        self._original = None
        self._table_start = None
        self._table = None

    def _optimizer(self):
        opt = self.model.optimizer
        return getattr(opt, "inner_optimizer", opt)

    def on_train_begin(self, logs=None):
        if keras.backend.backend() != "tensorflow":
            raise ValueError(
                "MomentumScheduler needs the TensorFlow backend: Keras' optimizers read "
                "`momentum`/`beta_1` as a Python number, which the "
                f"{keras.backend.backend()!r} backend's compiled train step holds as a "
                "constant, so a change between steps would not reach it. Pass the schedule "
                "to a kerastools.optimizers preset instead (momentum= for sgd/momentum/"
                "nesterov/rmsprop, beta_1= for adam/nadam): it is read inside the step."
            )
        opt = self._optimizer()
        name = self.attribute or momentum_attribute(opt)
        if name is None or not hasattr(opt, name):
            raise ValueError(
                f"The optimizer {type(opt).__name__} has no `momentum` or `beta_1` attribute. "
                f"Received: attribute={self.attribute!r}"
            )
        value = getattr(opt, name)
        if callable(value) and not isinstance(value, keras.Variable):
            raise ValueError(  # noqa: TRY004 (the project's rule: ValueError)
                f"The optimizer's `{name}` is already a schedule ({value!r}); it needs no "
                "MomentumScheduler."
            )
        if name == "momentum" and not isinstance(value, keras.Variable) and float(value) == 0.0:
            raise ValueError(
                "Keras SGD built with momentum=0 has no momentum slots: compile it with "
                "SGD(momentum=x) for some x > 0. Received: momentum=0.0"
            )
        self._name = name
        if isinstance(value, keras.Variable):
            self._variable, self._original = value, None
        else:
            self._original = value
            if not opt.built:
                opt.build(self.model.trainable_variables)
            self._variable = _Coefficient(float(value), dtype="float32", trainable=False,
                                            name=f"scheduled_{name}")
            # object.__setattr__: not tracked, so optimizer.variables stay as they are.
            object.__setattr__(opt, name, self._variable)
            self.model.make_train_function(force=True)
        self._table_start = None

    def value_at(self, step):
        """The coefficient at ``step`` (NumPy float), from a cached vectorised table."""
        if self._table_start is None or not (
            self._table_start <= step < self._table_start + _CHUNK
        ):
            steps = np.arange(step, step + _CHUNK, dtype="float32")
            self._table = np.asarray(keras.ops.convert_to_numpy(self.schedule(steps)))
            self._table_start = step
        return self._table[step - self._table_start]

    def on_epoch_begin(self, epoch, logs=None):
        # One read of `iterations` per epoch; batch b of the epoch is step start + b.
        self._epoch_start = int(keras.ops.convert_to_numpy(self._optimizer().iterations))

    def on_train_batch_begin(self, batch, logs=None):
        if getattr(self, "_epoch_start", None) is None:
            self.on_epoch_begin(0)
        value = self.value_at(self._epoch_start + batch)
        # The backend variable's own assign skips Keras' Python-side checks.
        getattr(self._variable, "value", self._variable).assign(value)

    def on_train_end(self, logs=None):
        self._epoch_start = None
        if self._original is not None:
            object.__setattr__(self._optimizer(), self._name, self._original)
            self.model.make_train_function(force=True)
        self._variable = None
