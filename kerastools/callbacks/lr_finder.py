"""LR range test (Smith 2017; fastai's ``lr_find``) as a callback and a function."""

import io
import math
import random
import sys

import keras
import numpy as np

from kerastools import _checks
from kerastools.callbacks.tensorboard_images import check_tensorboard_dir
from kerastools.callbacks.tensorboard_images import write_summaries
from kerastools.filters import ARMAFilter

SUGGESTIONS = ("steepest", "minimum_over_10", "valley")


@keras.saving.register_keras_serializable(package="kerastools")
class LRSweep(keras.optimizers.schedules.LearningRateSchedule):
    """The LR range test's rates as a schedule of the optimizer's step counter.

    Step ``start_step + k`` of a sweep of ``N = num_steps`` steps gets

    ```
    exponential: lr_k = min_lr * (max_lr / min_lr) ** (k / (N - 1))
    linear:      lr_k = min_lr + (max_lr - min_lr) * k / (N - 1)
    ```

    with ``k`` clipped to ``[0, N - 1]``. Computed inside the compiled train
    step, so the sweep runs alike on TensorFlow, JAX and PyTorch.

    Args:
        min_learning_rate: the first rate, > 0.
        max_learning_rate: the last rate, > ``min_learning_rate``.
        num_steps: steps of the sweep, >= 2.
        mode: ``"exponential"`` or ``"linear"``. Defaults to `"exponential"`.
        start_step: the optimizer step of the sweep's first rate, >= 0.
            Defaults to `0`.

    Example:

    >>> sweep = LRSweep(1e-6, 1.0, num_steps=100)
    >>> # float(sweep(99)) -> 1.0
    """

    def __init__(self, min_learning_rate, max_learning_rate, num_steps, mode="exponential",
                 start_step=0):
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
        self.start_step = _checks.check_positive_int("start_step", start_step, allow_zero=True)

    def rate(self, k):
        """The rate of sweep step ``k`` (a Python float, ``k`` in ``[0, num_steps - 1]``)."""
        p = min(max(k, 0), self.num_steps - 1) / (self.num_steps - 1)
        if self.mode == "exponential":
            return self.min_learning_rate * (self.max_learning_rate / self.min_learning_rate) ** p
        return self.min_learning_rate + (self.max_learning_rate - self.min_learning_rate) * p

    def __call__(self, step):
        k = keras.ops.cast(step, "float32") - float(self.start_step)
        p = keras.ops.clip(k / float(self.num_steps - 1), 0.0, 1.0)
        if self.mode == "exponential":
            return self.min_learning_rate * keras.ops.exp(
                p * math.log(self.max_learning_rate / self.min_learning_rate))
        return self.min_learning_rate + (self.max_learning_rate - self.min_learning_rate) * p

    def get_config(self):
        return {"min_learning_rate": self.min_learning_rate,
                "max_learning_rate": self.max_learning_rate, "num_steps": self.num_steps,
                "mode": self.mode, "start_step": self.start_step}


