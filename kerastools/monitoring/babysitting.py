"""The course's babysitting checklist as checks that say why a model does not learn.

From the course ("Babysitting Deep Nets"):

- the first loss corresponds to a random guess: ``ln(C)`` for a softmax
  classifier over ``C`` classes;
- a few samples can be over-fitted to a loss near 0 with regularisation off,
  and turning regularisation on raises that loss;
- no layer is dead (ReLU outputs that are zero for every sample) or
  saturated (tanh/sigmoid outputs stuck at their limits);
- the gradients are finite.

Each check returns a ``CheckResult`` (pass or fail, the measured figure, the
expected figure, a sentence); ``babysit`` runs them all.
"""

import dataclasses
import math

import keras
import numpy as np

from kerastools._checks import check_in_range
from kerastools._checks import check_positive
from kerastools._checks import check_positive_int
from kerastools.monitoring.activations import check_probe
from kerastools.monitoring.activations import probe_model
from kerastools.monitoring.gradients import loss_gradients
from kerastools.monitoring.losses import per_batch_losses
from kerastools.monitoring.weights import weight_key

DEAD_ACTIVATIONS = ("relu", "relu6")
SATURATING = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0), "hard_sigmoid": (0.0, 1.0),
              "softsign": (-1.0, 1.0)}


@dataclasses.dataclass
class CheckResult:
    """One check: ``passed``, the measured ``value``, the ``expected`` figure."""

    name: str
    passed: bool
    value: float
    expected: str
    message: str
    details: dict = dataclasses.field(default_factory=dict)

    def __str__(self):
        return f"[{'PASS' if self.passed else 'FAIL'}] {self.name}: {self.message}"

    def to_dict(self):
        return dataclasses.asdict(self)


@dataclasses.dataclass
class BabysittingReport:
    """The results of ``babysit``; ``str(report)`` is a readable checklist."""

    results: list

    @property
    def passed(self):
        return all(r.passed for r in self.results)

    def __getitem__(self, name):
        for r in self.results:
            if r.name == name:
                return r
        raise KeyError(name)

    def __str__(self):
        lines = [str(r) for r in self.results]
        n_fail = sum(not r.passed for r in self.results)
        lines.append(f"{len(self.results) - n_fail} passed, {n_fail} failed")
        return "\n".join(lines)

    def to_dict(self):
        return {"passed": self.passed, "results": [r.to_dict() for r in self.results]}


def _labels(y, num_classes):
    y = np.asarray(y)
    if y.ndim >= 2 and y.shape[-1] == num_classes and num_classes > 1:
        return np.argmax(y, axis=-1).reshape(-1)
    return y.reshape(-1).astype(int)


def _probabilities(outputs):
    out = np.asarray(outputs, dtype=np.float64)
    if np.all(out >= 0) and np.allclose(out.sum(axis=-1), 1.0, atol=1e-3):
        return out, False
    z = out - out.max(axis=-1, keepdims=True)  # logits
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True), True


def check_initial_loss(model, x, y, num_classes=None, tolerance=0.1):
    """The untrained softmax classifier's cross-entropy is about ``ln(C)``.

    The loss is computed here in NumPy from the model's outputs
    (probabilities, or logits when the rows do not sum to 1), so it is the
    data loss without regularisation.

    Args:
        model: an untrained classifier.
        x, y: a batch (integer or one-hot labels).
        num_classes: ``C``. Defaults to `None` (the output width).
        tolerance: pass when ``|loss - ln C| <= tolerance * ln C``.
            Defaults to `0.1`.
    """
    check_positive("tolerance", tolerance)
    probs, from_logits = _probabilities(model.predict(x, verbose=0))
    c = num_classes or probs.shape[-1]
    check_positive_int("num_classes", c)
    if c < 2:
        raise ValueError(f"Argument `num_classes` must be >= 2. Received: num_classes={c}")
    labels = _labels(y, probs.shape[-1])
    p = probs[np.arange(len(labels)), labels]
    loss = float(np.mean(-np.log(np.clip(p, 1e-12, 1.0))))
    expected = math.log(c)
    passed = abs(loss - expected) <= tolerance * expected
    msg = (f"first loss {loss:.4f}, random guess ln({c}) = {expected:.4f} "
           f"(allowed +-{100 * tolerance:.0f}%)")
    if not passed:
        msg += ("; the initial outputs are not uniform: check the output activation, the "
                "last layer's initialisation and bias, or the labels")
    return CheckResult("initial loss", passed, loss, f"ln({c}) = {expected:.4f}", msg,
                       {"from_logits": from_logits, "num_classes": int(c)})


