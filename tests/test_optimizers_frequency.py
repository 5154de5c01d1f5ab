"""Frequency responses of the optimizers' gradient filters (the course's figures)."""

import keras
import numpy as np
import pytest

from kerastools import optimizers as kto
from kerastools.filters import ARMAFilter
from kerastools.plotting import gradient_filter_of
from kerastools.plotting import plot_frequency_response
from kerastools.plotting import save_figure


def test_nesterov_attenuates_high_frequencies_less_than_momentum():
    mom = gradient_filter_of(kto.momentum(momentum=0.9))
    nes = gradient_filter_of(kto.nesterov(momentum=0.9))
    # Same DC gain 1 / (1 - p) = 10: momentum couples gain and learning rate.
    assert mom.dc_gain() == pytest.approx(10.0) and nes.dc_gain() == pytest.approx(10.0)
    nu = np.linspace(0.05, 0.5, 10)
    assert np.all(np.abs(nes.frequency_response(nu)) > np.abs(mom.frequency_response(nu)))
    # At Nyquist, closed forms: 1 / (1 + p) and (1 + 2p) / (1 + p).
    assert abs(mom.frequency_response(0.5)) == pytest.approx(1 / 1.9)
    assert abs(nes.frequency_response(0.5)) == pytest.approx(2.8 / 1.9)


def test_adam_gain_is_not_coupled_to_learning_rate():
    for beta in (0.5, 0.9, 0.99):
        f = gradient_filter_of(kto.adam(beta_1=beta))
        assert f.dc_gain() == pytest.approx(1.0)
        assert gradient_filter_of(keras.optimizers.Adam(beta_1=beta)) == f
    nadam = gradient_filter_of(kto.nadam(beta_1=0.9))
    assert nadam.dc_gain() == pytest.approx(1.0)
    assert gradient_filter_of(keras.optimizers.Nadam()) .b == pytest.approx(nadam.b)


def test_keras_builtins_map_to_the_preset_filters():
    assert gradient_filter_of(keras.optimizers.SGD(momentum=0.9)) == ARMAFilter.ar1(
        0.9, gain="input")
    assert gradient_filter_of(keras.optimizers.SGD(momentum=0.9, nesterov=True)) \
        == ARMAFilter.nesterov(0.9)
    assert gradient_filter_of(keras.optimizers.Adagrad()).b == (1.0,)
    with pytest.raises(ValueError, match="Argument `filters`"):
        gradient_filter_of("adam")


def test_plot_frequency_response(tmp_path):
    fig = plot_frequency_response({
        "momentum 0.9": kto.momentum(momentum=0.9),
        "Nesterov 0.9": kto.nesterov(momentum=0.9),
        "Adam": keras.optimizers.Adam(),
        "Butterworth 2": kto.butterworth_momentum(2, 0.05, dc_gain=10.0),
    }, title="gradient filters")
    mag, step = fig.axes
    assert len(mag.lines) == 4 and len(step.lines) == 4
    nu, db = mag.lines[0].get_data()
    assert db[0] == pytest.approx(20.0, abs=1e-6)  # DC gain 10 -> 20 dB
    np.testing.assert_allclose(step.lines[2].get_data()[1], 1.0)  # compensated EMA
    path = save_figure(fig, str(tmp_path / "f.png"))
    assert (tmp_path / "f.png").stat().st_size > 1000 or path
    with pytest.raises(ValueError, match="labels"):
        plot_frequency_response([ARMAFilter.ema(0.9)], labels=["a", "b"])
