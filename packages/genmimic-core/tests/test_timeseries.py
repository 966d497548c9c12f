"""genmimic.core.timeseries: known answers and the error path."""

import numpy as np
import pytest

from genmimic.core.timeseries import extend_by_line_fits


def test_a_ramp_continues_exactly_and_noise_at_an_end_is_averaged():
    t = np.arange(20, dtype=float)
    ramp = np.stack([2.0 * t, 1.0 - t], axis=1)  # (T, 2)
    out = extend_by_line_fits(ramp, fit=5, pad=3)
    np.testing.assert_allclose(out, np.stack([2.0 * np.arange(-3, 23), 1.0 - np.arange(-3, 23)], axis=1))
    spike = np.zeros(20)
    spike[-1] = 1.0  # a last-sample outlier: the extension sits on its 5-sample line fit, not on it
    assert abs(extend_by_line_fits(spike, fit=5, pad=1)[-1]) < 1.0


def test_a_fit_window_outside_the_series_is_refused():
    with pytest.raises(ValueError, match="line fit"):
        extend_by_line_fits(np.zeros(4), fit=5, pad=2)
    with pytest.raises(ValueError, match="line fit"):
        extend_by_line_fits(np.zeros(4), fit=1, pad=2)
