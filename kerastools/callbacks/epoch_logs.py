"""Where the monitors write their epoch values: Keras' ``logs`` or ``History`` only.

Keras calls the callbacks of ``fit`` in list order with one shared ``logs``
dict and appends ``History`` and then the progress bar (``ProgbarLogger``) at
the end of the list. So a key put into ``logs`` reaches every callback after
the monitor (``CSVLogger``, ``TensorBoard``), ``History`` and the progress
line alike; no public hook runs between ``History`` and the progress bar.
Two places to write, then:

- ``log_to="logs"``: into the epoch ``logs``: ``History``, ``CSVLogger``,
  ``TensorBoard`` (placed after the monitor) and the progress line get every
  key. To keep the progress line short, put ``keras.callbacks.ProgbarLogger()``
  first in ``callbacks``: it prints the epoch's line before the monitors add
  their keys (Keras adds no second progress bar when the list holds one).
- ``log_to="history"``: appended to ``model.history.history`` (the ``History``
  that ``fit`` returns), not to ``logs``: the progress line stays as Keras
  prints it, ``CSVLogger``/``TensorBoard`` do not see the keys. Outside
  ``fit`` (no ``History``) the values go into ``logs``.

Either way a monitor writes the same keys at every epoch, NaN where it has no
fresh measurement (``ActivationStats(every=5)`` between measurements), so
``History`` stays rectangular and ``CSVLogger``'s columns, fixed at the first
epoch, hold every key.
"""

import keras

from kerastools._checks import check_choice

LOG_TO = ("logs", "history")


def check_log_to(log_to):
    """``log_to`` checked against ``LOG_TO`` (a ``ValueError`` in Keras' form)."""
    return check_choice("log_to", log_to, LOG_TO)


def write_epoch_values(model, logs, values, log_to):
    """Writes ``values`` (``{key: float}``) into ``logs`` or ``model.history`` (see above)."""
    if not values:
        return
    history = getattr(model, "history", None) if log_to == "history" else None
    if isinstance(history, keras.callbacks.History):
        for key, value in values.items():
            history.history.setdefault(key, []).append(value)
    elif logs is not None:
        logs.update(values)


def nan_values(keys):
    """``{key: nan}``: an epoch without a fresh measurement."""
    return dict.fromkeys(keys, float("nan"))
