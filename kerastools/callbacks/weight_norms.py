"""Per-epoch weight norms written into the training logs."""

import keras
import numpy as np

from kerastools._checks import check_choice
from kerastools.diagnostics.weights import GROUPINGS
from kerastools.diagnostics.weights import NORMS
from kerastools.diagnostics.weights import is_bias
from kerastools.diagnostics.weights import norm_prefix
from kerastools.diagnostics.weights import segment_ids
from kerastools.diagnostics.weights import weight_key
from kerastools.diagnostics.weights import weight_norms


@keras.saving.register_keras_serializable(package="kerastools")
class WeightNormTracker(keras.callbacks.Callback):
    """Writes the norms of the model's weights into the logs at every epoch end.

    The course's "weight evolution" figure: the L2 norm of the weights per
    epoch, which keeps growing when a network over-fits and stays bounded
    with L2 regularisation (``C = C_0 + lambda * ||w||_2^2``). The values go
    into the epoch ``logs`` dict, so ``History``, ``CSVLogger`` and
    ``TensorBoard`` record them; put this callback before those in the
    ``callbacks`` list (``History`` is always last).

    Keys (``<layer>/<weight>`` is the variable's path without the model name):

    - ``by="layer"``: ``weight_norm/<layer>/<weight>`` (L2), e.g.
      ``weight_norm/hidden/kernel``; ``weight_norm_l1/...`` (L1, ``sum |w|``)
      and ``weight_norm_max/...`` (max, ``max |w|``) when requested.
    - ``by="model"``: one value per norm over all tracked weights together,
      ``weight_norm/model``, ``weight_norm_l1/model``, ``weight_norm_max/model``.

    All norms of an epoch are one batched ``keras.ops`` computation on the
    device (the weights flattened into one vector, reduced per weight with
    segment sums and a segment max), copied to the host in one transfer.

    Args:
        norms: any of ``"l2"``, ``"l1"``, ``"max"``. Defaults to `("l2",)`.
        by: ``"layer"`` (one key per weight of each layer) or ``"model"``
            (one key for the whole model). Defaults to `"layer"`.
        include_biases: also track rank-0/1 weights (biases, batch-norm
            scales and offsets). Defaults to `True`.
        layers: names of the layers to track. Defaults to `None` (every
            layer with trainable weights).

    Example:

    >>> tracker = WeightNormTracker(norms=("l2", "max"))
    >>> # model.fit(x, y, epochs=5, callbacks=[tracker])
    >>> # history.history["weight_norm/hidden/kernel"] -> one value per epoch
    """

    def __init__(self, norms=("l2",), by="layer", include_biases=True, layers=None):
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
        self._variables = None
        self._keys = None
        self._ids = None

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

    def on_train_begin(self, logs=None):
        self._variables = self._select()
        self._ids = segment_ids(self._variables)
        names = [weight_key(v, self.model) for v in self._variables]
        if self.by == "model":
            names = ["model"]
        self._keys = [[f"{norm_prefix(n)}/{name}" for name in names] for n in self.norms]

    def current_norms(self):
        """The norms now, as a ``{key: float}`` dict (the keys written to logs)."""
        if self._variables is None:
            self.on_train_begin()
        if self.by == "model":
            per_var = weight_norms(self._variables, self.norms, self._ids)
            values = []
            for norm, row in zip(self.norms, per_var):
                if norm == "l2":
                    values.append([float(np.sqrt(np.sum(row**2)))])
                elif norm == "l1":
                    values.append([float(np.sum(row))])
                else:
                    values.append([float(np.max(row))])
        else:
            values = weight_norms(self._variables, self.norms, self._ids).tolist()
        return {k: float(v) for keys, row in zip(self._keys, values) for k, v in zip(keys, row)}

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        logs.update(self.current_norms())

    def get_config(self):
        return {
            "norms": list(self.norms),
            "by": self.by,
            "include_biases": self.include_biases,
            "layers": None if self.layers is None else list(self.layers),
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