class LRFinderResult:
    """What an LR range test found.

    Attributes:
        learning_rates: the rate of every step run (NumPy array).
        losses: each step's training loss.
        smoothed_losses: ``losses`` through the transient-compensated EMA
            of the filter core (``ARMAFilter.ema(smoothing)``).
        suggestions: ``{"steepest": lr, "minimum_over_10": lr, "valley": lr}``:
            the rate of steepest descent of the smoothed loss against
            ``log(lr)``, the rate at its minimum divided by 10, and fastai's
            ``valley`` (see ``valley``); ``None`` where the sweep is too short.
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
        """A ``matplotlib.figure.Figure`` of loss against learning rate, suggestions marked."""
        from kerastools.plotting.schedules import plot_lr_finder

        return plot_lr_finder(self, **kwargs)

    def to_tensorboard(self, logdir, step=0, dpi=100):
        """Writes ``plot()`` as the image ``lr_finder`` to a TensorBoard log directory
        (TensorFlow backend; elsewhere a ``ValueError`` saying what to use)."""
        logdir = check_tensorboard_dir("logdir", logdir)
        buf = io.BytesIO()
        self.plot().savefig(buf, format="png", dpi=dpi)
        write_summaries(logdir, step, images={"lr_finder": buf.getvalue()})

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


def valley(learning_rates, losses):
    """fastai's ``valley``: the rate 1/3 + 1/6 of the way down the longest valley.

    The longest run of steps over which the loss keeps decreasing (the
    longest decreasing subsequence, as fastai's ``valley`` computes it, with
    its O(n^2) dynamic programme), then the point at half of its second third.
    Returns ``None`` for fewer than 2 points.
    """
    lrs = np.asarray(learning_rates, dtype="float64")
    losses = np.asarray(losses, dtype="float64")
    n = len(losses)
    if n < 2:
        return None
    lds = np.ones(n, dtype=np.int64)
    max_start = max_end = 0
    for i in range(1, n):
        # fastai's inner loop over j < i, vectorised: lds[i] grows as a running maximum.
        candidates = np.where(losses[:i] > losses[i], lds[:i] + 1, 1)
        running = np.maximum.accumulate(candidates)
        lds[i] = running[-1]
        if running[-1] > lds[max_end]:
            # fastai updates max_start when lds[i] first passes lds[max_end]
            first = int(np.argmax(running > lds[max_end]))
            max_end, max_start = i, i - int(running[first])
    sections = (max_end - max_start) / 3
    idx = max_start + int(sections) + int(sections / 2)
    return float(lrs[idx])


def suggest(learning_rates, smoothed_losses, skip_start=10, skip_end=5):
    """``{"steepest", "minimum_over_10", "valley"}`` from a smoothed range test.

    Non-finite points are dropped; ``steepest`` and ``valley`` leave out the
    first ``skip_start`` and last ``skip_end`` points (all points where fewer
    than 3 would remain), ``minimum_over_10`` looks at every point.
    """
    lrs = np.asarray(learning_rates, dtype="float64")
    sm = np.asarray(smoothed_losses, dtype="float64")
    finite = np.isfinite(sm)
    lrs, sm = lrs[finite], sm[finite]
    out = dict.fromkeys(SUGGESTIONS)
    if len(sm) == 0:
        return out
    out["minimum_over_10"] = float(lrs[int(np.argmin(sm))] / 10.0)
    lo, hi = skip_start, len(sm) - skip_end
    if hi - lo < 3:
        lo, hi = 0, len(sm)
    if hi - lo < 2:
        return out
    slope = np.gradient(sm[lo:hi], np.log(lrs[lo:hi]))
    out["steepest"] = float(lrs[lo + int(np.argmin(slope))])
    out["valley"] = valley(lrs[lo:hi], sm[lo:hi])
    return out


def diverged(smoothed, best, threshold):
    """The stopping rule: not finite, or above the best smoothed loss by more than
    ``(threshold - 1) |best|`` (fastai's ``smoothed > threshold * best`` for positive
    losses, and a rule that also holds for negative ones, e.g. cosine similarity)."""
    if not math.isfinite(smoothed):
        return True
    return math.isfinite(best) and smoothed - best > (threshold - 1.0) * abs(best)


def _resolve_verbose(verbose):
    if verbose == "auto":
        try:
            from IPython import get_ipython
        except ImportError:
            get_ipython = None
        shell = get_ipython() if get_ipython is not None else None
        if shell is not None and "IPKernelApp" in getattr(shell, "config", {}):
            return 1
        return 1 if getattr(sys.stdout, "isatty", lambda: False)() else 2
    if verbose not in (0, 1, 2):
        raise ValueError(f"Argument `verbose` must be 'auto', 0, 1 or 2. Received: verbose={verbose!r}")
    return verbose


class LRFinder(keras.callbacks.Callback):
    """LR range test on the model it is given: sweep the rate, record the loss, stop.

    Reference: L. N. Smith, "Cyclical Learning Rates for Training Neural
    Networks", WACV 2017 (Sec. 3.3, "LR range test"); fastai's ``lr_find``.

    At ``on_train_begin`` it sets the optimizer's learning rate to an
    ``LRSweep`` starting at the optimizer's current step (through the
    public ``optimizer.learning_rate = schedule``, which Keras allows for
    any optimizer and which cannot be undone for one created with a float
    rate) and rebuilds the train function. The loss of each batch
    (recovered from Keras' running epoch mean as ``(k+1) mean_k - k mean_{k-1}``)
    is smoothed by the compensated EMA ``s_n = p s_{n-1} + (1 - p) loss_n``,
    ``shown_n = s_n / (1 - p^(n+1))`` (the filter core's
    ``ARMAFilter.ema(smoothing)``); the sweep stops after ``num_steps`` steps
    or when the smoothed loss diverges (see ``diverged``). ``result`` then
    holds an ``LRFinderResult``.

    This callback trains the model it is attached to: that is what the sweep
    is. ``find_learning_rate`` runs it on a copy of the model and optimizer,
    so the model you pass is never touched, whatever ends the sweep; use that
    unless you need the callback in a ``fit`` of your own (on a model you
    discard or reload afterwards). Batches should have equal sizes (a smaller
    last batch slightly biases its recovered loss) and ``steps_per_execution``
    be 1.

    Args:
        min_learning_rate: start of the sweep, > 0. Defaults to `1e-7`.
        max_learning_rate: end of the sweep, > ``min_learning_rate``.
            Defaults to `10.0`.
        num_steps: steps of the sweep, >= 2. Defaults to `100`.
        mode: ``"exponential"`` or ``"linear"``. Defaults to `"exponential"`.
        smoothing: the EMA's decay, in [0, 1). Defaults to `0.98`.
        divergence_threshold: the stopping rule's factor, > 1. Defaults to `4.0`.
        skip_start: points left out at the start for ``steepest`` and
            ``valley``. Defaults to `10`.
        skip_end: points left out at the end. Defaults to `5`.
        verbose: ``0`` silent, ``1`` a progress bar over the sweep's steps
            (rate and smoothed loss), ``2`` one line at the end. Defaults to `0`.

    Example:

    ```python
    finder = LRFinder(1e-6, 1.0, num_steps=200)
    throwaway.fit(x, y, batch_size=64, epochs=10, callbacks=[finder], verbose=0)
    finder.result.suggestions, finder.result.plot()
    ```
    """

    def __init__(self, min_learning_rate=1e-7, max_learning_rate=10.0, num_steps=100,
                 mode="exponential", smoothing=0.98, divergence_threshold=4.0,
                 skip_start=10, skip_end=5, verbose=0):
        super().__init__()
        sweep = LRSweep(min_learning_rate, max_learning_rate, num_steps, mode)
        self.min_learning_rate = sweep.min_learning_rate
        self.max_learning_rate = sweep.max_learning_rate
        self.num_steps = sweep.num_steps
        self.mode = sweep.mode
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
        self.verbose = _resolve_verbose(verbose)
        self.result = None
        self._losses = None

    def schedule(self, start_step=0):
        """The sweep as an ``LRSweep`` whose first rate is at ``start_step``."""
        return LRSweep(self.min_learning_rate, self.max_learning_rate, self.num_steps,
                       self.mode, start_step)

    def learning_rate_at(self, k):
        """The sweep's rate at step ``k``."""
        return self.schedule().rate(k)

    def on_train_begin(self, logs=None):
        model = self.model
        if getattr(model, "steps_per_execution", 1) not in (1, None):
            raise ValueError(
                "LRFinder needs steps_per_execution=1 (one callback per batch). "
                f"Received: steps_per_execution={model.steps_per_execution!r}"
            )
        opt = model.optimizer
        start = int(keras.ops.convert_to_numpy(opt.iterations))
        opt.learning_rate = self.schedule(start)
        model.make_train_function(force=True)
        self.result = None
        self._k = 0
        self._lrs, self._losses = [], []
        self._ema, self._best = 0.0, math.inf
        self._prev_mean = None
        self._stopped_early = False
        self._progbar = None
        if self.verbose:
            self._progbar = keras.utils.Progbar(self.num_steps, verbose=self.verbose,
                                                stateful_metrics=["lr", "smoothed_loss"])

    def on_epoch_begin(self, epoch, logs=None):
        self._prev_mean = None

    def on_train_batch_end(self, batch, logs=None):
        if self._k >= self.num_steps:
            self.model.stop_training = True
            return
        mean = float((logs or {}).get("loss", math.nan))
        loss = mean if self._prev_mean is None else (batch + 1) * mean - batch * self._prev_mean
        self._prev_mean = mean
        lr = self.learning_rate_at(self._k)
        self._lrs.append(lr)
        self._losses.append(loss)
        p = self.smoothing
        self._ema = p * self._ema + (1.0 - p) * loss
        smoothed = self._ema / (1.0 - p ** (self._k + 1))
        self._k += 1
        if diverged(smoothed, self._best, self.divergence_threshold):
            self._stopped_early = True
            self.model.stop_training = True
        elif smoothed < self._best:
            self._best = smoothed
        if self._k >= self.num_steps:
            self.model.stop_training = True
        if self._progbar is not None:
            self._progbar.update(self._k, [("lr", lr), ("smoothed_loss", smoothed)],
                                 finalize=self.model.stop_training)

    def on_train_end(self, logs=None):
        self.finish()

    def finish(self):
        """Builds ``result`` from the steps recorded so far (``on_train_end`` calls it;
        ``find_learning_rate`` also calls it when a ``fit`` ends in an exception)."""
        if self._losses is None:
            return self.result
        # The smoothed curve from the filter core (the recursion run during the sweep).
        losses = np.asarray(self._losses, dtype="float64")
        smoothed = (ARMAFilter.ema(self.smoothing, transient_compensation=True).apply(losses)
                    if len(losses) else np.array([]))
        self.result = LRFinderResult(
            self._lrs, losses, smoothed,
            suggest(self._lrs, smoothed, self.skip_start, self.skip_end),
            self._stopped_early, self.skip_start, self.skip_end)
        self._losses = None
        if self.model is not None:
            self.model.stop_training = False
        return self.result


def _rng_states():
    """The global random states a sweep could advance: Python's, NumPy's and, on
    PyTorch, torch's (an unseeded Dropout draws from it)."""
    states = {"python": random.getstate(), "numpy": np.random.get_state()}
    if keras.backend.backend() == "torch":
        import torch

        states["torch"] = torch.random.get_rng_state()
        if torch.cuda.is_available():
            states["torch_cuda"] = torch.cuda.get_rng_state_all()
    return states


def _set_rng_states(states):
    random.setstate(states["python"])
    np.random.set_state(states["numpy"])
    if "torch" in states:
        import torch

        torch.random.set_rng_state(states["torch"])
        if "torch_cuda" in states:
            torch.cuda.set_rng_state_all(states["torch_cuda"])


def _optimizer_copy(optimizer):
    """A new optimizer of the same class and configuration (the rate as a float: the
    sweep replaces it anyway, and a schedule need not be deserializable)."""
    serialized = keras.optimizers.serialize(optimizer)
    config = serialized["config"]
    inner = config.get("inner_optimizer")  # LossScaleOptimizer
    target = inner["config"] if isinstance(inner, dict) and "config" in inner else config
    if "learning_rate" in target:
        target["learning_rate"] = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
    return keras.optimizers.deserialize(serialized)


def _state_variables(optimizer):
    """The optimizer's variables without a float learning rate's variable."""
    lr = optimizer.learning_rate
    lr_id = id(lr) if isinstance(lr, keras.Variable) else None
    return [v for v in optimizer.variables if id(v) != lr_id]


def _copy_values(sources, targets, what):
    if len(sources) != len(targets) or any(
            tuple(s.shape) != tuple(t.shape) for s, t in zip(sources, targets)):
        raise ValueError(
            f"find_learning_rate could not copy the {what}: the copy has "
            f"{[tuple(t.shape) for t in targets]}, the original {[tuple(s.shape) for s in sources]}. "
            "Use LRFinder in a fit of your own on a model you can discard.")
    for s, t in zip(sources, targets):
        t.assign(keras.ops.convert_to_numpy(s))


def sweep_copy(model):
    """A copy of a compiled model for the LR range test: same layers, weights, loss,
    optimizer class, configuration and state (``iterations`` and a loss scale included),
    compiled without metrics and with ``steps_per_execution=1``. The original shares
    no variable with it."""
    if getattr(model, "optimizer", None) is None or getattr(model, "loss", None) is None:
        raise ValueError(
            "Argument `model` must be compiled with an optimizer and a loss. "
            f"Received: model={getattr(model, 'name', model)!r}")
    try:
        twin = keras.models.clone_model(model)
    except Exception as exc:
        raise ValueError(
            f"find_learning_rate runs the sweep on a copy made by keras.models.clone_model, "
            f"which failed for model {model.name!r} ({exc}). Give the model a get_config, or "
            "use LRFinder in a fit of your own on a model you can discard.") from exc
    if not twin.built:
        twin.build_from_config(model.get_build_config())
    optimizer = _optimizer_copy(model.optimizer)
    compile_config = model.get_compile_config() or {}
    twin.compile(optimizer=optimizer, loss=model.loss,
                 loss_weights=compile_config.get("loss_weights"), steps_per_execution=1,
                 run_eagerly=model.run_eagerly, jit_compile=model.jit_compile)
    _copy_values(model.variables, twin.variables, "model variables")
    if model.optimizer.built:
        optimizer.build(twin.trainable_variables)
        _copy_values(_state_variables(model.optimizer), _state_variables(optimizer),
                     "optimizer variables")
    return twin


def find_learning_rate(model, x, y=None, batch_size=32, min_learning_rate=1e-7,
                       max_learning_rate=10.0, num_steps=100, mode="exponential",
                       smoothing=0.98, divergence_threshold=4.0, shuffle=True, verbose="auto",
                       **fit_kwargs):
    """Runs an LR range test on a copy of a compiled model; the model is never touched.

    The sweep (``LRFinder``) trains a copy (``sweep_copy``: same layers,
    weights, loss, optimizer class, configuration and state, the loss scale
    of a ``LossScaleOptimizer`` included), so the model's weights, optimizer
    state, learning rate or schedule are the very same objects with the very
    same values afterwards, however the sweep ends: at ``num_steps``, on
    divergence or a NaN loss, or by an exception or ``KeyboardInterrupt`` in a
    callback or in the data (which is re-raised). Python's, NumPy's and
    PyTorch's global random states are put back too (a ``try``/``finally``
    around the ``fit``: Keras skips ``on_train_end`` when a callback raises).
    TensorFlow's op-seed counter cannot be read back: on TensorFlow a later
    unseeded shuffle may differ from one without the sweep. The copy costs the
    memory of one more model and optimizer.

    With NumPy inputs, ``x`` is cut to whole batches so every batch has
    ``batch_size`` samples; enough epochs are run to cover ``num_steps``.

    Args:
        model: a compiled ``keras.Model`` that ``keras.models.clone_model``
            can copy (Functional, Sequential, or a subclass with ``get_config``).
        x, y: training data (as for ``model.fit``).
        batch_size: Defaults to `32`.
        min_learning_rate, max_learning_rate, num_steps, mode, smoothing,
            divergence_threshold: see ``LRFinder``.
        shuffle: Defaults to `True`.
        verbose: ``"auto"`` (a progress bar in a terminal or notebook, one
            line at the end otherwise), ``0``, ``1`` or ``2``. Defaults to
            `"auto"`.
        **fit_kwargs: passed to ``model.fit`` (e.g. ``steps_per_epoch`` for a
            dataset, ``callbacks``).

    Returns:
        An ``LRFinderResult`` (``learning_rates``, ``losses``,
        ``smoothed_losses``, ``suggestions``, ``plot()``).

    Example:

    ```python
    result = find_learning_rate(model, x, y, batch_size=64, min_learning_rate=1e-6,
                                max_learning_rate=1.0, num_steps=150)
    model.optimizer.learning_rate = result.suggestions["valley"]
    ```
    """
    finder = LRFinder(min_learning_rate, max_learning_rate, num_steps, mode, smoothing,
                      divergence_threshold, verbose=verbose)
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
    callbacks = [finder] + list(fit_kwargs.pop("callbacks", None) or [])
    fit_kwargs["verbose"] = 0
    states = _rng_states()
    twin = None
    try:
        twin = sweep_copy(model)
        if hasattr(x, "shape") or isinstance(x, (list, tuple, dict)):  # arrays, not a dataset
            fit_kwargs["batch_size"] = batch_size
        twin.fit(x, y, epochs=epochs, shuffle=shuffle, callbacks=callbacks, **fit_kwargs)
    finally:
        finder.finish()
        del twin
        _set_rng_states(states)
    return finder.result
