"""Natural timing: minimum-jerk profiles and keyframe tracks sampled with them.

A movement between two keyframes follows the minimum-jerk profile ``s(tau) = 10 tau^3 - 15 tau^4 + 6 tau^5``
(Flash and Hogan 1985): zero velocity and acceleration at both ends and a bell-shaped velocity, as in
human reaching. Rotations are slerped along that profile, scalars and vectors blended by it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

Array = NDArray[np.float64]


def minimum_jerk(tau: ArrayLike) -> Array:
    """Minimum-jerk progress ``s`` in [0, 1] for normalised time ``tau`` (clipped to [0, 1])."""
    t = np.clip(np.asarray(tau, float), 0.0, 1.0)
    return t**3 * (10.0 - 15.0 * t + 6.0 * t * t)


def bump(tau: ArrayLike) -> Array:
    """A smooth bump: 0 at ``tau`` 0 and 1 with zero velocity and acceleration there, 1 at ``tau`` 0.5."""
    t = np.clip(np.asarray(tau, float), 0.0, 1.0)
    return 64.0 * t**3 * (1.0 - t) ** 3


def slerp(q0_wxyz: ArrayLike, q1_wxyz: ArrayLike, s: ArrayLike) -> Array:
    """Spherical interpolation of unit quaternions (..., 4) by ``s`` (broadcast over leading axes)."""
    q0, q1 = np.asarray(q0_wxyz, float), np.asarray(q1_wxyz, float)
    s = np.asarray(s, float)[..., None]
    dot = np.sum(q0 * q1, axis=-1, keepdims=True)
    q1 = np.where(dot < 0, -q1, q1)
    dot = np.clip(np.abs(dot), 0.0, 1.0)
    theta = np.arccos(dot)
    sin = np.sin(theta)
    small = sin < 1e-6
    w0 = np.where(small, 1.0 - s, np.sin((1.0 - s) * theta) / np.where(small, 1.0, sin))
    w1 = np.where(small, s, np.sin(s * theta) / np.where(small, 1.0, sin))
    q = w0 * q0 + w1 * q1
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def _segments(times: Array, t: Array) -> tuple[NDArray[np.int64], Array]:
    """Index ``k`` of the keyframe segment holding each ``t`` and the minimum-jerk progress in it."""
    k = np.clip(np.searchsorted(times, t, side="right") - 1, 0, max(len(times) - 2, 0))
    if len(times) < 2:
        return k, np.zeros_like(t)
    span = np.maximum(times[k + 1] - times[k], 1e-9)
    return k, minimum_jerk((t - times[k]) / span)


def sample_values(times: Sequence[float], values: ArrayLike, t: ArrayLike) -> Array:
    """Sample keyframed values (K, ...) at times ``t`` (T,) [s]: minimum-jerk blends, held outside."""
    times_a, v, t_a = np.asarray(times, float), np.asarray(values, float), np.asarray(t, float)
    _check_times(times_a)
    if len(times_a) == 1:
        return np.broadcast_to(v[0], (len(t_a), *v.shape[1:])).copy()
    k, s = _segments(times_a, t_a)
    s = s.reshape(-1, *([1] * (v.ndim - 1)))
    return v[k] + s * (v[k + 1] - v[k])


def sample_rotations(times: Sequence[float], quats_wxyz: ArrayLike, t: ArrayLike) -> Array:
    """Sample keyframed rotations (K, ..., 4) wxyz at times ``t`` (T,): minimum-jerk slerp, held outside."""
    times_a, q, t_a = np.asarray(times, float), np.asarray(quats_wxyz, float), np.asarray(t, float)
    _check_times(times_a)
    if len(times_a) == 1:
        return np.broadcast_to(q[0], (len(t_a), *q.shape[1:])).copy()
    k, s = _segments(times_a, t_a)
    s = np.broadcast_to(s.reshape(-1, *([1] * (q.ndim - 2))), (len(t_a), *q.shape[1:-1]))
    return slerp(q[k], q[k + 1], s)


def _check_times(times: Array) -> None:
    if times.ndim != 1 or len(times) == 0 or np.any(np.diff(times) < 0):
        raise ValueError(f"keyframe times must be a non-empty increasing sequence, got {times}")
