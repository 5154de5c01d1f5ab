"""ChainOptimizer: an optimizer as a learning rate and a chain of stages."""

import keras
from keras import ops

from kerastools import _native as xp
from kerastools._checks import check_non_negative
from kerastools.optimizers.stages import Coefficient
from kerastools.optimizers.stages import ScaleByLearningRate
from kerastools.optimizers.stages import Stage
from kerastools.optimizers.stages import StepContext
from kerastools.optimizers.stages import dense
from kerastools.optimizers.stages import times
from kerastools.optimizers.stages import value


def _copy_stage(stage, custom_objects=None):
    if isinstance(stage, dict):
        stage = keras.saving.deserialize_keras_object(stage, custom_objects=custom_objects)
    if not isinstance(stage, Stage):
        raise ValueError(
            "Argument `stages` must hold kerastools.optimizers.stages.Stage objects. "
            f"Received: {stage!r}"
        )
    # A fresh copy per optimizer: a stage holds its optimizer's state variables.
    return type(stage).from_config(stage.get_config())


@keras.saving.register_keras_serializable(package="kerastools")
class ChainOptimizer(keras.optimizers.Optimizer):
    """An optimizer as a learning rate and a chain of stages (optax's ``chain``, in Keras).

    Reference: the course's optimizers-as-ARMA-filters table; optax's
    ``chain``/``alias`` design (Babuschkin et al., 2020, "The DeepMind JAX
    Ecosystem").

    Update rule, for each variable ``w`` with gradient ``g``:

    ```
    u = g
    for stage in stages: u = stage.apply(u)     # filters, normalisers, ...
    w -= lr * u        (w -= u if a ScaleByLearningRate stage applied lr)
    ```

    Scalars (the learning rate, transient compensation) travel beside the
    update through the stages that are linear in it (``Stage.apply_scaled``)
    and multiply it once, at the end; a last stage that divides (a
    normalisation, ``Stage.apply_divided``) divides after that, as Keras'
    Adam computes ``(m * alpha) / (sqrt(v) + eps)``.

    Each stage keeps its state in optimizer variables named after it (so
    ``model.save`` keeps them). Sparse gradients (TensorFlow's
    ``IndexedSlices``) are made dense first. The base arguments
    (``weight_decay``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``,
    ``use_ema``, ``loss_scale_factor``, ``gradient_accumulation_steps``) work
    as in every Keras optimizer.

    Args:
        learning_rate: float >= 0 or a ``LearningRateSchedule``.
            Defaults to `0.001`.
        stages: a sequence of ``kerastools.optimizers.stages.Stage``.
            Defaults to `()` (plain SGD).
        name: Defaults to `"chain"`.
        **kwargs: base optimizer arguments.

    Example:

    >>> from kerastools.optimizers.stages import Filter, Normalize
    >>> opt = ChainOptimizer(1e-3, [
    ...     Filter(ARMAFilter.butterworth(2, 0.05, transient_compensation=True)),
    ...     Normalize(ARMAFilter.ema(0.999), epsilon=1e-8)])
    """

    def __init__(self, learning_rate=0.001, stages=(), name="chain", **kwargs):
        if isinstance(learning_rate, (int, float)) and not isinstance(learning_rate, bool):
            check_non_negative("learning_rate", learning_rate)
        custom_objects = kwargs.pop("custom_objects", None)
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        if isinstance(stages, Stage) or not isinstance(stages, (list, tuple)):
            raise ValueError("Argument `stages` must be a list of Stage objects. "
                             f"Received: stages={stages!r}")
        self._stages = tuple(_copy_stage(s, custom_objects) for s in stages)
        self._scales_lr = any(isinstance(s, ScaleByLearningRate) for s in self._stages)
        # Per-apply values (cleared, never re-assigned: setting an attribute of a Keras
        # optimizer goes through its tracker, a cost paid per variable and batch).
        self._step_cache = {}

    @property
    def stages(self):
        """The stages (this optimizer's own copies)."""
        return self._stages

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        for stage in self._stages:
            stage.build(self, var_list)

    def apply(self, grads, trainable_variables=None):
        # The first update_step of this call updates once-per-step scalar state.
        self._step_cache.clear()
        return super().apply(grads, trainable_variables)

    def update_step(self, gradient, variable, learning_rate):
        # Backend tensors and their own operators from here on (see kerastools._native).
        dtype = variable.dtype
        cache = self._step_cache
        is_first = "first" not in cache
        cache["first"] = False
        lr = cache.get(("learning_rate", dtype))
        if lr is None:
            lr = cache[("learning_rate", dtype)] = xp.cast(learning_rate, dtype)
        g = xp.cast(dense(gradient, variable), dtype)
        # The documented subclassing pattern of keras.optimizers.Optimizer.
        index = self._get_variable_index(variable)
        ctx = StepContext(self, variable, index, g, lr, is_first, cache)
        # The update travels with a scalar factor (None: 1), multiplied in once at the end;
        # the last stage's division (a normalisation) comes after it, as in Keras.
        u, factor, divisor = g, None, None
        if self._stages:
            *body, last = self._stages
            for stage in body:
                u, factor = stage.apply_scaled(u, factor, ctx)
            u, factor, divisor = last.apply_divided(u, factor, ctx)
        if not self._scales_lr:
            factor = times(factor, lr)
        xp.assign_sub(self, variable, u, value(factor), divisor)

    # ----------------------------------------------------- scheduled coefficients
    def coefficient_stages(self):
        """Stages whose pole is a ``Coefficient`` (settable between steps)."""
        return [s for s in self._stages if isinstance(s.pole, Coefficient)]

    def set_coefficient(self, value, stage=None):
        """Assigns a ``Coefficient`` pole (e.g. ``momentum``/``beta_1``) for the next steps.

        Args:
            value: the new coefficient (float or scalar tensor) in [0, 1).
            stage: the stage name; `None`: the only ``Coefficient`` stage.
        """
        stages = [s for s in self.coefficient_stages() if stage is None or s.name == stage]
        if len(stages) != 1:
            names = [s.name for s in self.coefficient_stages()]
            raise ValueError(
                "Argument `stage` must name one stage with a Coefficient pole "
                f"(this optimizer has {names}). Received: stage={stage!r}"
            )
        if not self.built:
            raise ValueError("The optimizer must be built (by its first step or "
                             "`optimizer.build(model.trainable_variables)`) before "
                             "set_coefficient. Received: an unbuilt optimizer")
        var = stages[0].coefficient_variable()
        var.assign(ops.cast(value, var.dtype))

    def get_config(self):
        config = super().get_config()
        config["stages"] = [keras.saving.serialize_keras_object(s) for s in self._stages]
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["stages"] = [
            keras.saving.deserialize_keras_object(s, custom_objects=custom_objects)
            if isinstance(s, dict) else s for s in config.get("stages", ())]
        return super().from_config(config, custom_objects=custom_objects)
