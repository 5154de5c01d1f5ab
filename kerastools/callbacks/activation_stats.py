"""Activation and gradient statistics per layer on a fixed probe batch."""

import keras
import numpy as np

from kerastools._checks import check_non_negative
from kerastools._checks import check_positive_int
from kerastools.diagnostics.activations import activation_statistics
from kerastools.diagnostics.activations import check_probe
from kerastools.diagnostics.activations import probe_model
from kerastools.diagnostics.gradients import gradient_norms
from kerastools.diagnostics.gradients import resolve_loss


def _probe_to_config(probe):
    if isinstance(probe, (list, tuple)):
        return [_probe_to_config(p) for p in probe]
    a = np.asarray(probe)
    return {"shape": list(a.shape), "dtype": str(a.dtype), "values": a.ravel().tolist()}


def _probe_from_config(config):
    if isinstance(config, list):
        return [_probe_from_config(c) for c in config]
    if isinstance(config, dict) and set(config) == {"shape", "dtype", "values"}:
        return np.asarray(config["values"], dtype=config["dtype"]).reshape(config["shape"])
    return np.asarray(config)


def _check_array(name, value):
    arrays = value if isinstance(value, (list, tuple)) else [value]
    for a in arrays:
        a = np.asarray(a)
        if a.ndim < 1 or a.shape[0] == 0 or a.dtype == object:
            raise ValueError(
                f"Argument `{name}` must be a non-empty array batch (or a list of them). "
                f"Received: {name} of shape {a.shape} and dtype {a.dtype}"
            )
    if isinstance(value, (list, tuple)):
        return [np.asarray(a) for a in value]
    return np.asarray(value)


def _check_layers(layers):
    if layers is None:
        return None
    if isinstance(layers, str) or not all(isinstance(n, str) for n in layers):
        raise ValueError(
            f"Argument `layers` must be a list of layer names or None. Received: layers={layers!r}")
    return list(layers)


