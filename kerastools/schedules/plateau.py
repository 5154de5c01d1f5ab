"""A plateau rule on top of any schedule: the rate is scaled down when a metric stops improving."""

import math

import keras
from keras import ops

from kerastools import _checks
from kerastools.schedules._base import deserialize_schedule
from kerastools.schedules._base import evaluate
from kerastools.schedules._base import prepare_step
from kerastools.schedules._base import scalar
from kerastools.schedules._base import serialize_schedule

# While a PlateauMonitor reads `optimizer.learning_rate`, every ReduceOnPlateau
# evaluated adds itself to the innermost list (how the callback finds the
# schedules inside an optimizer through public API only).
_PROBES = []


def _check_count(name, value):
    return _checks.check_positive_int(name, value, allow_zero=True)


@keras.saving.register_keras_serializable(package="kerastools")
class ReduceOnPlateau(keras.optimizers.schedules.LearningRateSchedule):
    """``schedule(t) * scale``, the scale multiplied by ``factor`` when a metric plateaus.

    Reference: PyTorch's ``ReduceLROnPlateau`` (same arguments, defaults and
    rule) and Keras' ``ReduceLROnPlateau``, applied to a scale on top of any
    schedule (timm's plateau mode, or PyTorch's plateau scheduler beside
    another scheduler) instead of to a constant rate.

    At the end of each epoch ``kerastools.callbacks.PlateauMonitor`` passes
    ``logs[monitor]`` to ``update``, which does what PyTorch's ``step(metric)``
    does:

    ```
    better = metric < best * (1 - threshold)   (mode "min", threshold_mode "rel")
             metric < best - threshold         ("min", "abs")
             metric > best * (1 + threshold)   ("max", "rel");  > best + threshold ("max", "abs")
    better: best = metric, num_bad_epochs = 0;  else num_bad_epochs += 1
    in cooldown (cooldown_counter > 0): cooldown_counter -= 1, num_bad_epochs = 0
    num_bad_epochs > patience: scale = max(scale * factor, min_scale) (if it drops by > eps),
                               cooldown_counter = cooldown, num_bad_epochs = 0
    ```

    The scale is a ``keras.Variable`` read inside the compiled step (on
    TensorFlow and PyTorch an assignment takes effect at once; on JAX, which
    folds it into the jitted step, ``PlateauMonitor`` rebuilds the train
    function after a reduction: a retrace per reduction, nothing per step).
    The scale and the rule's state (``best``, ``num_bad_epochs``,
    ``cooldown_counter``) are constructor arguments written by
    ``get_config``, so ``model.save`` keeps a reduced rate and
    ``load_model`` resumes the rule where it was.

    Differences: PyTorch's ``min_lr`` is absolute; here the floor is on the
    scale (``min_scale``), since the rate under it moves; ``eps`` compares
    scales. ``best=None`` means "no value yet".

    Args:
        schedule: a ``LearningRateSchedule`` or a constant learning rate.
        monitor: the ``logs`` key watched. Defaults to `"val_loss"`.
        mode: ``"min"`` or ``"max"``. Defaults to `"min"`.
        factor: the scale's multiplier at a plateau, in (0, 1). Defaults to
            `0.1`.
        patience: epochs without improvement tolerated, >= 0. Defaults to
            `10`.
        threshold: the improvement that counts, >= 0. Defaults to `1e-4`.
        threshold_mode: ``"rel"`` or ``"abs"``. Defaults to `"rel"`.
        cooldown: epochs after a reduction during which bad epochs are not
            counted, >= 0. Defaults to `0`.
        min_scale: the lowest scale, in [0, 1]. Defaults to `0.0`.
        eps: reductions of the scale smaller than this are skipped, >= 0.
            Defaults to `1e-8`.
        scale: the current scale, in (0, 1]. Defaults to `1.0`.
        best: the best metric so far, or `None`. Defaults to `None`.
        num_bad_epochs: state, >= 0. Defaults to `0`.
        cooldown_counter: state, >= 0. Defaults to `0`.
        name: Defaults to `"ReduceOnPlateau"`.

    Example:

    ```python
    lr = ReduceOnPlateau(SGDR(0.05, 10 * steps_per_epoch), factor=0.5, patience=3)
    model.compile(optimizer=keras.optimizers.SGD(lr, momentum=0.9), ...)
    model.fit(..., validation_data=..., callbacks=[kerastools.callbacks.PlateauMonitor()])
    ```
    """

    def __init__(self, schedule, monitor="val_loss", mode="min", factor=0.1, patience=10,
                 threshold=1e-4, threshold_mode="rel", cooldown=0, min_scale=0.0, eps=1e-8,
                 scale=1.0, best=None, num_bad_epochs=0, cooldown_counter=0,
                 name="ReduceOnPlateau"):
        super().__init__()
        schedule = deserialize_schedule(schedule)
        if not isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule):
            schedule = _checks.check_non_negative("schedule", scalar("schedule", schedule))
        self.schedule = schedule
        if not isinstance(monitor, str):
            raise ValueError(  # noqa: TRY004 (the project's rule: ValueError)
                f"Argument `monitor` must be a logs key (str). Received: monitor={monitor!r}"
            )
        self.monitor = monitor
        self.mode = _checks.check_choice("mode", mode, ("min", "max"))
        self.factor = _checks.check_in_range("factor", scalar("factor", factor), 0.0, 1.0,
                                             low_closed=False, high_closed=False)
        self.patience = _check_count("patience", patience)
        self.threshold = _checks.check_non_negative("threshold", scalar("threshold", threshold))
        self.threshold_mode = _checks.check_choice("threshold_mode", threshold_mode, ("rel", "abs"))
        self.cooldown = _check_count("cooldown", cooldown)
        self.min_scale = _checks.check_in_range("min_scale", scalar("min_scale", min_scale), 0.0, 1.0,
                                                high_closed=True)
        self.eps = _checks.check_non_negative("eps", scalar("eps", eps))
        self.scale = _checks.check_in_range("scale", scalar("scale", scale), 0.0, 1.0,
                                            low_closed=False, high_closed=True)
        self.best = None if best is None else _checks.check_finite("best", scalar("best", best))
        self.num_bad_epochs = _check_count("num_bad_epochs", num_bad_epochs)
        self.cooldown_counter = _check_count("cooldown_counter", cooldown_counter)
        self.name = name
        self._variable = keras.Variable(self.scale, dtype="float32", trainable=False,
                                        name="plateau_scale")

    def __call__(self, step):
        if _PROBES:
            _PROBES[-1].append(self)
        with keras.name_scope(self.name or "ReduceOnPlateau"):
            step, dtype = prepare_step(step)
            return evaluate(self.schedule, step, dtype) * ops.cast(self._variable, dtype)

    def is_better(self, value, best):
        """PyTorch's comparison of ``value`` with ``best`` (None: always better)."""
        if best is None:
            return not math.isnan(value)
        if self.mode == "min":
            limit = best * (1.0 - self.threshold) if self.threshold_mode == "rel" else best - self.threshold
            return value < limit
        limit = best * (1.0 + self.threshold) if self.threshold_mode == "rel" else best + self.threshold
        return value > limit

    def update(self, value):
        """One epoch's metric; returns True when the scale was reduced."""
        value = float(value)
        if self.is_better(value, self.best):
            self.best = value
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        reduced = False
        if self.num_bad_epochs > self.patience:
            new = max(self.scale * self.factor, self.min_scale)
            if self.scale - new > self.eps:
                self.scale = new
                self._variable.assign(new)
                reduced = True
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        return reduced

    def get_config(self):
        return {
            "schedule": serialize_schedule(self.schedule),
            "monitor": self.monitor,
            "mode": self.mode,
            "factor": self.factor,
            "patience": self.patience,
            "threshold": self.threshold,
            "threshold_mode": self.threshold_mode,
            "cooldown": self.cooldown,
            "min_scale": self.min_scale,
            "eps": self.eps,
            "scale": self.scale,
            "best": self.best,
            "num_bad_epochs": self.num_bad_epochs,
            "cooldown_counter": self.cooldown_counter,
            "name": self.name,
        }


def find_plateau_schedules(optimizer):
    """The ``ReduceOnPlateau`` schedules that ``optimizer``'s learning rate evaluates."""
    _PROBES.append([])
    try:
        _ = optimizer.learning_rate  # evaluates the schedule at `iterations` (public API)
    finally:
        found = _PROBES.pop()
    unique = []
    for s in found:
        if not any(s is u for u in unique):
            unique.append(s)
    return unique
