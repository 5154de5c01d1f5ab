"""The one serialization harness every component test uses.

- ``assert_registered(cls)``: registered as ``kerastools>ClassName``.
- ``assert_config_round_trip(obj)``: ``get_config`` is JSON-safe, names every
  constructor argument, and survives ``from_config`` and
  ``serialize_keras_object`` / ``deserialize_keras_object`` through JSON.
- ``assert_model_round_trip(model, x, tmp_path)``: ``model.save("x.keras")`` and
  ``load_model(..., safe_mode=True)`` give identical inference and, for a
  compiled model, the same optimizer (``assert_optimizer_round_trip``): config,
  every variable by path and value, the learning rate and every scheduled
  coefficient at several steps, and the same next update.
- ``assert_resume_matches(build, x, y, tmp_path, ...)``: training saved,
  reloaded and resumed ends with the same weights as uninterrupted training.
"""

import inspect
import json
import os

import keras
import numpy as np


def assert_registered(cls):
    name = keras.saving.get_registered_name(cls)
    assert name == f"kerastools>{cls.__name__}", (
        f"{cls.__module__}.{cls.__name__} is registered as {name!r}; expected "
        f"'kerastools>{cls.__name__}' (keras.saving.register_keras_serializable"
        "(package='kerastools'))"
    )
    assert keras.saving.get_registered_object(name) is cls


def constructor_arguments(cls):
    """Names of the explicit constructor arguments (no *args/**kwargs)."""
    sig = inspect.signature(cls.__init__)
    return [
        p.name
        for p in list(sig.parameters.values())[1:]
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]


def _json(obj):
    text = json.dumps(obj)  # raises TypeError on anything not JSON-safe
    return json.loads(text)


def _configs_equal(a, b):
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def assert_config_round_trip(obj, ignore_args=()):
    """Checks get_config, from_config and Keras' (de)serialization via JSON."""
    cls = type(obj)
    assert_registered(cls)
    config = obj.get_config()
    missing = [
        a for a in constructor_arguments(cls) if a not in config and a not in ignore_args
    ]
    assert not missing, f"{cls.__name__}.get_config() lacks {missing}"
    config_json = _json(config)
    clone = cls.from_config(config_json)
    assert type(clone) is cls
    assert _configs_equal(clone.get_config(), config), (
        f"{cls.__name__}: config changed by from_config:\n{config}\n"
        f"{clone.get_config()}"
    )
    serialized = _json(keras.saving.serialize_keras_object(obj))
    restored = keras.saving.deserialize_keras_object(serialized)
    assert type(restored) is cls
    assert _configs_equal(restored.get_config(), config)
    return clone


def assert_model_round_trip(model, x, tmp_path, atol=0.0):
    """Saves ``model`` to ``.keras``, reloads with ``safe_mode=True``, compares.

    Inference must be identical; a compiled model's optimizer must come back
    with the same config, variables, schedules and next update
    (``assert_optimizer_round_trip``).
    """
    path = os.path.join(os.fspath(tmp_path), "model.keras")
    expected = keras.ops.convert_to_numpy(model(x, training=False))
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    got = keras.ops.convert_to_numpy(loaded(x, training=False))
    np.testing.assert_allclose(got, expected, rtol=0, atol=atol)
    if getattr(model, "optimizer", None) is not None:
        assert_optimizer_round_trip(model, loaded)
    return loaded


# Steps at which schedules are compared: the start, cycle and phase boundaries of
# the cases' schedules (5, 10, 20, 50, 100 steps) and far past them.
SCHEDULE_STEPS = (0, 1, 5, 10, 21, 37, 50, 99, 100, 1000)


def _numpy(value):
    return np.asarray(keras.ops.convert_to_numpy(value))


def optimizer_variables(optimizer):
    """``{path: array}`` of every optimizer variable (iterations included)."""
    out = {}
    for v in optimizer.variables:
        key = getattr(v, "path", None) or v.name
        assert key not in out, f"two optimizer variables share the path {key!r}"
        out[key] = _numpy(v).copy()
    return out


def learning_rate_at(optimizer, steps=SCHEDULE_STEPS):
    """The rate ``optimizer`` uses at each step (``iterations`` set, then restored)."""
    saved = _numpy(optimizer.iterations).copy()
    rates = []
    try:
        for step in steps:
            optimizer.iterations.assign(step)
            rates.append(float(_numpy(optimizer.learning_rate)))
    finally:
        optimizer.iterations.assign(saved)
    return np.array(rates)


def _scheduled_coefficients(optimizer, config):
    """``{name: schedule}`` for every config entry that is a schedule object (poles, ...)."""
    out = {}
    for key, value in config.items():
        obj = getattr(optimizer, key, None)
        if key != "learning_rate" and isinstance(value, dict) and callable(obj):
            out[key] = obj
    return out