@keras.saving.register_keras_serializable(package="kerastools")
class ActivationStats(keras.callbacks.Callback):
    """Per-layer activation statistics on a fixed probe batch, every few epochs.

    For each watched layer, on the same ``probe`` batch (inference mode):
    the mean, the standard deviation, the fraction of near-zero activations
    (``|a| <= near_zero``) and a histogram. The first record is taken at
    ``on_train_begin`` (epoch 0: the initialisation, where the course's
    deep-tanh experiment is read: ``W = 0.001 * rand`` makes the activations
    of deeper layers collapse to zero, Xavier keeps their spread), then
    after every ``every``-th epoch. Records are in ``self.stats``
    (``[{"epoch": e, "layers": {name: {...}}}]``); the scalars also go into
    the logs as ``activation_mean/<layer>``, ``activation_std/<layer>`` and
    ``activation_near_zero/<layer>`` (on the epochs that are measured).
    Draw them with ``kerastools.plotting.plot_activation_stats``.

    The probe model (inputs to the watched layers' outputs) is built once at
    ``on_train_begin``, where a probe of the wrong shape or an unknown layer
    is a ``ValueError``. ``get_config`` stores the probe itself as a nested
    list with its shape and dtype (exact for float32/float64 and integers),
    so keep probes small (a few hundred samples).

    Args:
        probe: an input batch (a list of arrays for a multi-input model).
        layers: names of the layers to watch. Defaults to `None` (every
            non-input layer).
        every: measure every ``every`` epochs. Defaults to `1`.
        bins: histogram bins. Defaults to `50`.
        hist_range: ``[low, high]`` of the histograms. Defaults to `None`
            (``[-m, m]``, ``m`` the layer's largest ``|a|``).
        near_zero: the near-zero threshold. Defaults to `0.01`.
        log_stats: write the scalars into the logs. Defaults to `True`.

    Example:

    >>> stats = ActivationStats(x_train[:256], every=5)
    >>> # model.fit(x_train, y_train, epochs=20, callbacks=[stats])
    >>> # plot_activation_stats(stats.stats[0]["layers"])   # at initialisation
    """

    def __init__(self, probe, layers=None, every=1, bins=50, hist_range=None, near_zero=0.01,
                 log_stats=True):
        super().__init__()
        self.probe = _check_array("probe", probe)
        self.layers = _check_layers(layers)
        self.every = check_positive_int("every", every)
        self.bins = check_positive_int("bins", bins)
        if hist_range is not None:
            if len(hist_range) != 2 or not float(hist_range[0]) < float(hist_range[1]):
                raise ValueError(
                    "Argument `hist_range` must be [low, high] with low < high. "
                    f"Received: hist_range={hist_range!r}")
            hist_range = [float(hist_range[0]), float(hist_range[1])]
        self.hist_range = hist_range
        self.near_zero = check_non_negative("near_zero", near_zero)
        self.log_stats = bool(log_stats)
        self.stats = []
        self._probe_model = None

    def on_train_begin(self, logs=None):
        check_probe(self.model, self.probe)
        self._probe_model = probe_model(self.model, self.layers)
        self.stats = [{"epoch": 0, "layers": self.measure()}]

    def measure(self):
        """The statistics now, ``{layer: {...}}``."""
        if self._probe_model is None:
            self._probe_model = probe_model(self.model, self.layers)
        return activation_statistics(self.model, self.probe, bins=self.bins,
                                     hist_range=self.hist_range, near_zero=self.near_zero,
                                     _probe_model=self._probe_model)

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        layers = self.measure()
        self.stats.append({"epoch": epoch + 1, "layers": layers})
        if self.log_stats and logs is not None:
            for name, s in layers.items():
                logs[f"activation_mean/{name}"] = s["mean"]
                logs[f"activation_std/{name}"] = s["std"]
                logs[f"activation_near_zero/{name}"] = s["near_zero"]

    def get_config(self):
        return {
            "probe": _probe_to_config(self.probe),
            "layers": self.layers,
            "every": self.every,
            "bins": self.bins,
            "hist_range": self.hist_range,
            "near_zero": self.near_zero,
            "log_stats": self.log_stats,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["probe"] = _probe_from_config(config["probe"])
        return cls(**config)


@keras.saving.register_keras_serializable(package="kerastools")
class GradientStats(keras.callbacks.Callback):
    """Per-weight gradient norms of the loss on a fixed probe batch.

    The vanishing-gradient picture: ``||dL/dW||_2`` for every weight of every
    layer, on the same ``(probe_x, probe_y)`` batch, in inference mode, of
    the data loss (the model's compiled loss, or ``loss``; regularisation
    penalties left out). Recorded at ``on_train_begin`` (epoch 0) and after
    every ``every``-th epoch, in ``self.stats``
    (``[{"epoch": e, "norms": {"layer/weight": norm}}]``) and in the logs as
    ``grad_norm/<layer>/<weight>``. Uses the backend's autodiff (TensorFlow
    or JAX; see ``kerastools.diagnostics.gradients``). The probe is stored in
    ``get_config`` like ``ActivationStats``' probe.

    Args:
        probe_x: an input batch.
        probe_y: its targets.
        every: measure every ``every`` epochs. Defaults to `1`.
        loss: a Keras loss (name or object). Defaults to `None` (the
            model's compiled loss).
        include_biases: also the biases' gradients. Defaults to `True`.

    Example:

    >>> grads = GradientStats(x_train[:256], y_train[:256])
    >>> # model.fit(x_train, y_train, epochs=5, callbacks=[grads])
    >>> # plot_gradient_norms(grads.stats[0]["norms"])
    """

    def __init__(self, probe_x, probe_y, every=1, loss=None, include_biases=True):
        super().__init__()
        self.probe_x = _check_array("probe_x", probe_x)
        self.probe_y = _check_array("probe_y", probe_y)
        n_x = (self.probe_x[0] if isinstance(self.probe_x, list) else self.probe_x).shape[0]
        n_y = (self.probe_y[0] if isinstance(self.probe_y, list) else self.probe_y).shape[0]
        if n_x != n_y:
            raise ValueError(
                f"Argument `probe_y` must have as many samples as `probe_x` ({n_x}). "
                f"Received: probe_y with {n_y}")
        self.every = check_positive_int("every", every)
        if loss is not None and not isinstance(loss, str):
            raise ValueError(f"Argument `loss` must be a loss name or None. Received: loss={loss!r}")
        self.loss = loss
        self.include_biases = bool(include_biases)
        self.stats = []

    def measure(self):
        return gradient_norms(self.model, self.probe_x, self.probe_y, loss=self.loss,
                              include_biases=self.include_biases)

    def on_train_begin(self, logs=None):
        check_probe(self.model, self.probe_x, name="probe_x")
        resolve_loss(self.model, self.loss)
        self.stats = [{"epoch": 0, "norms": self.measure()}]

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        norms = self.measure()
        self.stats.append({"epoch": epoch + 1, "norms": norms})
        if logs is not None:
            logs.update({f"grad_norm/{k}": v for k, v in norms.items()})

    def get_config(self):
        return {
            "probe_x": _probe_to_config(self.probe_x),
            "probe_y": _probe_to_config(self.probe_y),
            "every": self.every,
            "loss": self.loss,
            "include_biases": self.include_biases,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["probe_x"] = _probe_from_config(config["probe_x"])
        config["probe_y"] = _probe_from_config(config["probe_y"])
        return cls(**config)
