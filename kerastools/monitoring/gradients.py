"""Gradients of a model's loss on one batch, on the TensorFlow, JAX or PyTorch backend.

Keras has no backend-independent ``grad``; this module is the one place that
uses the backend's autodiff (``tf.GradientTape``, ``jax.value_and_grad`` or
``torch.autograd.grad``).
"""

import keras
import numpy as np

from kerastools.monitoring.weights import weight_key


def resolve_loss(model, loss=None):
    """``loss`` or the model's compiled loss, as a function ``(y, y_pred) -> scalar``."""
    if loss is None:
        loss = getattr(model, "loss", None)
        if loss is None:
            raise ValueError(
                "Argument `loss` is needed for a model that was not compiled with a loss. "
                "Received: loss=None"
            )
    if isinstance(loss, (dict, list, tuple)):
        raise ValueError(
            f"Argument `loss` must be one loss (single-output models). Received: loss={loss!r}"
        )
    fn = keras.losses.get(loss)
    if fn is None:
        raise ValueError(f"Argument `loss` is not a Keras loss. Received: loss={loss!r}")
    return lambda y, y_pred: keras.ops.mean(fn(y, y_pred))


def loss_gradients(model, x, y, loss=None, training=False):
    """The data loss on ``(x, y)`` and its gradients w.r.t. the trainable weights.

    Regularisation penalties are not included (the gradients of the data
    term are the vanishing/exploding-gradient picture).

    Returns:
        ``(loss_value, [(variable, gradient ndarray), ...])``.
    """
    loss_fn = resolve_loss(model, loss)
    variables = list(model.trainable_weights)
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        x_t = tf.nest.map_structure(tf.convert_to_tensor, x)
        with tf.GradientTape() as tape:
            value = loss_fn(keras.ops.convert_to_tensor(y), model(x_t, training=training))
        grads = tape.gradient(value, variables)
    elif backend == "jax":
        import jax

        trainable = [v.value for v in model.trainable_variables]
        frozen = [v.value for v in model.non_trainable_variables]

        def f(tv):
            y_pred, _ = model.stateless_call(tv, frozen, x, training=training)
            return loss_fn(y, y_pred)

        value, grads = jax.value_and_grad(f)(trainable)
    elif backend == "torch":
        import torch

        value = loss_fn(keras.ops.convert_to_tensor(y), model(x, training=training))
        grads = torch.autograd.grad(value, [v.value for v in variables], allow_unused=True)
    else:
        raise NotImplementedError(
            f"Gradient statistics support the tensorflow, jax and torch backends, not {backend!r}."
        )
    pairs = []
    for v, g in zip(variables, grads):
        g = np.zeros(v.shape) if g is None else np.asarray(keras.ops.convert_to_numpy(g))
        pairs.append((v, g))
    return float(keras.ops.convert_to_numpy(value)), pairs


def gradient_norms(model, x, y, loss=None, include_biases=True):
    """L2 norm of the loss gradient of each weight: ``{"layer/weight": norm}``."""
    _, pairs = loss_gradients(model, x, y, loss)
    return {
        weight_key(v, model): float(np.sqrt(np.sum(np.asarray(g, np.float64) ** 2)))
        for v, g in pairs if include_biases or len(v.shape) > 1
    }