def _gradients(variables, seed=0):
    rng = np.random.default_rng(seed)
    # Tensors, not arrays: Keras' PyTorch optimizers take only tensors.
    return [keras.ops.convert_to_tensor(
        rng.normal(size=tuple(v.shape)).astype(keras.backend.standardize_dtype(v.dtype)))
        for v in variables]


def _snapshot(variables):
    return [_numpy(v).copy() for v in variables]


def _restore(variables, values):
    for v, value in zip(variables, values):
        v.assign(value)


def assert_optimizer_round_trip(model, loaded, steps=2):
    """The reloaded model's optimizer equals the original's.

    Compares the configs (as JSON), every optimizer variable by path and value
    (exactly), the learning rate and every scheduled coefficient (e.g. a
    FilterOptimizer's poles) at ``SCHEDULE_STEPS``, then applies the same
    ``steps`` gradient updates to both models and compares the weights and the
    optimizer variables afterwards (a coefficient lost from a config shows up
    here); both models are put back as they were.
    """
    opt, opt2 = model.optimizer, loaded.optimizer
    assert opt2 is not None, "the reloaded model has no optimizer"
    assert type(opt2) is type(opt), f"{type(opt2).__name__} reloaded for {type(opt).__name__}"
    config, config2 = opt.get_config(), opt2.get_config()
    assert _configs_equal(config2, config), f"optimizer config changed:\n{config}\n{config2}"
    np.testing.assert_array_equal(learning_rate_at(opt2), learning_rate_at(opt),
                                  err_msg="learning rate at SCHEDULE_STEPS")
    coefficients, coefficients2 = (_scheduled_coefficients(o, c)
                                   for o, c in ((opt, config), (opt2, config2)))
    assert set(coefficients2) == set(coefficients)
    for key, schedule in coefficients.items():
        np.testing.assert_array_equal(
            [float(_numpy(coefficients2[key](s))) for s in SCHEDULE_STEPS],
            [float(_numpy(schedule(s))) for s in SCHEDULE_STEPS], err_msg=key)
    if not opt.built:
        return
    state, state2 = optimizer_variables(opt), optimizer_variables(opt2)
    assert sorted(state2) == sorted(state), "optimizer variables differ by path"
    assert _numpy(opt.iterations) > 0, "the case's optimizer has not taken a step"
    for key, value in state.items():
        np.testing.assert_array_equal(state2[key], value, err_msg=f"optimizer variable {key}")

    weights, weights2 = model.trainable_variables, loaded.trainable_variables
    saved = [_snapshot(v) for v in (weights, weights2, opt.variables, opt2.variables)]
    try:
        for k in range(steps):
            grads = _gradients(weights, seed=k)
            opt.apply_gradients(zip(grads, weights))
            opt2.apply_gradients(zip(grads, weights2))
        for a, b in zip(weights, weights2):
            np.testing.assert_array_equal(_numpy(b), _numpy(a), err_msg=f"{a.path} after a step")
        after, after2 = optimizer_variables(opt), optimizer_variables(opt2)
        for key, value in after.items():
            np.testing.assert_array_equal(after2[key], value,
                                          err_msg=f"optimizer variable {key} after a step")
    finally:
        for variables, values in zip((weights, weights2, opt.variables, opt2.variables), saved):
            _restore(variables, values)


def _weights(model):
    return [np.array(w) for w in model.get_weights()]


def _optimizer_state(model):
    opt = model.optimizer
    return [keras.ops.convert_to_numpy(v) for v in opt.variables] if opt else []


def assert_resume_matches(build, x, y, tmp_path, epochs_before=2, epochs_after=2,
                          batch_size=16, seed=1, rtol=1e-6, atol=1e-7, callbacks=()):
    """Uninterrupted training equals training saved, reloaded and resumed.

    ``build()`` returns a compiled model. Both runs use the same seed and no
    shuffling; ``callbacks`` is a factory list (called per run) or empty.
    """
    def fit(model, epochs, initial_epoch=0):
        model.fit(x, y, batch_size=batch_size, epochs=epochs, initial_epoch=initial_epoch,
                  shuffle=False, verbose=0, callbacks=[c() for c in callbacks])

    keras.utils.set_random_seed(seed)
    straight = build()
    fit(straight, epochs_before + epochs_after)

    keras.utils.set_random_seed(seed)
    first = build()
    fit(first, epochs_before)
    path = os.path.join(os.fspath(tmp_path), "resume.keras")
    first.save(path)
    resumed = keras.saving.load_model(path, safe_mode=True)
    fit(resumed, epochs_before + epochs_after, initial_epoch=epochs_before)

    for a, b in zip(_weights(straight), _weights(resumed)):
        np.testing.assert_allclose(b, a, rtol=rtol, atol=atol)
    sa, sb = _optimizer_state(straight), _optimizer_state(resumed)
    assert len(sa) == len(sb)
    for a, b in zip(sa, sb):
        np.testing.assert_allclose(b, a, rtol=rtol, atol=atol)
    return straight, resumed
