"""LearningRateLogger: the learning rate actually used, into ``logs`` and History."""

import keras
import numpy as np

from kerastools.callbacks.epoch_logs import check_log_to
from kerastools.callbacks.epoch_logs import write_epoch_values
from kerastools.callbacks.momentum_scheduler import momentum_at  # noqa: F401 (public here too)


def _optimizer(model):
    opt = model.optimizer
    return getattr(opt, "inner_optimizer", opt)


def learning_rate_schedule_of(optimizer):
    """A copy of ``optimizer``'s learning-rate schedule, or None for a float or variable rate.

    Read through the optimizer's public ``get_config()`` (which serializes the
    schedule with its current state, e.g. a plateau scale), never through a
    private attribute.
    """
    config = optimizer.get_config().get("learning_rate")
    if not isinstance(config, dict):
        return None
    schedule = keras.saving.deserialize_keras_object(config)
    if isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule):
        return schedule
    return None


def learning_rate_at(optimizer, step):
    """The learning rate ``optimizer`` uses at ``step`` (a float).

    A schedule is evaluated at ``step``; a variable or constant learning rate
    (e.g. set by ``ReduceLROnPlateau``) is read as it is now.
    """
    schedule = learning_rate_schedule_of(optimizer)
    if schedule is not None:
        return float(keras.ops.convert_to_numpy(schedule(step)))
    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))


@keras.saving.register_keras_serializable(package="kerastools")
class LearningRateLogger(keras.callbacks.Callback):
    """Writes the learning rate used (and a varying momentum) into the epoch logs.

    Reference: Keras' ``History``/``CSVLogger``/``TensorBoard`` read ``logs``;
    Keras evaluates a ``LearningRateSchedule`` at the optimizer's
    ``iterations`` (the number of steps taken before the update).

    At the end of epoch ``e`` it sets ``logs[key]`` to the learning rate of
    the epoch's last step, ``schedule(iterations - 1)``
    (``at="last"``, the default), or to the rate the next step will use,
    ``schedule(iterations)`` (``at="next"``, what ``optimizer.learning_rate``
    returns). With a constant or ``ReduceLROnPlateau``-driven rate both are the
    current value. Also ``logs["momentum"]`` or ``logs["beta_1"]`` when that
    coefficient varies (a ``FilterOptimizer`` schedule, or
    ``MomentumScheduler``).

    Place it before ``CSVLogger``/``TensorBoard`` in ``callbacks`` (Keras
    calls callbacks in order and appends ``History`` last). The keys are
    fixed at the first epoch end of each fit and written at every epoch end
    (NaN for a momentum that stops being readable), so ``History`` stays
    rectangular; ``log_to="history"`` keeps them off the progress line (see
    ``kerastools.callbacks.epoch_logs``). It does no work per
    batch unless ``per_batch=True``, which also records every step's rate in
    ``batch_learning_rates`` (and ``batch_momenta``) and puts it in the batch
    logs.

    Args:
        per_batch: also log every batch. Defaults to `False`.
        log_momentum: log a varying momentum/``beta_1``. Defaults to `True`.
        key: the logs key. Defaults to `"learning_rate"`.
        at: ``"last"`` or ``"next"`` (see above). Defaults to `"last"`.
        log_to: ``"logs"`` (the epoch logs: progress line, ``History``,
            ``CSVLogger``, ``TensorBoard``) or ``"history"`` (``History``
            only). Defaults to `"logs"`.

    Example:

    ```python
    history = model.fit(x, y, epochs=10,
                        callbacks=[LearningRateLogger(), keras.callbacks.CSVLogger("log.csv")])
    history.history["learning_rate"]
    ```
    """

    def __init__(self, per_batch=False, log_momentum=True, key="learning_rate", at="last",
                 log_to="logs"):
        super().__init__()
        if at not in ("last", "next"):
            raise ValueError(f"Argument `at` must be one of ['last', 'next']. Received: at={at!r}")
        if not isinstance(key, str) or not key:
            raise ValueError(f"Argument `key` must be a non-empty string. Received: key={key!r}")
        self.per_batch = bool(per_batch)
        self.log_momentum = bool(log_momentum)
        self.key = key
        self.at = at
        self.log_to = check_log_to(log_to)
        self._epoch_keys = None
        self.batch_learning_rates = []
        self.batch_momenta = []
        if self.per_batch:
            # Only then a batch hook (the default one keeps Keras' async dispatch).
            self.on_train_batch_end = self._log_batch

    def _step(self, optimizer):
        iterations = int(keras.ops.convert_to_numpy(optimizer.iterations))
        return max(iterations - 1, 0) if self.at == "last" else iterations

    def _write(self, logs):
        opt = _optimizer(self.model)
        step = self._step(opt)
        lr = learning_rate_at(opt, step)
        return lr, self._log_into(logs, opt, step, lr)

    def _log_into(self, logs, opt, step, lr):
        """Puts ``lr`` (and the momentum, if asked) into ``logs``; returns the momentum."""
        logs[self.key] = lr
        momentum = None
        if self.log_momentum:
            name, momentum = momentum_at(opt, step)
            if name is not None:
                logs[name] = momentum
        return momentum

    def on_train_begin(self, logs=None):
        self._epoch_keys = None
        self._epoch_start = None
        self.batch_learning_rates = []
        self.batch_momenta = []

    def _batch_learning_rate(self, opt, step):
        """A schedule's rate from a vectorised table of 256 steps (one call per 256 batches)."""
        start = getattr(self, "_table_start", None)
        if start is None or not start <= step < start + 256:
            schedule = learning_rate_schedule_of(opt)
            if schedule is None:
                return None
            try:
                steps = np.arange(step, step + 256, dtype="float32")
                table = np.asarray(keras.ops.convert_to_numpy(schedule(steps)), dtype="float64")
            except (TypeError, ValueError, RuntimeError):
                # e.g. PiecewiseConstantDecay on PyTorch does not broadcast over steps
                return None
            if table.shape != steps.shape:
                return None
            self._table, self._table_start = table, step
        return float(self._table[step - self._table_start])

    def on_epoch_begin(self, epoch, logs=None):
        if self.per_batch:
            # One read of `iterations` per epoch; batch b used step start + b.
            opt = _optimizer(self.model)
            self._epoch_start = int(keras.ops.convert_to_numpy(opt.iterations))
            self._table_start = None  # a schedule may change between epochs (a plateau scale)

    def _log_batch(self, batch, logs=None):
        logs = logs if logs is not None else {}
        opt = _optimizer(self.model)
        if getattr(self, "_epoch_start", None) is None:
            self.on_epoch_begin(0)
        step = self._epoch_start + batch
        lr = self._batch_learning_rate(opt, step)
        if lr is None:
            lr = learning_rate_at(opt, step)
        momentum = self._log_into(logs, opt, step, lr)
        self.batch_learning_rates.append(lr)
        if momentum is not None:
            self.batch_momenta.append(momentum)

    def on_epoch_end(self, epoch, logs=None):
        values = {}
        self._write(values)
        if self._epoch_keys is None:
            self._epoch_keys = list(values)
        values = {k: values.get(k, float("nan")) for k in self._epoch_keys}
        write_epoch_values(self.model, logs, values, self.log_to)

    def get_config(self):
        return {"per_batch": self.per_batch, "log_momentum": self.log_momentum,
                "key": self.key, "at": self.at, "log_to": self.log_to}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

