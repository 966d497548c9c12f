"""The low-pass filter that smooths shaking inputs (known answers at the clip's ends) and how its cutoff is
chosen (the noise estimate, the risk estimate)."""

import numpy as np
import pytest

from genmimic.retarget.timeseries import lowpass, sure_cutoff, white_noise_variance

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


def _motion(seconds: float = 6.0, fps: float = 30.0, channels: int = 60, seed: int = 0) -> np.ndarray:
    """Smooth motions (T, channels) [m]: sums of sines of 0.2-1.5 Hz, 0.05-0.3 m, random phases."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * fps))[:, None] / fps
    out = np.zeros((t.shape[0], channels))
    for _ in range(3):
        out += rng.uniform(0.05, 0.3, channels) * np.sin(2 * np.pi * rng.uniform(0.2, 1.5, channels) * t
                                                          + rng.uniform(0, 2 * np.pi, channels))
    return out


@pytest.mark.parametrize("sigma", [0.01, 0.025, 0.05])
def test_the_white_noise_estimate_finds_the_noise_under_a_motion(sigma) -> None:
    clean = _motion()
    noisy = clean + np.random.default_rng(1).normal(0, sigma, clean.shape)
    assert np.sqrt(white_noise_variance(noisy, 30.0)) == pytest.approx(sigma, rel=0.1)
    assert np.sqrt(white_noise_variance(clean, 30.0)) < 2e-3  # the motion: only leakage (its ends do not meet)


def test_the_chosen_cutoff_falls_with_the_noise_and_beats_a_fixed_one() -> None:
    """The noisier the input, the lower the cutoff (for this fast motion, up to 0.3 m at up to 1.5 Hz, 1 cm of
    noise is best left at 6 Hz); at each noise level the chosen cutoff's result is at least as close to the
    clean motion as the best of a fixed grid, to within 10 %; a noise-free input keeps the highest cutoff."""
    clean = _motion()

    def rms(noisy: np.ndarray, hz: float) -> float:
        return float(np.sqrt(np.mean((lowpass(noisy, 30.0, hz) - clean) ** 2)))

    cutoffs = []
    for sigma in (0.01, 0.025, 0.05):
        noisy = clean + np.random.default_rng(2).normal(0, sigma, clean.shape)
        chosen = sure_cutoff(noisy, 30.0, 1.0, 6.0)
        assert rms(noisy, chosen) <= 1.1 * min(rms(noisy, hz) for hz in (1.0, 1.5, 2.0, 3.0, 4.0, 6.0)), sigma
        cutoffs.append(chosen)
    assert cutoffs[0] >= cutoffs[1] >= cutoffs[2] >= 1.0 and cutoffs[2] < cutoffs[0]
    assert rms(noisy, cutoffs[2]) < 0.9 * rms(noisy, 6.0)  # 5 cm of noise: better than the fixed 6 Hz
    assert sure_cutoff(clean, 30.0, 1.0, 6.0) == 6.0
    with pytest.raises(ValueError, match="fps/2"):
        sure_cutoff(clean, 30.0, 1.0, 15.0)
