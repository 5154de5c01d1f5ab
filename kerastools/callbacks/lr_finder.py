"""LR range test (Smith 2017; fastai's ``lr_find``) as a callback and a function."""

import math

import keras
import numpy as np

from kerastools import _checks
from kerastools.filters import ARMAFilter


class LRFinderResult:
    """What an LR range test found.

    Attributes:
        learning_rates: the rate of every step run (NumPy array).
        losses: each step's training loss.
        smoothed_losses: ``losses`` through the transient-compensated EMA
            of the filter core (``ARMAFilter.ema(smoothing)``).
        suggestions: ``{"steepest": lr, "minimum_over_10": lr}``: the rate of
            steepest descent of the smoothed loss against ``log(lr)``, and the
            rate at its minimum divided by 10.
        stopped_early: whether the loss diverged before ``num_steps``.
    """

    def __init__(self, learning_rates, losses, smoothed_losses, suggestions, stopped_early,
                 skip_start=0, skip_end=0):
        self.learning_rates = np.asarray(learning_rates, dtype="float64")
        self.losses = np.asarray(losses, dtype="float64")
        self.smoothed_losses = np.asarray(smoothed_losses, dtype="float64")
        self.suggestions = dict(suggestions)
        self.stopped_early = bool(stopped_early)
        self.skip_start = skip_start
        self.skip_end = skip_end

    def plot(self, **kwargs):
        """A ``matplotlib.figure.Figure`` of loss against learning rate."""
        from kerastools.plotting.schedules import plot_lr_finder

        return plot_lr_finder(self, **kwargs)

    def as_dict(self):
        return {
            "learning_rates": self.learning_rates.tolist(),
            "losses": self.losses.tolist(),
            "smoothed_losses": self.smoothed_losses.tolist(),
            "suggestions": self.suggestions,
            "stopped_early": self.stopped_early,
        }

    def __repr__(self):
        s = ", ".join(f"{k}={v:.3g}" for k, v in self.suggestions.items() if v is not None)
        return f"LRFinderResult({len(self.losses)} steps, {s})"


def suggest(learning_rates, smoothed_losses, skip_start=10, skip_end=5):
    """``{"steepest": ..., "minimum_over_10": ...}`` from a smoothed range test."""
    lrs = np.asarray(learning_rates, dtype="float64")
    sm = np.asarray(smoothed_losses, dtype="float64")
    finite = np.isfinite(sm)
    lrs, sm = lrs[finite], sm[finite]
    if len(sm) == 0:
        return {"steepest": None, "minimum_over_10": None}
    minimum = float(lrs[int(np.argmin(sm))] / 10.0)
    lo, hi = skip_start, len(sm) - skip_end
    if hi - lo < 3:
        lo, hi = 0, len(sm)
    if hi - lo < 2:
        return {"steepest": None, "minimum_over_10": minimum}
    slope = np.gradient(sm[lo:hi], np.log(lrs[lo:hi]))
    steepest = float(lrs[lo + int(np.argmin(slope))])
    return {"steepest": steepest, "minimum_over_10": minimum}


