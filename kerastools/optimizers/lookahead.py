"""Lookahead: slow weights that follow any optimizer's fast weights every k steps."""

import keras
from keras import ops

from kerastools._checks import check_in_range
from kerastools._checks import check_positive_int


class _Untracked:
    """Holds the model variables without Keras' attribute tracking.

    An optimizer counts every ``keras.Variable`` (and every list of them) set
    as one of its attributes as its own variable; the model variables must not
    be saved as optimizer state.
    """

    def __init__(self, items):
        self.items = tuple(items)


def _copy_of(variable):
    """Initializer of a slow weight: the model variable's value when the optimizer is built."""

    def initializer(shape, dtype=None):
        # A copy: a slow weight must not share its buffer with the model variable (JAX
        # donates both to the compiled train step).
        return ops.copy(ops.cast(ops.convert_to_tensor(variable), dtype or variable.dtype))

    return initializer


@keras.saving.register_keras_serializable(package="kerastools")
class Lookahead(keras.optimizers.Optimizer):
    """Lookahead wrapper: "k steps forward, 1 step back" around any optimizer.

    Reference: Zhang, Lucas, Hinton & Ba (2019), "Lookahead Optimizer: k steps
    forward, 1 step back", Algorithm 1; argument names of TensorFlow Addons'
    ``tfa.optimizers.Lookahead``.

    Update rule (``theta`` the model's fast weights, ``phi`` the slow weights,
    ``A`` the wrapped optimizer, ``t`` its step count after the update):

    ```
    theta = A(theta, g)                       # every step
    if t % sync_period == 0:
        phi = phi + slow_step_size * (theta - phi)
        theta = phi
    ```

    The slow weights start as the model's weights when the optimizer is built;
    they are optimizer variables, so ``model.save`` keeps them. The
    synchronisation is a tensor operation inside the compiled train step (no
    Python per batch). ``iterations`` and ``learning_rate`` are the wrapped
    optimizer's: schedules, ``ReduceLROnPlateau`` and learning-rate loggers
    act on it. Base arguments (``clipnorm``, ``weight_decay``, ``use_ema``,
    ``gradient_accumulation_steps``, ...) belong to the wrapped optimizer.
    ``sync_period`` counts the wrapped optimizer's ``iterations`` (its
    updates, with gradient accumulation).

    Args:
        optimizer: the wrapped optimizer: a Keras or kerastools optimizer
            instance (not yet built), its name (`"adam"`) or its serialized
            config.
        sync_period: int >= 1, the number ``k`` of fast steps between two
            synchronisations. Defaults to `6`.
        slow_step_size: float in (0, 1], the slow weights' step ``alpha``
            towards the fast weights. Defaults to `0.5`.
        name: optimizer name. Defaults to `"lookahead"`.

    Example:

    >>> opt = Lookahead(keras.optimizers.Adam(1e-3), sync_period=6,
    ...                 slow_step_size=0.5)
    >>> model.compile(optimizer=opt, loss="mse")
    """

    def __init__(self, optimizer, sync_period=6, slow_step_size=0.5, name="lookahead"):
        if isinstance(optimizer, (str, dict)):
            try:
                optimizer = keras.optimizers.get(optimizer)
            except (ValueError, TypeError) as error:
                raise ValueError(
                    "Argument `optimizer` must be a Keras optimizer, its name or its config. "
                    f"Received: optimizer={optimizer!r} ({error})"
                ) from None
        if not isinstance(optimizer, keras.optimizers.Optimizer):
            raise ValueError(
                "Argument `optimizer` must be a Keras optimizer, its name or its config. "
                f"Received: optimizer={optimizer!r}"
            )
        if optimizer.built:
            raise ValueError(
                "Argument `optimizer` must not be built yet (Lookahead builds it on the "
                f"model's variables). Received: optimizer={optimizer!r} (built)"
            )
        sync_period = check_positive_int("sync_period", sync_period)
        slow_step_size = check_in_range("slow_step_size", slow_step_size, 0.0, 1.0,
                                        low_closed=False, high_closed=True)
        # The learning rate and the step counter are the wrapped optimizer's
        # (the properties below); the base class' own are left unused.
        super().__init__(learning_rate=0.0, name=name)
        self.inner_optimizer = optimizer
        self.sync_period = sync_period
        self.slow_step_size = slow_step_size

    # ------------------------------------------------------------ delegation
    @property
    def learning_rate(self):
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, learning_rate):
        self.inner_optimizer.learning_rate = learning_rate

    @property
    def iterations(self):
        return self.inner_optimizer.iterations

    @property
    def variables(self):
        return super().variables + self.inner_optimizer.variables

    def scale_loss(self, loss):
        return self.inner_optimizer.scale_loss(loss)

    def finalize_variable_values(self, var_list):
        self.inner_optimizer.finalize_variable_values(var_list)

    # ------------------------------------------------------------- build/apply
    def build(self, var_list):
        if self.built:
            return
        var_list = list(var_list)
        super().build(var_list)
        self._model_variables = _Untracked(var_list)
        self.slow_weights = [
            None if v.overwrite_with_gradient else
            self.add_variable_from_reference(v, "slow", initializer=_copy_of(v))
            for v in var_list
        ]
        self.inner_optimizer.build(var_list)

    def apply(self, grads, trainable_variables=None):
        if not self.built:
            if trainable_variables is None:
                raise ValueError(
                    "When passing `grads` without `variables`, the optimizer must already be "
                    "built. Call `optimizer.build(trainable_variables)` first."
                )
            self.build(list(trainable_variables))
        self.inner_optimizer.apply(grads, trainable_variables)
        self.synchronize()

    def synchronize(self):
        """Moves the slow weights and resets the fast ones where the step count is a multiple of k.

        Called by ``apply`` after the wrapped optimizer's update; a tensor
        condition inside the compiled step: ``ops.cond`` (TensorFlow, PyTorch:
        nothing runs between synchronisations), a select on JAX (its stateless
        train step cannot assign inside ``lax.cond``).
        """
        sync = ops.equal(ops.mod(self.iterations, self.sync_period), 0)
        if keras.backend.backend() == "jax":
            self._move(sync)
        else:
            ops.cond(sync, self._move, lambda: None)

    def _move(self, sync=None):
        for variable, slow in zip(self._model_variables.items, self.slow_weights):
            if slow is None:
                continue
            fast, phi = ops.convert_to_tensor(variable), ops.convert_to_tensor(slow)
            # convert_to_tensor, not cast: TensorFlow would round the float through float32.
            alpha = ops.convert_to_tensor(self.slow_step_size, dtype=variable.dtype)
            moved = phi + alpha * (fast - phi)
            if sync is not None:
                moved = ops.where(sync, moved, phi)
                fast = ops.where(sync, moved, fast)
            else:
                fast = moved
            self.assign(slow, moved)
            self.assign(variable, fast)

    # ---------------------------------------------------------------- config
    def get_config(self):
        return {
            "name": self.name,
            "optimizer": keras.saving.serialize_keras_object(self.inner_optimizer),
            "sync_period": self.sync_period,
            "slow_step_size": self.slow_step_size,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["optimizer"] = keras.saving.deserialize_keras_object(
            config["optimizer"], custom_objects=custom_objects)
        return cls(**config)
