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
    p = 0.9
    fig = plot_frequency_response({
        "momentum 0.9": kto.momentum(momentum=p),
        "Nesterov 0.9": kto.nesterov(momentum=p),
        "Adam": keras.optimizers.Adam(beta_1=p),
        "Butterworth 2": kto.butterworth_momentum(2, 0.05, dc_gain=10.0),
    }, title="gradient filters", n_freq=101, step_length=30)
    mag, step = fig.axes
    assert [line.get_label() for line in mag.lines] == [
        "momentum 0.9", "Nesterov 0.9", "Adam", "Butterworth 2"]
    assert len(step.lines) == 4
    # The plotted magnitudes are the closed forms |H(exp(j w))| in dB, w = 2 pi nu:
    # momentum 1 / |1 - p e^-jw|, Nesterov |1 + p - p e^-jw| / |1 - p e^-jw|,
    # Adam's EMA (1 - p) / |1 - p e^-jw|.
    nu, db = mag.lines[0].get_data()
    np.testing.assert_allclose(nu, np.linspace(0.0, 0.5, 101))
    z1 = np.exp(-2j * np.pi * nu)
    closed = {0: 1 / np.abs(1 - p * z1), 1: np.abs(1 + p - p * z1) / np.abs(1 - p * z1),
              2: (1 - p) / np.abs(1 - p * z1)}
    for i, h in closed.items():
        np.testing.assert_allclose(mag.lines[i].get_data()[1], 20 * np.log10(h), atol=1e-9)
    # DC and Nyquist: 1/(1-p) = 10 (20 dB) and 1/(1+p); Nesterov (1+2p)/(1+p); EMA 1 and (1-p)/(1+p).
    dc = [line.get_data()[1][0] for line in mag.lines]
    nyquist = [line.get_data()[1][-1] for line in mag.lines]
    np.testing.assert_allclose(dc, [20.0, 20.0, 0.0, 20.0], atol=1e-9)
    np.testing.assert_allclose(nyquist[:3], 20 * np.log10([1 / 1.9, 2.8 / 1.9, 0.1 / 1.9]),
                               atol=1e-9)
    assert nyquist[3] < -100  # the Butterworth's zeros at z = -1
    # -3 dB (half power) below DC at the Butterworth's cutoff 0.05, between grid points.
    bw = mag.lines[3].get_data()[1]
    assert np.interp(0.05, nu, bw) == pytest.approx(20.0 - 10 * np.log10(2), abs=0.05)
    # Step responses: momentum sum_k p^k = (1 - p^(n+1)) / (1 - p); compensated EMA 1.
    n = np.arange(30)
    np.testing.assert_allclose(step.lines[0].get_data()[0], n)
    np.testing.assert_allclose(step.lines[0].get_data()[1], (1 - p ** (n + 1)) / (1 - p), rtol=1e-12)
    np.testing.assert_allclose(step.lines[1].get_data()[1],
                               p * (1 - p ** (n + 1)) / (1 - p) + 1, rtol=1e-12)
    np.testing.assert_allclose(step.lines[2].get_data()[1], 1.0, rtol=1e-12)
    path = save_figure(fig, str(tmp_path / "f.png"))
    assert str(path) == str(tmp_path / "f.png")
    from matplotlib.image import imread

    pixels = imread(str(tmp_path / "f.png"))
    assert pixels.shape[:2] == (400, 1100)  # figsize (11, 4) at 100 dpi
    assert np.ptp(pixels[..., :3]) > 0.5  # something was drawn
    with pytest.raises(ValueError, match="labels"):
        plot_frequency_response([ARMAFilter.ema(0.9)], labels=["a", "b"])