class LRFinder(keras.callbacks.Callback):
    """LR range test: sweep the learning rate, record the loss, then restore the model.

    Reference: L. N. Smith, "Cyclical Learning Rates for Training Neural
    Networks", WACV 2017 (Sec. 3.3, "LR range test"); fastai's ``lr_find``.

    Step ``k`` of ``N = num_steps`` uses

    ```
    exponential: lr_k = min_lr * (max_lr / min_lr) ** (k / (N - 1))
    linear:      lr_k = min_lr + (max_lr - min_lr) * k / (N - 1)
    ```

    The loss of each batch (recovered from Keras' running epoch mean as
    ``(k+1) mean_k - k mean_{k-1}``) is smoothed by the filter core's
    transient-compensated EMA (``ARMAFilter.ema(smoothing)``); the sweep stops
    when the smoothed loss exceeds ``divergence_threshold`` times its minimum
    or is not finite. Afterwards every model variable and optimizer variable
    (``iterations`` included) is put back bit for bit, as is the optimizer's
    learning rate or schedule; ``result`` holds an ``LRFinderResult``.

    Use it with ``model.fit`` (enough epochs to cover ``num_steps``; it stops
    training itself) or through ``find_learning_rate``. For the sweep the
    optimizer's learning rate (a value or a schedule) is replaced by a schedule
    of its step counter, computed inside the compiled train step, so the sweep
    runs alike on TensorFlow, JAX and PyTorch. Batches should have equal sizes
    (a smaller last batch slightly biases its recovered loss) and
    ``steps_per_execution`` be 1.

    Args:
        min_learning_rate: start of the sweep, > 0. Defaults to `1e-7`.
        max_learning_rate: end of the sweep, > ``min_learning_rate``.
            Defaults to `10.0`.
        num_steps: steps of the sweep, >= 2. Defaults to `100`.
        mode: ``"exponential"`` or ``"linear"``. Defaults to `"exponential"`.
        smoothing: the EMA's decay, in [0, 1). Defaults to `0.98`.
        divergence_threshold: stop when the smoothed loss exceeds this many
            times its minimum, > 1. Defaults to `4.0`.
        skip_start: points left out at the start for the steepest-descent
            suggestion. Defaults to `10`.
        skip_end: points left out at the end. Defaults to `5`.

    Example:

    ```python
    finder = LRFinder(1e-6, 1.0, num_steps=200)
    model.fit(x, y, batch_size=64, epochs=10, callbacks=[finder], verbose=0)
    finder.result.suggestions, finder.result.plot()
    ```
    """

    def __init__(self, min_learning_rate=1e-7, max_learning_rate=10.0, num_steps=100,
                 mode="exponential", smoothing=0.98, divergence_threshold=4.0,
                 skip_start=10, skip_end=5):
        super().__init__()
        self.min_learning_rate = _checks.check_positive("min_learning_rate", min_learning_rate)
        self.max_learning_rate = _checks.check_positive("max_learning_rate", max_learning_rate)
        if self.max_learning_rate <= self.min_learning_rate:
            raise ValueError(
                f"Argument `max_learning_rate` must be > min_learning_rate "
                f"({self.min_learning_rate!r}). Received: max_learning_rate={max_learning_rate!r}"
            )
        self.num_steps = _checks.check_positive_int("num_steps", num_steps)
        if self.num_steps < 2:
            raise ValueError(f"Argument `num_steps` must be >= 2. Received: num_steps={num_steps!r}")
        self.mode = _checks.check_choice("mode", mode, ("exponential", "linear"))
        self.smoothing = _checks.check_in_range("smoothing", smoothing, 0.0, 1.0)
        self.divergence_threshold = _checks.check_finite("divergence_threshold",
                                                         divergence_threshold)
        if self.divergence_threshold <= 1.0:
            raise ValueError(
                "Argument `divergence_threshold` must be > 1. "
                f"Received: divergence_threshold={divergence_threshold!r}"
            )
        self.skip_start = _checks.check_positive_int("skip_start", skip_start, allow_zero=True)
        self.skip_end = _checks.check_positive_int("skip_end", skip_end, allow_zero=True)
        self.result = None

    def learning_rate_at(self, k):
        """The sweep's rate at step ``k``."""
        p = k / (self.num_steps - 1)
        if self.mode == "exponential":
            return self.min_learning_rate * (self.max_learning_rate / self.min_learning_rate) ** p
        return self.min_learning_rate + (self.max_learning_rate - self.min_learning_rate) * p

    # ------------------------------------------------------------- snapshot
    def on_train_begin(self, logs=None):
        model = self.model
        if getattr(model, "steps_per_execution", 1) not in (1, None):
            raise ValueError(
                "LRFinder needs steps_per_execution=1 (one callback per batch). "
                f"Received: steps_per_execution={model.steps_per_execution!r}"
            )
        opt = getattr(model.optimizer, "inner_optimizer", model.optimizer)
        self._opt = opt
        if not opt.built:
            opt.build(model.trainable_variables)
        self._model_state = [np.array(keras.ops.convert_to_numpy(v), copy=True)
                             for v in model.variables]
        self._opt_state = [np.array(keras.ops.convert_to_numpy(v), copy=True)
                           for v in opt.variables]
        self._rng_state = _backend_rng_state()
        # The sweep is a schedule of the optimizer's own step counter, computed inside the
        # compiled train step: a rate assigned from Python between steps would not reach a
        # JAX step (jit holds the optimizer state outside the Keras variables during fit).
        self._lr_object = opt._learning_rate
        object.__setattr__(opt, "_learning_rate", _SweepSchedule(
            self.min_learning_rate, self.max_learning_rate, self.num_steps, self.mode,
            int(keras.ops.convert_to_numpy(opt.iterations))))
        model.make_train_function(force=True)
        self._filter = ARMAFilter.ema(self.smoothing, transient_compensation=True)
        self._state = self._filter.initial_state((), "float64")
        self._k = 0
        self._lrs, self._losses, self._smoothed = [], [], []
        self._best = math.inf
        self._prev_mean = None
        self._stopped_early = False

    def on_epoch_begin(self, epoch, logs=None):
        self._prev_mean = None

    def on_train_batch_end(self, batch, logs=None):
        if self._k >= self.num_steps:
            self.model.stop_training = True
            return
        mean = float((logs or {}).get("loss", math.nan))
        loss = mean if self._prev_mean is None else (batch + 1) * mean - batch * self._prev_mean
        self._prev_mean = mean
        self._lrs.append(self.learning_rate_at(self._k))
        self._losses.append(loss)
        y, self._state = self._filter.step(keras.ops.convert_to_tensor(loss, "float64"),
                                           self._state)
        smoothed = float(keras.ops.convert_to_numpy(y))
        self._smoothed.append(smoothed)
        self._k += 1
        if not math.isfinite(smoothed) or smoothed > self.divergence_threshold * self._best:
            self._stopped_early = True
            self.model.stop_training = True
        self._best = min(self._best, smoothed) if math.isfinite(smoothed) else self._best
        if self._k >= self.num_steps:
            self.model.stop_training = True

    # ------------------------------------------------------------- restore
    def on_train_end(self, logs=None):
        model, opt = self.model, self._opt
        for v, value in zip(model.variables, self._model_state):
            v.assign(value)
        for v, value in zip(opt.variables, self._opt_state):
            v.assign(value)
        _set_backend_rng_state(self._rng_state)
        object.__setattr__(opt, "_learning_rate", self._lr_object)
        model.make_train_function(force=True)
        model.stop_training = False
        # The smoothed curve, from the filter core's NumPy side (equal to the
        # tensor-side recursion run during the sweep).
        smoothed = self._filter.apply(np.asarray(self._losses)) if self._losses else np.array([])
        self.result = LRFinderResult(
            self._lrs, self._losses, smoothed,
            suggest(self._lrs, smoothed, self.skip_start, self.skip_end),
            self._stopped_early, self.skip_start, self.skip_end)
        self._model_state = self._opt_state = None


