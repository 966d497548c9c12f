"""The low-pass filter that smooths shaking inputs: known answers at the clip's ends."""

import numpy as np
import pytest

from genmimic.retarget.timeseries import lowpass

FPS, CUTOFF = 50.0, 6.0


def test_lowpass_passes_a_constant_and_a_ramp_unchanged() -> None:
    t = np.arange(120) / FPS
    values = np.stack([np.full_like(t, 0.7), 0.3 - 1.2 * t], axis=1)  # [rad], [rad] at -1.2 rad/s
    np.testing.assert_allclose(lowpass(values, FPS, CUTOFF), values, atol=1e-9)


def test_lowpass_removes_noise_at_the_ends_as_in_the_middle() -> None:
    """The first and last samples are smoothed as well as the rest (scipy's odd padding kept their noise)."""
    rng = np.random.default_rng(0)
    t = np.arange(200) / FPS
    clean = np.sin(2 * np.pi * 0.5 * t)[:, None] * np.ones((1, 400))  # 400 noisy copies of a 0.5 Hz sine
    noisy = clean + rng.normal(0, 0.3, clean.shape)
    error = np.abs(lowpass(noisy, FPS, CUTOFF) - clean)
    ends = error[[0, -1]].mean()
    middle = error[50:150].mean()
    assert ends < 0.7 * 0.3 * np.sqrt(2 / np.pi)  # well below the raw noise's mean absolute error (0.24)
    assert ends < 1.3 * middle  # measured 1.15; scipy's odd padding alone: 0.23 and 2.2 times


def test_lowpass_keeps_shape_and_short_input() -> None:
    values = np.random.default_rng(1).normal(size=(40, 3, 2))
    assert lowpass(values, FPS, CUTOFF).shape == values.shape
    short = values[:9]
    assert lowpass(short, FPS, CUTOFF) is short


def test_lowpass_refuses_a_cutoff_at_or_above_nyquist() -> None:
    with pytest.raises(ValueError, match="fps/2"):
        lowpass(np.zeros((20, 1)), FPS, FPS / 2)
