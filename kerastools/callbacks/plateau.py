"""Drives ``kerastools.schedules.ReduceOnPlateau`` at the end of every epoch."""

import warnings

import keras

from kerastools.schedules.plateau import find_plateau_schedules


class PlateauMonitor(keras.callbacks.Callback):
    """Feeds each epoch's ``logs[monitor]`` to the optimizer's ``ReduceOnPlateau`` schedules.

    Reference: PyTorch's ``scheduler.step(val_loss)`` after each epoch, and
    Keras' ``ReduceLROnPlateau``; the rule and its state live in the
    schedule (``kerastools.schedules.ReduceOnPlateau``), so that they are
    saved with the model, and this callback holds nothing.

    At ``on_train_begin`` it finds the ``ReduceOnPlateau`` schedules that the
    optimizer's learning rate evaluates (nested ones too, e.g. inside a
    ``SequentialSchedule``; a ValueError when there is none). At
    ``on_epoch_end`` it calls ``schedule.update(logs[schedule.monitor])``
    (a warning, and nothing else, when the key is missing). On JAX, after a
    reduction, it rebuilds the train function (the scale is folded into the
    jitted step). Writes nothing to ``logs``.

    Example:

    ```python
    model.fit(x, y, validation_split=0.1, epochs=30, callbacks=[PlateauMonitor()])
    ```
    """

    def __init__(self):
        super().__init__()
        self._schedules = []

    def on_train_begin(self, logs=None):
        self._schedules = find_plateau_schedules(self.model.optimizer)
        if not self._schedules:
            raise ValueError(
                "PlateauMonitor found no kerastools.schedules.ReduceOnPlateau in the optimizer's "
                "learning rate: compile with e.g. SGD(ReduceOnPlateau(schedule)). "
                f"Received: optimizer={type(self.model.optimizer).__name__}"
            )

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        reduced = False
        for schedule in self._schedules:
            if schedule.monitor not in logs:
                warnings.warn(
                    f"PlateauMonitor: `{schedule.monitor}` is not in the logs "
                    f"(available: {sorted(logs)}); the plateau rule skips epoch {epoch}.",
                    stacklevel=2,
                )
                continue
            reduced = schedule.update(float(logs[schedule.monitor])) or reduced
        if reduced and keras.backend.backend() == "jax":
            self.model.make_train_function(force=True)
