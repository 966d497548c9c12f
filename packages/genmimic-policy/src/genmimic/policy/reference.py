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
    central differences within each clip); ``goal_keypoints`` (T, 19, 3) world [m], what the student's goals
    are drawn from: ``keypoints`` itself, except for a motion paired with a corrupted version of it (its
    keypoints about its own root, carried to the clean root; :func:`make_bank`); ``clip_start`` (C,),
    ``clip_len`` (C,)."""

    root_pos: np.ndarray
    root_quat: np.ndarray
    dof_pos: np.ndarray
    keypoints: np.ndarray
    dof_vel: np.ndarray
    root_lin_vel: np.ndarray
    root_ang_vel: np.ndarray
    keypoint_vel: np.ndarray
    goal_keypoints: np.ndarray
    clip_start: np.ndarray
    clip_len: np.ndarray

    @property
    def num_clips(self) -> int:
        return int(self.clip_start.shape[0])

    def frame(self, clip: np.ndarray | int, t: np.ndarray | int) -> np.ndarray:
        """Bank row of frame ``t`` of ``clip`` (held at the last frame past the end)."""
        return self.clip_start[clip] + np.minimum(t, self.clip_len[clip] - 1)


def make_bank(refs: list[ReferenceMotion], goals: list[ReferenceMotion | None] | None = None,
              names: list[str] | None = None) -> ReferenceBank:
    """The bank of ``refs``; ``goals[i]``, where given, is a corrupted version of ``refs[i]`` (the same number
    of frames at the same rate) from which the student's goals are drawn, while the teacher's goals, the
    reward and reference state initialisation keep to ``refs[i]`` (``names[i]`` names it in errors). Its
    keypoints are taken about its own root and carried to the clean root, so a student sees them relative to
    the root as it would at run time.

    Raises:
        PolicyError: no motions, or a goal motion whose frame count differs from its reference's.
    """
    if not refs:
        raise PolicyError("no reference clips")
    goals = goals if goals is not None else [None] * len(refs)
    lens = np.array([r.num_frames for r in refs])
    starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
    cat = [np.concatenate([getattr(r, f) for r in refs], 0) for f in ReferenceMotion._fields[:-1]]
    vel = np.concatenate([keypoint_velocities(r) for r in refs], 0)
    names = names if names is not None else [f"goal motion {i}" for i in range(len(refs))]
    goal_kp = np.concatenate([_goal_keypoints(r, g, n) for r, g, n in zip(refs, goals, names, strict=True)], 0)
    return ReferenceBank(*cat, keypoint_vel=vel, goal_keypoints=goal_kp, clip_start=starts, clip_len=lens)


def _goal_keypoints(ref: ReferenceMotion, goal: ReferenceMotion | None, name: str) -> np.ndarray:
    """The student's goal keypoints (T, 19, 3) world [m] for ``ref``: ``goal``'s keypoints relative to its
    root, placed on ``ref``'s root; ``ref.keypoints`` where there is no ``goal``.

    Raises:
        PolicyError: ``goal`` has another number of frames than ``ref``.
    """
    if goal is None:
        return ref.keypoints
    if goal.num_frames != ref.num_frames:
        raise PolicyError(f"{name}: {goal.num_frames} frames at the policy rate, its clean motion "
                          f"{ref.num_frames}; fix: pair a corrupted clip only with the motion it was made from "
                          "(the same frames at the same rate)")
    return (goal.keypoints - goal.root_pos[:, None] + ref.root_pos[:, None]).astype(ref.keypoints.dtype)


def keypoint_velocities(ref: ReferenceMotion) -> np.ndarray:
    """Keypoint velocities (T, 19, 3) world [m/s] of one motion, by the same line fits as its joint and root
    velocities (:func:`genmimic.core.runtime.smooth_derivative`); zeros for a one-frame motion."""
    if ref.num_frames < 2:
        return np.zeros_like(ref.keypoints)
    return smooth_derivative(ref.keypoints, ref.dt)
