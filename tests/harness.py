"""The one serialization harness every component test uses.

- ``assert_registered(cls)``: registered as ``kerastools>ClassName``.
- ``assert_config_round_trip(obj)``: ``get_config`` is JSON-safe, names every
  constructor argument, and survives ``from_config`` and
  ``serialize_keras_object`` / ``deserialize_keras_object`` through JSON.
- ``assert_model_round_trip(model, x, tmp_path)``: ``model.save("x.keras")`` and
  ``load_model(..., safe_mode=True)`` give identical inference.
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
    """Saves ``model`` to ``.keras``, reloads with ``safe_mode=True``, compares."""
    path = os.path.join(os.fspath(tmp_path), "model.keras")
    expected = keras.ops.convert_to_numpy(model(x, training=False))
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    got = keras.ops.convert_to_numpy(loaded(x, training=False))
    np.testing.assert_allclose(got, expected, rtol=0, atol=atol)
    return loaded


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
