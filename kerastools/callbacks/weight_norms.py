"""Per-epoch weight norms, the initial ones included."""

import keras

from kerastools._checks import check_choice
from kerastools.callbacks.epoch_logs import check_log_to
from kerastools.callbacks.epoch_logs import write_epoch_values
from kerastools.monitoring.weights import GROUPINGS
from kerastools.monitoring.weights import NORMS
from kerastools.monitoring.weights import combine_norms
from kerastools.monitoring.weights import is_bias
from kerastools.monitoring.weights import norm_key
from kerastools.monitoring.weights import weight_key
from kerastools.monitoring.weights import weight_norms


@keras.saving.register_keras_serializable(package="kerastools")
class WeightNormTracker(keras.callbacks.Callback):
    """Records the norms of the model's weights at the start and at every epoch end.

    The course's "weight evolution" figure: the L2 norm of the weights per
    epoch, which keeps growing when a network over-fits and stays bounded
    with L2 regularisation (``C = C_0 + lambda * ||w||_2^2``).

    Keys (``<layer>/<weight>`` is the variable's path without the model name):

    - ``by="layer"``: ``weight_norm/<layer>/<weight>`` (L2), e.g.
      ``weight_norm/hidden/kernel``; ``weight_norm_l1/...`` (L1, ``sum |w|``)
      and ``weight_norm_max/...`` (max, ``max |w|``) when requested.
    - ``by="model"``: one value per norm over all tracked weights together,
      ``weight_norm/model``, ``weight_norm_l1/model``, ``weight_norm_max/model``.

    Every key at every epoch end. ``log_to="history"`` (the default) appends
    them to the ``History`` that ``fit`` returns and keeps them off the
    progress line; ``log_to="logs"`` puts them into the epoch logs, for
    ``CSVLogger`` and ``TensorBoard`` placed after this callback (see
    ``kerastools.callbacks.epoch_logs``). The tracker's own record,
    ``epochs`` and ``history`` (``{key: [norm, ...]}``), also holds the
    initial norms, measured at ``on_train_begin`` and labelled with the
    first epoch's index (``0`` for a fresh fit, ``initial_epoch`` for a
    resumed one); ``plot_weight_norms(tracker)`` draws it.

    The norms are exact for very large or very small weights (each chunk of
    at most 262,144 elements is scaled by its largest magnitude; see
    ``kerastools.monitoring.weight_norms``), need a few MB of temporaries
    whatever the model size, and are read back in one transfer.

    Args:
        norms: any of ``"l2"``, ``"l1"``, ``"max"``. Defaults to `("l2",)`.
        by: ``"layer"`` (one key per weight of each layer) or ``"model"``
            (one key for the whole model). Defaults to `"layer"`.
        include_biases: also track rank-0/1 weights (biases, batch-norm
            scales and offsets). Defaults to `True`.
        layers: names of the layers to track. Defaults to `None` (every
            layer with trainable weights).
        log_to: ``"history"`` or ``"logs"`` (see above). Defaults to
            `"history"`.

    Example:

    >>> tracker = WeightNormTracker(norms=("l2", "max"))
    >>> # history = model.fit(x, y, epochs=5, callbacks=[tracker])
    >>> # history.history["weight_norm/hidden/kernel"] -> one value per epoch
    >>> # tracker.epochs -> [0, 1, 2, 3, 4, 5]; plot_weight_norms(tracker)
    """

    def __init__(self, norms=("l2",), by="layer", include_biases=True, layers=None,
                 log_to="history"):
        super().__init__()
        if isinstance(norms, str):
            norms = (norms,)
        norms = tuple(norms)
        if not norms:
            raise ValueError(
                f"Argument `norms` must name at least one of {list(NORMS)}. Received: norms={norms!r}"
            )
        for norm in norms:
            if norm not in NORMS:
                raise ValueError(
                    f"Argument `norms` must contain only {list(NORMS)}. Received: norms={norms!r}"
                )
        if len(set(norms)) != len(norms):
            raise ValueError(f"Argument `norms` has duplicates. Received: norms={norms!r}")
        self.norms = norms
        self.by = check_choice("by", by, GROUPINGS)
        if not isinstance(include_biases, bool):
            raise ValueError(
                f"Argument `include_biases` must be a bool. Received: include_biases={include_biases!r}"
            )
        self.include_biases = include_biases
        if layers is not None:
            if isinstance(layers, str) or not all(isinstance(n, str) for n in layers):
                raise ValueError(
                    "Argument `layers` must be a list of layer names or None. "
                    f"Received: layers={layers!r}"
                )
            layers = list(layers)
        self.layers = layers
        self.log_to = check_log_to(log_to)
        self.epochs = []
        self.history = {}
        self._variables = None
        self._keys = None
        self._label_initial = False

    def _select(self):
        model = self.model
        if self.layers is None:
            variables = list(model.trainable_weights)
        else:
            variables = []
            for name in self.layers:
                try:
                    layer = model.get_layer(name)
                except ValueError:
                    raise ValueError(
                        f"Argument `layers` names {name!r}, which is not a layer of model "
                        f"{model.name!r} ({[lay.name for lay in model.layers]}). "
                        f"Received: layers={self.layers!r}"
                    ) from None
                variables += list(layer.trainable_weights)
        if not self.include_biases:
            variables = [v for v in variables if not is_bias(v)]
        if not variables:
            raise ValueError(
                f"WeightNormTracker found no weights to track in model {model.name!r} "
                f"(layers={self.layers!r}, include_biases={self.include_biases})."
            )
        return variables

    def _prepare(self):
        self._variables = self._select()
        names = ["model"] if self.by == "model" else [
            weight_key(v, self.model) for v in self._variables]
        self._keys = [[norm_key(n, name) for name in names] for n in self.norms]

    @property
    def keys(self):
        """The log keys, in order (after ``on_train_begin``)."""
        return [k for row in (self._keys or []) for k in row]

    def current_norms(self):
        """The norms now, as a ``{key: float}`` dict (the keys written at epoch end)."""
        if self._variables is None:
            self._prepare()
        values = weight_norms(self._variables, self.norms)
        if self.by == "model":
            values = [[combine_norms(row, norm)] for norm, row in zip(self.norms, values)]
        return {k: float(v) for keys, row in zip(self._keys, values) for k, v in zip(keys, row)}

    def _record(self, epoch, norms):
        self.epochs.append(epoch)
        for key, value in norms.items():
            self.history.setdefault(key, []).append(value)

    def on_train_begin(self, logs=None):
        self._prepare()
        self.epochs, self.history = [], {}
        self._record(0, self.current_norms())  # relabelled at the first epoch
        self._label_initial = True

    def on_epoch_begin(self, epoch, logs=None):
        if self._label_initial:
            self.epochs[0] = epoch
            self._label_initial = False

    def on_epoch_end(self, epoch, logs=None):
        norms = self.current_norms()
        self._record(epoch + 1, norms)
        write_epoch_values(self.model, logs, norms, self.log_to)

    def get_config(self):
        return {
            "norms": list(self.norms),
            "by": self.by,
            "include_biases": self.include_biases,
            "layers": None if self.layers is None else list(self.layers),
            "log_to": self.log_to,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
