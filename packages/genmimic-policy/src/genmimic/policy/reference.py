"""Many reference motions as one bank for the training backends (:class:`ReferenceBank`); one motion at the
policy rate is :class:`genmimic.core.runtime.reference.ReferenceMotion` (re-exported here with
:func:`~genmimic.core.runtime.reference.reference_from_clip`, which training uses to build the bank).

Both backends index frames as ``clip_start[c] + min(t, clip_len[c] - 1)``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from genmimic.core.runtime.reference import ReferenceMotion, check_keypoints, reference_from_clip, smooth_derivative

from .errors import PolicyError

__all__ = ["ReferenceBank", "ReferenceMotion", "check_keypoints", "make_bank", "reference_from_clip"]


class ReferenceBank(NamedTuple):
    """Many reference motions concatenated along time (the fields of
    :class:`~genmimic.core.runtime.reference.ReferenceMotion`, then ``keypoint_vel`` (T, 19, 3) world [m/s],
    central differences within each clip); ``clip_start`` (C,), ``clip_len`` (C,)."""

    root_pos: np.ndarray
    root_quat: np.ndarray
    dof_pos: np.ndarray
    keypoints: np.ndarray
    dof_vel: np.ndarray
    root_lin_vel: np.ndarray
    root_ang_vel: np.ndarray
    keypoint_vel: np.ndarray
    clip_start: np.ndarray
    clip_len: np.ndarray

    @property
    def num_clips(self) -> int:
        return int(self.clip_start.shape[0])

    def frame(self, clip: np.ndarray | int, t: np.ndarray | int) -> np.ndarray:
        """Bank row of frame ``t`` of ``clip`` (held at the last frame past the end)."""
        return self.clip_start[clip] + np.minimum(t, self.clip_len[clip] - 1)


def make_bank(refs: list[ReferenceMotion]) -> ReferenceBank:
    if not refs:
        raise PolicyError("no reference clips")
    lens = np.array([r.num_frames for r in refs])
    starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
    cat = [np.concatenate([getattr(r, f) for r in refs], 0) for f in ReferenceMotion._fields[:-1]]
    vel = np.concatenate([keypoint_velocities(r) for r in refs], 0)
    return ReferenceBank(*cat, keypoint_vel=vel, clip_start=starts, clip_len=lens)


def keypoint_velocities(ref: ReferenceMotion) -> np.ndarray:
    """Keypoint velocities (T, 19, 3) world [m/s] of one motion, by the same line fits as its joint and root
    velocities (:func:`genmimic.core.runtime.smooth_derivative`); zeros for a one-frame motion."""
    if ref.num_frames < 2:
        return np.zeros_like(ref.keypoints)
    return smooth_derivative(ref.keypoints, ref.dt)