class _StepLosses(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.items = []

    def on_train_batch_end(self, batch, logs=None):
        if logs and "loss" in logs:
            self.items.append((batch, float(logs["loss"])))


def _fit_small(build_model, x, y, n_samples, epochs, seed):
    """Full-batch training on the first ``n_samples``: ``epochs`` steps in one
    ``fit`` call (the samples repeated), which avoids Keras' per-epoch cost."""
    keras.utils.set_random_seed(seed)
    model = build_model()
    if isinstance(x, (list, tuple)):
        xs = [a[:n_samples] for a in x]
        x_rep = [np.concatenate([a] * epochs) for a in xs]
    else:
        xs = x[:n_samples]
        x_rep = np.concatenate([xs] * epochs)
    ys = y[:n_samples]
    y_rep = np.concatenate([ys] * epochs)
    steps = _StepLosses()
    model.fit(x_rep, y_rep, epochs=1, batch_size=len(ys), verbose=0, shuffle=False,
              callbacks=[steps])
    batches, means = zip(*steps.items)
    _, curve = per_batch_losses(batches, means)
    final = model.evaluate(xs, ys, verbose=0, return_dict=True)["loss"]
    return float(final), [float(v) for v in curve]


def check_overfit_small_sample(build_model, x, y, n_samples=32, epochs=200, target_loss=0.05,
                               seed=0):
    """A few samples, regularisation off, can be fitted to a loss near 0.

    Args:
        build_model: a function returning a fresh compiled model without
            regularisation.
        x, y: data; the first ``n_samples`` are used (full-batch training).
        n_samples: how many samples. Defaults to `32`.
        epochs: full-batch training steps. Defaults to `200`.
        target_loss: pass when the final training loss is below it.
            Defaults to `0.05`.
        seed: random seed of the run. Defaults to `0`.
    """
    check_positive_int("n_samples", n_samples)
    check_positive_int("epochs", epochs)
    check_positive("target_loss", target_loss)
    final, curve = _fit_small(build_model, x, y, n_samples, epochs, seed)
    passed = bool(np.isfinite(final) and final <= target_loss)
    msg = (f"{n_samples} samples, {epochs} full-batch steps: loss {final:.4g} "
           f"(target <= {target_loss:g})")
    if not passed:
        msg += ("; a model that cannot over-fit a few samples has a bug, too little capacity, "
                "or a learning rate that is too small or too large")
    return CheckResult("overfit small sample", passed, final, f"<= {target_loss:g}", msg,
                       {"loss_curve": curve, "n_samples": n_samples})


def check_regularization_raises_loss(build_model, build_regularized, x, y, n_samples=32,
                                     epochs=200, seed=0):
    """Turning regularisation on raises the small-sample training loss.

    Both models are trained the same way (same seed, same samples); the
    loss compared is the one Keras reports (data loss plus penalties).
    """
    check_positive_int("n_samples", n_samples)
    check_positive_int("epochs", epochs)
    plain, _ = _fit_small(build_model, x, y, n_samples, epochs, seed)
    regularized, _ = _fit_small(build_regularized, x, y, n_samples, epochs, seed)
    passed = bool(np.isfinite(regularized) and regularized > plain)
    msg = f"loss without regularisation {plain:.4g}, with {regularized:.4g}"
    if not passed:
        msg += "; the regulariser has no effect: is it attached to the layers?"
    return CheckResult("regularization raises loss", passed, regularized, f"> {plain:.4g}", msg,
                       {"loss_plain": plain, "loss_regularized": regularized})


def _activation_name(layer):
    try:
        act = layer.get_config().get("activation")
    except Exception:
        return None
    if isinstance(layer, keras.layers.ReLU):
        return "relu"
    return act if isinstance(act, str) else None


def check_units(model, x, layers=None, max_dead_fraction=0.5, max_saturated_fraction=0.5,
                saturation=0.02):
    """No layer is dead (ReLU units zero on every sample) or saturated.

    A ReLU unit is dead on ``x`` when its output is 0 for every sample; a
    tanh/sigmoid activation is saturated within ``saturation`` of its limits
    (``|a| >= 1 - saturation`` for tanh). A layer fails when its dead-unit
    fraction or its saturated-activation fraction is above the maximum.
    Layers without such an activation are skipped.

    Args:
        model: a Functional or Sequential model.
        x: an input batch.
        layers: names of the layers to check. Defaults to `None` (all).
        max_dead_fraction: Defaults to `0.5`.
        max_saturated_fraction: Defaults to `0.5`.
        saturation: distance to the limit that counts as saturated.
            Defaults to `0.02`.
    """
    check_in_range("max_dead_fraction", max_dead_fraction, 0.0, 1.0, high_closed=True)
    check_in_range("max_saturated_fraction", max_saturated_fraction, 0.0, 1.0, high_closed=True)
    check_in_range("saturation", saturation, 0.0, 1.0, low_closed=False)
    check_probe(model, x, name="x")
    sub, names = probe_model(model, layers)
    outputs = sub(x, training=False)
    outputs = outputs if len(names) > 1 else [outputs]
    per_layer, worst, failing = {}, 0.0, []
    for layer_name, out in zip(names, outputs):
        act = _activation_name(model.get_layer(layer_name))
        a = np.asarray(keras.ops.convert_to_numpy(out), dtype=np.float64)
        if act in DEAD_ACTIVATIONS:
            units = a.reshape(-1, a.shape[-1])
            dead = float(np.mean(np.all(units == 0, axis=0)))
            per_layer[layer_name] = {"activation": act, "dead_fraction": dead}
            if dead > max_dead_fraction or dead == 1.0:
                failing.append(f"{layer_name} ({100 * dead:.0f}% dead units)")
            worst = max(worst, dead)
        elif act in SATURATING:
            lo, hi = SATURATING[act]
            span = hi - lo
            sat = float(np.mean((a <= lo + saturation * span / 2) | (a >= hi - saturation * span / 2)))
            per_layer[layer_name] = {"activation": act, "saturated_fraction": sat}
            if sat > max_saturated_fraction:
                failing.append(f"{layer_name} ({100 * sat:.0f}% saturated)")
            worst = max(worst, sat)
    passed = not failing
    if not per_layer:
        msg = "no ReLU, tanh or sigmoid layers to check"
    elif passed:
        msg = f"{len(per_layer)} layers checked, worst dead/saturated fraction {100 * worst:.0f}%"
    else:
        msg = ("dead or saturated: " + ", ".join(failing)
               + "; check the initialisation (He for ReLU, Xavier for tanh), the input scale "
                 "and the learning rate")
    return CheckResult("dead or saturated units", passed, worst,
                       f"<= {max_dead_fraction:g} dead, <= {max_saturated_fraction:g} saturated",
                       msg, {"layers": per_layer})


def check_gradients_finite(model, x, y, loss=None):
    """The loss and every gradient on ``(x, y)`` are finite (no NaN or inf)."""
    value, pairs = loss_gradients(model, x, y, loss)
    bad = [weight_key(v, model) for v, g in pairs if not np.all(np.isfinite(g))]
    norms = {weight_key(v, model): float(np.sqrt(np.sum(np.asarray(g, np.float64) ** 2)))
             for v, g in pairs}
    total = float(np.sqrt(sum(n**2 for n in norms.values())))
    passed = bool(np.isfinite(value) and not bad)
    if passed:
        msg = f"loss {value:.4g}, global gradient norm {total:.4g}"
    else:
        msg = (f"loss {value:.4g}; non-finite gradients in {bad or 'the loss'}: check for log(0), "
               "division by zero, an exploding learning rate or NaN inputs")
    return CheckResult("finite gradients", passed, total, "finite", msg,
                       {"loss": value, "gradient_norms": norms, "non_finite": bad})


def babysit(model, x, y, build_model=None, build_regularized=None, n_samples=32, epochs=200,
            num_classes=None, loss=None):
    """Runs the course's babysitting checklist and returns a ``BabysittingReport``.

    Args:
        model: the untrained, compiled model (initial loss, units, gradients).
        x, y: a batch of training data (a few hundred samples).
        build_model: a function returning a fresh compiled model without
            regularisation (small-sample over-fitting). Defaults to `None`
            (that check is skipped).
        build_regularized: the same model with regularisation (the loss must
            rise). Defaults to `None` (skipped).
        n_samples: samples of the over-fitting checks. Defaults to `32`.
        epochs: epochs of the over-fitting checks. Defaults to `200`.
        num_classes: for the initial-loss check. Defaults to `None` (the
            output width).
        loss: the loss of the gradient check. Defaults to `None` (the
            model's compiled loss).

    Example:

    >>> report = babysit(model, x_train[:256], y_train[:256], build_model=build)
    >>> print(report)          # [PASS] initial loss: first loss 2.31, ...
    """
    results = [check_initial_loss(model, x, y, num_classes=num_classes),
               check_units(model, x),
               check_gradients_finite(model, x, y, loss=loss)]
    if build_model is not None:
        results.append(check_overfit_small_sample(build_model, x, y, n_samples, epochs))
        if build_regularized is not None:
            results.append(check_regularization_raises_loss(build_model, build_regularized, x, y,
                                                            n_samples, epochs))
    return BabysittingReport(results)
