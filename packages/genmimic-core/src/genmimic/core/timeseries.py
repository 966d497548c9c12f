"""Helpers over time series (T, ...) sampled at a fixed rate, shared by the stages. NumPy only."""

from __future__ import annotations

import numpy as np


def extend_by_line_fits(values: np.ndarray, fit: int, pad: int) -> np.ndarray:
    """``values`` (T, ...) with ``pad`` samples added before and after, on the least-squares line through its
    first and last ``fit`` samples respectively ((T + 2 pad, ...)). A constant or a steady ramp continues
    exactly; noise at an end is averaged over ``fit`` samples instead of being kept, as reflecting the signal
    through its end sample (scipy's ``padtype="odd"``) keeps it. Used before a low-pass or moving mean so that
    the ends are smoothed as the middle is.

    Raises:
        ValueError: ``fit`` under 2 or over T.
    """
    values = np.asarray(values, dtype=float)
    if not 2 <= fit <= values.shape[0]:
        raise ValueError(f"a line fit needs 2 to {values.shape[0]} samples, got {fit}")
    flat = values.reshape(values.shape[0], -1)
    x = np.arange(fit, dtype=float)
    design = np.stack([np.ones(fit), x - x.mean()], axis=1)
    pinv = np.linalg.pinv(design)  # (2, fit): intercept at the window's centre, slope per sample
    head, tail = pinv @ flat[:fit], pinv @ flat[-fit:]
    before = head[0] + head[1] * (np.arange(-pad, 0) - x.mean())[:, None]
    after = tail[0] + tail[1] * (np.arange(fit, fit + pad) - x.mean())[:, None]
    out = np.concatenate([before, flat, after], axis=0)
    return out.reshape(out.shape[0], *values.shape[1:])
