"""Saving a layer's random-number state with its weights.

Keras saves a layer's variables but not the state of its ``keras.random.SeedGenerator``
(its draw counter): a reloaded model would draw its first masks again, so training
resumed after ``load_model`` would not continue the run it was saved from. A layer that
mixes in ``SavesSeedState`` writes the counter beside its weights and reads it back,
through Keras' public ``save_own_variables`` / ``load_own_variables`` hooks. Files saved
without it (older kerastools) still load: the generator then starts afresh.
"""

import keras

SEED_STATE_KEY = "seed_generator_state"


class SavesSeedState:
    """Mixin for a layer whose ``seed_generator`` attribute draws its random masks."""

    def save_own_variables(self, store):
        super().save_own_variables(store)
        store[SEED_STATE_KEY] = keras.ops.convert_to_numpy(self.seed_generator.state)

    def load_own_variables(self, store):
        keys = list(store.keys())
        if SEED_STATE_KEY in keys:
            self.seed_generator.state.assign(store[SEED_STATE_KEY])
            store = {key: store[key] for key in keys if key != SEED_STATE_KEY}
        super().load_own_variables(store)
