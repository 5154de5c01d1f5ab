"""Activation and gradient statistics per layer on a fixed probe batch."""

import keras
import numpy as np

from kerastools._checks import check_non_negative
from kerastools._checks import check_positive_int
from kerastools.callbacks.epoch_logs import check_log_to
from kerastools.callbacks.epoch_logs import nan_values
from kerastools.callbacks.epoch_logs import write_epoch_values
from kerastools.callbacks.tensorboard_images import check_tensorboard_dir
from kerastools.callbacks.tensorboard_images import histogram_values
from kerastools.callbacks.tensorboard_images import write_summaries
from kerastools.monitoring.activations import activation_statistics
from kerastools.monitoring.activations import check_probe
from kerastools.monitoring.activations import probe_model
from kerastools.monitoring.gradients import loss_gradients
from kerastools.monitoring.gradients import resolve_loss
from kerastools.monitoring.weights import is_bias
from kerastools.monitoring.weights import weight_key

ACTIVATION_STATISTICS = ("mean", "std", "near_zero")


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
    after every ``every``-th epoch (``epoch + 1`` a multiple of ``every``,
    counted from the first epoch of the run, so a resumed fit keeps the
    rhythm). Records are in ``self.stats``
    (``[{"epoch": e, "layers": {name: {...}}}]``, the first record labelled
    with the first epoch's index); ``plot_activation_stats(callback)`` draws
    them. The scalars ``activation_mean/<layer>``, ``activation_std/<layer>``
    and ``activation_near_zero/<layer>`` are written at every epoch end, NaN
    on the epochs in between measurements, so ``History`` stays rectangular
    and ``CSVLogger`` keeps every column: to ``History`` only
    (``log_to="history"``, the default: the progress line stays short) or
    into the epoch logs (``log_to="logs"``, for ``CSVLogger`` and
    ``TensorBoard`` after this callback; see ``kerastools.callbacks.epoch_logs``).

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
        log_stats: write the scalars at epoch end. Defaults to `True`.
        log_to: ``"history"`` or ``"logs"`` (see above). Defaults to
            `"history"`.
        tensorboard_dir: also write each measurement's histograms to this
            TensorBoard log directory (``activations/<layer>``, TensorFlow
            backend only; elsewhere a ``ValueError`` saying what to use).
            Defaults to `None`.

    Example:

    >>> stats = ActivationStats(x_train[:256], every=5)
    >>> # model.fit(x_train, y_train, epochs=20, callbacks=[stats])
    >>> # plot_activation_stats(stats)   # the first and the last record
    """

    def __init__(self, probe, layers=None, every=1, bins=50, hist_range=None, near_zero=0.01,
                 log_stats=True, log_to="history", tensorboard_dir=None):
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
        self.log_to = check_log_to(log_to)
        self.tensorboard_dir = check_tensorboard_dir("tensorboard_dir", tensorboard_dir)
        self.stats = []
        self._probe_model = None
        self._keys = []
        self._first_epoch = None

    def on_train_begin(self, logs=None):
        check_probe(self.model, self.probe)
        self._probe_model = probe_model(self.model, self.layers)
        layers = self.measure()
        self._keys = [f"activation_{s}/{name}" for name in layers for s in ACTIVATION_STATISTICS]
        self.stats = [{"epoch": 0, "layers": layers}]
        self._first_epoch = None

    def _write_tensorboard(self, record):
        if self.tensorboard_dir is not None:
            write_summaries(self.tensorboard_dir, record["epoch"], histograms={
                f"activations/{name}": histogram_values(s) for name, s in record["layers"].items()})

    def on_epoch_begin(self, epoch, logs=None):
        if self._first_epoch is None:
            self._first_epoch = epoch
            if self.stats:
                self.stats[0]["epoch"] = epoch
                self._write_tensorboard(self.stats[0])

    def measure(self):
        """The statistics now, ``{layer: {...}}``."""
        if self._probe_model is None:
            self._probe_model = probe_model(self.model, self.layers)
        return activation_statistics(self.model, self.probe, bins=self.bins,
                                     hist_range=self.hist_range, near_zero=self.near_zero,
                                     _probe_model=self._probe_model)

    def on_epoch_end(self, epoch, logs=None):
        values = nan_values(self._keys)
        if (epoch + 1 - (self._first_epoch or 0)) % self.every == 0:
            layers = self.measure()
            self.stats.append({"epoch": epoch + 1, "layers": layers})
            self._write_tensorboard(self.stats[-1])
            values.update({f"activation_{s}/{name}": float(layer[s])
                           for name, layer in layers.items() for s in ACTIVATION_STATISTICS})
        if self.log_stats:
            write_epoch_values(self.model, logs, values, self.log_to)

    def get_config(self):
        return {
            "probe": _probe_to_config(self.probe),
            "layers": self.layers,
            "every": self.every,
            "bins": self.bins,
            "hist_range": self.hist_range,
            "near_zero": self.near_zero,
            "log_stats": self.log_stats,
            "log_to": self.log_to,
            "tensorboard_dir": self.tensorboard_dir,
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
    penalties left out). Recorded at ``on_train_begin`` (the first epoch's
    index) and after every ``every``-th epoch, in ``self.stats``
    (``[{"epoch": e, "norms": {"layer/weight": norm}}]``;
    ``plot_gradient_norms(callback)`` draws them), and written at every epoch
    end as ``grad_norm/<layer>/<weight>``, NaN between measurements, to
    ``History`` (``log_to="history"``) or the epoch logs (``log_to="logs"``)
    as ``ActivationStats`` does. Uses the backend's autodiff (TensorFlow,
    JAX or PyTorch; see ``kerastools.monitoring.gradients``). The probe is
    stored in ``get_config`` like ``ActivationStats``' probe.

    Args:
        probe_x: an input batch.
        probe_y: its targets.
        every: measure every ``every`` epochs. Defaults to `1`.
        loss: a Keras loss (name or object). Defaults to `None` (the
            model's compiled loss).
        include_biases: also the biases' gradients. Defaults to `True`.
        log_to: ``"history"`` or ``"logs"``. Defaults to `"history"`.
        tensorboard_dir: also write each measurement's gradient histograms
            to this TensorBoard log directory (``gradients/<layer>/<weight>``,
            TensorFlow backend only). Defaults to `None`.

    Example:

    >>> grads = GradientStats(x_train[:256], y_train[:256])
    >>> # model.fit(x_train, y_train, epochs=5, callbacks=[grads])
    >>> # plot_gradient_norms(grads)   # the first and the last record
    """

    def __init__(self, probe_x, probe_y, every=1, loss=None, include_biases=True,
                 log_to="history", tensorboard_dir=None):
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
        self.log_to = check_log_to(log_to)
        self.tensorboard_dir = check_tensorboard_dir("tensorboard_dir", tensorboard_dir)
        self.stats = []
        self._keys = []
        self._first_epoch = None
        self._gradients = {}

    def measure(self):
        """``{"layer/weight": ||dL/dW||_2}`` now (the gradients kept for TensorBoard)."""
        _, pairs = loss_gradients(self.model, self.probe_x, self.probe_y, self.loss)
        pairs = [(weight_key(v, self.model), g) for v, g in pairs
                 if self.include_biases or not is_bias(v)]
        self._gradients = dict(pairs) if self.tensorboard_dir is not None else {}
        return {k: float(np.sqrt(np.sum(np.asarray(g, np.float64) ** 2))) for k, g in pairs}

    def _write_tensorboard(self, epoch):
        if self.tensorboard_dir is not None and self._gradients:
            write_summaries(self.tensorboard_dir, epoch, histograms={
                f"gradients/{k}": g for k, g in self._gradients.items()})
            self._gradients = {}

    def on_train_begin(self, logs=None):
        check_probe(self.model, self.probe_x, name="probe_x")
        resolve_loss(self.model, self.loss)
        self._keys = [f"grad_norm/{weight_key(v, self.model)}" for v in self.model.trainable_weights
                      if self.include_biases or not is_bias(v)]
        self.stats = [{"epoch": 0, "norms": self.measure()}]
        self._first_epoch = None

    def on_epoch_begin(self, epoch, logs=None):
        if self._first_epoch is None:
            self._first_epoch = epoch
            if self.stats:
                self.stats[0]["epoch"] = epoch
                self._write_tensorboard(epoch)

    def on_epoch_end(self, epoch, logs=None):
        values = nan_values(self._keys)
        if (epoch + 1 - (self._first_epoch or 0)) % self.every == 0:
            norms = self.measure()
            self.stats.append({"epoch": epoch + 1, "norms": norms})
            self._write_tensorboard(epoch + 1)
            values.update({f"grad_norm/{k}": float(v) for k, v in norms.items()})
        write_epoch_values(self.model, logs, values, self.log_to)

    def get_config(self):
        return {
            "probe_x": _probe_to_config(self.probe_x),
            "probe_y": _probe_to_config(self.probe_y),
            "every": self.every,
            "loss": self.loss,
            "include_biases": self.include_biases,
            "log_to": self.log_to,
            "tensorboard_dir": self.tensorboard_dir,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["probe_x"] = _probe_from_config(config["probe_x"])
        config["probe_y"] = _probe_from_config(config["probe_y"])
        return cls(**config)
