"""Run by check_install.sh inside a fresh environment that has only the wheel and one
backend extra. Trains, saves, reloads and resumes; fails loudly on any difference."""

import os
import sys
import tempfile

import keras
import numpy as np

import kerastools
from kerastools import callbacks as ktc
from kerastools import layers as ktl
from kerastools import optimizers as kto
from kerastools import schedules as kts

backend = sys.argv[1]
assert keras.backend.backend() == backend, keras.backend.backend()
assert "tensorflow" not in sys.modules, "TensorFlow was imported"
assert kerastools.__file__.find("site-packages") > 0, kerastools.__file__

rng = np.random.default_rng(0)
x = rng.normal(size=(256, 20)).astype("float32")
y = np.argmax(x[:, :3], axis=1).astype("int32")
keras.utils.set_random_seed(0)
inputs = keras.Input((20,))
h = ktl.DropConnectDense(32, rate=0.3, activation="relu", seed=1, name="hidden")(inputs)
outputs = keras.layers.Dense(3, activation="softmax", name="output")(h)
model = keras.Model(inputs, outputs)
schedule = kts.OneCycle(0.01, total_steps=4 * 8)
model.compile(optimizer=kto.adam(schedule), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
history = model.fit(x, y, batch_size=32, epochs=2, verbose=0,
                    callbacks=[ktc.WeightNormTracker(), ktc.LearningRateLogger()])
assert history.history["loss"][-1] < history.history["loss"][0], history.history["loss"]
assert "weight_norm/hidden/kernel" in history.history and "learning_rate" in history.history

path = os.path.join(tempfile.mkdtemp(), "model.keras")
model.save(path)
loaded = keras.saving.load_model(path, safe_mode=True)
np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
for a, b in zip(model.optimizer.variables, loaded.optimizer.variables):
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))
# Training resumes on both the same way (the DropConnect masks come from the saved seed state).
model.fit(x, y, batch_size=32, epochs=2, verbose=0, shuffle=False)
loaded.fit(x, y, batch_size=32, epochs=2, verbose=0, shuffle=False)
for a, b in zip(model.get_weights(), loaded.get_weights()):
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
print(f"install_smoke: {backend}: trained (loss {history.history['loss'][0]:.3f} -> "
      f"{history.history['loss'][-1]:.3f}), saved, reloaded and resumed identically; "
      "no TensorFlow imported")
