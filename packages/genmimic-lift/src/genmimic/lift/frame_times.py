"""Video frame times: a uniform clip rate from presentation timestamps, and resampling onto it.

Videos place frames by presentation timestamps: a phone's variable-frame-rate video has uneven gaps, NTSC
29.97 fps is 30000/1001, and a time base that does not divide the frame interval (1/12800 s at 30 fps)
rounds each timestamp to a tick. A clip has one uniform rate, so the lift decides it from the timestamps
(:func:`uniform_rate`) and, when the frames are not evenly spaced, resamples the keypoints onto it
(:func:`resample_times`, :func:`pose2d.resample`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

Array = NDArray[np.float64]
#: Frame rates videos are made at [1/s]; a measured rate within :data:`SNAP_TOLERANCE` of one becomes it.
STANDARD_RATES = (24000 / 1001, 24.0, 25.0, 30000 / 1001, 30.0, 48.0, 50.0, 60000 / 1001, 60.0, 90.0, 100.0,
                  120000 / 1001, 120.0, 240.0)
#: Relative tolerance of :data:`STANDARD_RATES` snapping (0.3 %: 29.97 and 30 stay apart, 0.1 %).
SNAP_TOLERANCE = 0.003
#: Frames whose gaps differ from the median gap by more than this fraction make a variable-rate video
#: (a time base of 1/12800 s at 30 fps rounds gaps by 0.2 %, an NTSC drop by 0.1 %).
EVEN_TOLERANCE = 0.1


class FrameTiming(NamedTuple):
    """How a video's frames map onto the clip: ``fps`` [1/s] of the clip, ``source_frames`` decoded,
    ``variable`` (uneven gaps between timestamps), ``resampled`` (clip frames interpolated at uniform
    times rather than taken one per decoded frame), ``duration`` [s] from the first to the last frame."""

    fps: float
    source_frames: int
    variable: bool
    resampled: bool
    duration: float


def snap_rate(fps: float) -> float:
    """``fps`` [1/s], or the standard rate within :data:`SNAP_TOLERANCE` of it."""
    rate = min(STANDARD_RATES, key=lambda r: abs(fps - r) / r)
    return rate if abs(fps - rate) <= SNAP_TOLERANCE * rate else float(fps)


def is_variable(times: ArrayLike) -> bool:
    """Whether timestamps (T,) [s] are unevenly spaced (see :data:`EVEN_TOLERANCE`)."""
    gaps = np.diff(np.asarray(times, float))
    if len(gaps) < 2:
        return False
    median = float(np.median(gaps))
    return bool(np.any(np.abs(gaps - median) > EVEN_TOLERANCE * median))


def uniform_rate(times: ArrayLike, fps: float | None = None) -> FrameTiming:
    """The clip's timing for frames at increasing timestamps ``times`` (T,) [s], T >= 2.

    Evenly spaced frames keep one clip frame each, at the mean rate snapped to a standard rate (29.97
    stays 29.97); unevenly spaced frames (variable frame rate) are resampled at the rate of the median
    gap, snapped. ``fps`` [1/s] asks for that uniform rate instead (resampled when it differs).
    Raises ValueError for fewer than 2 times, times that do not increase, or ``fps`` <= 0.
    """
    t = np.asarray(times, float)
    if t.ndim != 1 or len(t) < 2 or np.any(np.diff(t) <= 0) or not np.all(np.isfinite(t)):
        raise ValueError("frame times must be 2 or more increasing finite values [s]")
    if fps is not None and not (np.isfinite(fps) and fps > 0):
        raise ValueError(f"the clip rate must be a positive number of frames per second, got {fps}")
    duration = float(t[-1] - t[0])
    variable = is_variable(t)
    natural = snap_rate(1.0 / float(np.median(np.diff(t))) if variable else (len(t) - 1) / duration)
    rate = float(fps) if fps is not None else natural
    resampled = variable or abs(rate - natural) > 1e-9 * natural
    return FrameTiming(rate, len(t), variable, resampled, duration)


def resample_times(times: ArrayLike, fps: float) -> Array:
    """Uniform clip times (N,) [s] at ``fps`` from the first timestamp to the last (inclusive within a
    thousandth of a frame)."""
    t = np.asarray(times, float)
    n = int(np.floor((t[-1] - t[0]) * fps + 1e-3)) + 1
    return t[0] + np.arange(n) / fps


def interpolate(times: ArrayLike, values: ArrayLike, at: ArrayLike) -> Array:
    """``values`` (T, ...) given at increasing ``times`` (T,) [s], linearly interpolated at ``at`` (N,)
    (held at the ends)."""
    t, v, a = np.asarray(times, float), np.asarray(values, float), np.asarray(at, float)
    k = np.clip(np.searchsorted(t, a, side="right") - 1, 0, len(t) - 2)
    w = np.clip((a - t[k]) / (t[k + 1] - t[k]), 0.0, 1.0).reshape(-1, *([1] * (v.ndim - 1)))
    return (1.0 - w) * v[k] + w * v[k + 1]


def nearest(times: ArrayLike, at: ArrayLike) -> NDArray[np.int64]:
    """Index (N,) of the timestamp in ``times`` (T,) nearest to each of ``at`` (N,)."""
    t, a = np.asarray(times, float), np.asarray(at, float)
    k = np.clip(np.searchsorted(t, a), 1, len(t) - 1)
    return np.where(np.abs(a - t[k - 1]) <= np.abs(t[k] - a), k - 1, k)
