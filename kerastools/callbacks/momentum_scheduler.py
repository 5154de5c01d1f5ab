"""MomentumScheduler: a kerastools optimizer's ``Coefficient`` set from a schedule every step."""

import keras
import numpy as np

_CHUNK = 256


def _inner(optimizer):
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return optimizer.inner_optimizer
    return optimizer


def momentum_attribute(optimizer):
    """Name of a Keras optimizer's momentum coefficient (``momentum``/``beta_1``) or None."""
    optimizer = _inner(optimizer)
    for name in ("momentum", "beta_1"):
        if hasattr(optimizer, name):
            return name
    return None


def momentum_at(optimizer, step):
    """``(name, value)`` of a kerastools optimizer's varying momentum/``beta_1``, or ``(None, None)``.

    The first ``Filter`` stage whose pole is a schedule (evaluated at
    ``step``) or a ``Coefficient`` (its variable's current value). The name is
    ``"beta_1"`` when the chain also normalises (Adam-like), else
    ``"momentum"``.
    """
    from kerastools.optimizers.chain import ChainOptimizer
    from kerastools.optimizers.stages import Coefficient
    from kerastools.optimizers.stages import Filter
    from kerastools.optimizers.stages import Normalize

    optimizer = _inner(optimizer)
    if not isinstance(optimizer, ChainOptimizer):
        return None, None
    name = ("beta_1" if any(isinstance(s, Normalize) for s in optimizer.stages)
            else "momentum")
    for stage in optimizer.stages:
        if not isinstance(stage, Filter) or stage.pole is None or isinstance(stage.pole, float):
            continue
        if isinstance(stage.pole, Coefficient):
            var = stage.coefficient_variable()
            value = stage.pole.value if var is None else keras.ops.convert_to_numpy(var)
        else:
            value = keras.ops.convert_to_numpy(stage.pole(step))
        return name, float(value)
    return None, None


@keras.saving.register_keras_serializable(package="kerastools")
class MomentumScheduler(keras.callbacks.Callback):
    """Sets a kerastools optimizer's momentum (or ``beta_1``) from a schedule every step.

    Reference: L. N. Smith, "A disciplined approach to neural network
    hyper-parameters: Part 1", 2018, [arXiv:1803.09820](https://arxiv.org/abs/1803.09820)
    (momentum cycled opposite to the learning rate).

    Before batch ``t`` (the optimizer's ``iterations``) the coefficient is
    ``schedule(t)``, assigned to the optimizer variable of the preset's
    ``Coefficient`` through ``ChainOptimizer.set_coefficient``: nothing on the
    optimizer is replaced, so whatever ends the fit (its end, an exception or
    a KeyboardInterrupt in a callback) the optimizer's config is unchanged
    and a model saved afterwards loads. At the end of a fit the coefficient
    is put back to its value at the start; a fit ended by an exception leaves
    the last scheduled value in the variable (optimizer state, saved with the
    model like ``iterations``).

    Simpler and free per batch: give the schedule to the preset itself,
    ``kerastools.optimizers.momentum(lr, momentum=schedule)`` (or
    ``adam(beta_1=schedule)``); it is evaluated inside the train step.

    Keras' built-in ``SGD``/``Adam`` are refused: they read ``momentum``/
    ``beta_1`` as a Python float that the compiled train step holds as a
    constant, so changing it between steps means replacing an attribute of
    the optimizer, which an interrupted fit would leave replaced. JAX: the
    train step carries the optimizer state between steps, so an assignment
    from a callback is not seen; it is refused there too, with what to use.

    Cost: one scalar assignment per batch (the schedule is evaluated
    vectorised, 256 steps at a time; ``iterations`` is read once per epoch).

    Args:
        schedule: a ``LearningRateSchedule`` of the step (e.g.
            ``OneCycle.momentum_schedule()``) giving the coefficient.
        stage: name of the stage whose ``Coefficient`` is set. Defaults to
            `None` (the optimizer's only one).

    Example:

    ```python
    lr = OneCycle(0.1, total_steps=epochs * steps_per_epoch)
    opt = kerastools.optimizers.momentum(lr, momentum=kerastools.optimizers.Coefficient(0.95))
    model.compile(optimizer=opt, ...)
    model.fit(..., callbacks=[MomentumScheduler(lr.momentum_schedule(0.85, 0.95))])
    ```
    """

    def __init__(self, schedule, stage=None):
        super().__init__()
        if not callable(schedule):
            raise ValueError(
                f"Argument `schedule` must be a schedule (callable of the step). "
                f"Received: schedule={schedule!r}"
            )
        if stage is not None and not isinstance(stage, str):
            raise ValueError(f"Argument `stage` must be a stage name or None. Received: stage={stage!r}")
        self.schedule = schedule
        self.stage = stage
        self._initial = None
        self._table_start = None
        self._table = None
        self._epoch_start = None

    def get_config(self):
        return {"schedule": keras.saving.serialize_keras_object(self.schedule), "stage": self.stage}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["schedule"] = keras.saving.deserialize_keras_object(config["schedule"])
        return cls(**config)

    def _optimizer(self):
        return _inner(self.model.optimizer)

    def _check(self):
        from kerastools.optimizers.chain import ChainOptimizer

        opt = self._optimizer()
        if not isinstance(opt, ChainOptimizer):
            raise ValueError(
                f"MomentumScheduler cannot drive Keras' {type(opt).__name__}: it reads "
                "`momentum`/`beta_1` as a Python float that the compiled train step holds as a "
                "constant, so a change between steps would mean replacing an attribute of the "
                "optimizer. Use a kerastools.optimizers preset with the schedule as its "
                "coefficient (momentum(lr, momentum=schedule), adam(lr, beta_1=schedule)): it is "
                f"read inside the step at no cost. Received: optimizer={type(opt).__name__}"
            )
        if keras.backend.backend() == "jax":
            raise ValueError(
                "MomentumScheduler cannot work on the JAX backend: the jitted train step "
                "carries the optimizer variables from step to step, so an assignment from a "
                "callback is not seen. Pass the schedule to the preset instead "
                "(momentum(lr, momentum=schedule), adam(lr, beta_1=schedule)): it is read "
                "inside the step. Received: backend='jax'"
            )
        names = [s.name for s in opt.coefficient_stages()]
        if not names or (self.stage is not None and self.stage not in names):
            raise ValueError(
                "MomentumScheduler needs an optimizer coefficient held in a variable: build the "
                "preset with momentum=kerastools.optimizers.Coefficient(0.9) (or beta_1=...), or "
                "better give it the schedule directly (momentum=schedule). "
                f"Stages with a Coefficient: {names}. Received: stage={self.stage!r}"
            )
        return opt

    def _variable(self, opt):
        stages = [s for s in opt.coefficient_stages() if self.stage in (None, s.name)]
        return stages[0].coefficient_variable()

    def on_train_begin(self, logs=None):
        opt = self._check()
        if not opt.built:
            opt.build(self.model.trainable_variables)
        self._initial = float(keras.ops.convert_to_numpy(self._variable(opt)))
        self._table_start = None
        self._epoch_start = None

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
        if self._epoch_start is None:
            self.on_epoch_begin(0)
        self._optimizer().set_coefficient(self.value_at(self._epoch_start + batch), self.stage)

    def on_train_end(self, logs=None):
        self._epoch_start = None
        if self._initial is not None:
            self._optimizer().set_coefficient(self._initial, self.stage)
        self._initial = None
