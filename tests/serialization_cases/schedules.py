"""Serialization cases for kerastools.schedules."""

import keras
import numpy as np

from kerastools import schedules as S


def _clr():
    return S.CyclicalLearningRate(1e-4, 1e-2, 20, mode="exp_range", gamma=0.999,
                                  scale_mode="cycle", step_size_down=30)


def _one_cycle():
    return S.OneCycle(0.1, 100, pct_start=0.25, anneal_strategy="linear", three_phase=True)


CASES = {
    S.CyclicalLearningRate: _clr,
    S.TriangularCyclicalLearningRate: lambda: S.TriangularCyclicalLearningRate(1e-4, 1e-2, 20),
    S.Triangular2CyclicalLearningRate: lambda: S.Triangular2CyclicalLearningRate(1e-4, 1e-2, 20),
    S.ExponentialCyclicalLearningRate: lambda: S.ExponentialCyclicalLearningRate(
        1e-4, 1e-2, 20, gamma=0.99),
    S.CyclicalMomentum: lambda: _clr().momentum_schedule(0.8, 0.95),
    S.SGDR: lambda: S.SGDR(0.1, 50, t_mul=1.5, m_mul=0.9, alpha=0.01, warmup_steps=5,
                           warmup_mode="every_restart"),
    S.OneCycle: _one_cycle,
    S.OneCycleMomentum: lambda: _one_cycle().momentum_schedule(0.8, 0.9),
    S.Warmup: lambda: S.Warmup(S.SGDR(0.1, 50), 10, initial_learning_rate=1e-3,
                               shape="exponential"),
    S.CombinedCosine: lambda: S.CombinedCosine(1e-3 / 25, 1e-3, 1e-8, 75, pct_start=0.3),
    S.ReduceOnPlateau: lambda: S.ReduceOnPlateau(
        S.SGDR(0.1, 50), monitor="loss", mode="max", factor=0.5, patience=2, threshold=0.01,
        threshold_mode="abs", cooldown=1, min_scale=0.01, eps=1e-9, scale=0.25, best=0.75,
        num_bad_epochs=1, cooldown_counter=1),
    S.SequentialSchedule: lambda: S.SequentialSchedule(
        [S.Warmup(0.05, 5), keras.optimizers.schedules.CosineDecay(0.05, 100), 1e-4], [5, 105]),
}


def _model_with(schedule):
    def factory():
        inputs = keras.Input((3,))
        outputs = keras.layers.Dense(2)(inputs)
        model = keras.Model(inputs, outputs)
        model.compile(optimizer=keras.optimizers.SGD(schedule()), loss="mse")
        x = np.linspace(-1, 1, 24, dtype="float32").reshape(8, 3)
        model.fit(x, np.zeros((8, 2), "float32"), epochs=1, batch_size=4, verbose=0)
        return model, x

    return factory


MODEL_CASES = {cls: _model_with(factory) for cls, factory in CASES.items()}