class _SweepSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """The LR finder's sweep as a function of the optimizer's step counter.

    Step ``start + k`` gets ``LRFinder.learning_rate_at(k)``, held at the last rate
    past ``num_steps - 1``. Only ever installed for the length of a sweep (never saved).
    """

    def __init__(self, low, high, num_steps, mode, start):
        self.low, self.high, self.num_steps, self.mode, self.start = (
            low, high, num_steps, mode, start)

    def __call__(self, step):
        k = keras.ops.cast(step, "float32") - float(self.start)
        p = keras.ops.clip(k / float(self.num_steps - 1), 0.0, 1.0)
        if self.mode == "exponential":
            return self.low * keras.ops.exp(p * math.log(self.high / self.low))
        return self.low + (self.high - self.low) * p

    def get_config(self):
        return {"low": self.low, "high": self.high, "num_steps": self.num_steps,
                "mode": self.mode, "start": self.start}


def _backend_rng_state():
    """The backend's global random state, where Keras draws from one.

    Keras keeps seeded randomness in ``SeedGenerator`` variables (saved with the model's
    variables above), but on PyTorch an unseeded ``Dropout`` draws from torch's global
    generator: the sweep must not advance it.
    """
    if keras.backend.backend() == "torch":
        import torch

        return torch.random.get_rng_state()
    return None


def _set_backend_rng_state(state):
    if state is not None:
        import torch

        torch.random.set_rng_state(state)


def find_learning_rate(model, x, y=None, batch_size=32, min_learning_rate=1e-7,
                       max_learning_rate=10.0, num_steps=100, mode="exponential",
                       smoothing=0.98, divergence_threshold=4.0, shuffle=True, **fit_kwargs):
    """Runs an LR range test on a compiled model and puts the model back as it was.

    See ``LRFinder`` for the sweep, the smoothing and the stopping rule. With
    NumPy inputs, ``x`` is cut to whole batches so every batch has
    ``batch_size`` samples; enough epochs are run to cover ``num_steps``.

    Args:
        model: a compiled ``keras.Model``.
        x, y: training data (as for ``model.fit``).
        batch_size: Defaults to `32`.
        min_learning_rate, max_learning_rate, num_steps, mode, smoothing,
            divergence_threshold: see ``LRFinder``.
        shuffle: Defaults to `True`.
        **fit_kwargs: passed to ``model.fit`` (e.g. ``steps_per_epoch`` for a
            dataset).

    Returns:
        An ``LRFinderResult`` (``learning_rates``, ``losses``,
        ``smoothed_losses``, ``suggestions``, ``plot()``).

    Example:

    ```python
    result = find_learning_rate(model, x, y, batch_size=64, min_learning_rate=1e-6,
                                max_learning_rate=1.0, num_steps=150)
    model.optimizer.learning_rate = result.suggestions["steepest"]
    ```
    """
    finder = LRFinder(min_learning_rate, max_learning_rate, num_steps, mode, smoothing,
                      divergence_threshold)
    if isinstance(x, np.ndarray) and "steps_per_epoch" not in fit_kwargs:
        n = (len(x) // batch_size) * batch_size
        if n == 0:
            raise ValueError(
                f"Argument `x` must hold at least one batch of {batch_size}. "
                f"Received: x with {len(x)} samples"
            )
        x = x[:n]
        y = None if y is None else y[:n]
        steps_per_epoch = n // batch_size
    else:
        steps_per_epoch = fit_kwargs.get("steps_per_epoch")
    epochs = math.ceil(num_steps / steps_per_epoch) if steps_per_epoch else num_steps
    fit_kwargs.setdefault("verbose", 0)
    model.fit(x, y, batch_size=batch_size, epochs=epochs, shuffle=shuffle,
              callbacks=[finder] + list(fit_kwargs.pop("callbacks", [])), **fit_kwargs)
    return finder.result
