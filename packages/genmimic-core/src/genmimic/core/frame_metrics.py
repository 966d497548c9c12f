"""Per-frame figures of a tracked motion, for pictures (the viewer, the comparison video, the HTML report).

The definitions are those of :mod:`genmimic.core.tracking` (root-relative keypoint error in the heading frame,
:data:`~genmimic.core.tracking.KEYPOINT_GROUPS`, :func:`~genmimic.core.tracking.fallen`), kept per frame
instead of averaged. NumPy only. Frames: world z-up, metres, radians, quaternions wxyz.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from . import g1_constants as g1
from .tracking import FALL_HEIGHT_DROP_M, FALL_TILT_RAD, fallen, reference_on_frames, root_relative_distances


class FrameErrors(NamedTuple):
    """Root-relative keypoint error per frame [m], each (T,): the mean over all keypoints and per group of
    :data:`~genmimic.core.tracking.KEYPOINT_GROUPS` (their means over frames are
    :class:`~genmimic.core.tracking.TrackingScore`'s ``root_relative_error`` and ``groups``)."""

    all: np.ndarray
    hands: np.ndarray
    feet: np.ndarray
    head: np.ndarray


def frame_errors(keypoints: np.ndarray, root_quat: np.ndarray, ref_keypoints: np.ndarray, ref_root_quat: np.ndarray,
                 keypoint_names: tuple[str, ...] | list[str] = g1.KEYPOINT_NAMES) -> FrameErrors:
    """Per-frame root-relative errors of ``keypoints`` (T, K, 3) [m] against ``ref_keypoints`` (T, K, 3), each
    relative to its own pelvis in its own heading frame (root quaternions (T, 4) wxyz): the means over
    keypoints and groups of :func:`~genmimic.core.tracking.root_relative_distances`.

    Raises:
        ValueError: shapes differ, or ``keypoint_names`` lacks "pelvis" or a group's keypoint.
    """
    rel, groups = root_relative_distances(keypoints, root_quat, ref_keypoints, ref_root_quat, keypoint_names)
    return FrameErrors(all=rel.mean(axis=1), **{g: rel[:, idx].mean(axis=1) for g, idx in groups.items()})


def trajectory_errors(traj: Any, reference: Any | None = None) -> FrameErrors:
    """:func:`frame_errors` of a :class:`~genmimic.core.clips.Trajectory` against its reference: the G1 clip it
    tracked (sampled at the trajectory's frame times) or, without one, its own ``reference_keypoints``
    (whose heading is then taken from the trajectory's root)."""
    names = [str(n) for n in traj.keypoint_names]
    if reference is None:
        return frame_errors(traj.keypoints, traj.root_quat, traj.reference_keypoints, traj.root_quat, names)
    idx = reference_on_frames(reference.fps, reference.num_frames, traj.num_frames, traj.fps)
    return frame_errors(traj.keypoints, traj.root_quat, reference.keypoints[idx], reference.root_quat[idx], names)


class FallEvent(NamedTuple):
    """The first frame a trajectory counts as fallen, its time [s], and why: "tilt" (pelvis more than
    :data:`~genmimic.core.tracking.FALL_TILT_RAD` from upright), "height" (pelvis more than
    :data:`~genmimic.core.tracking.FALL_HEIGHT_DROP_M` under the reference's) or "tilt and height"."""

    frame: int
    time_s: float
    reason: str

    def label(self) -> str:
        """One line for a caption, e.g. ``FELL at 3.20 s (pelvis tilted over 57 deg)``."""
        why = {"tilt": f"pelvis tilted over {np.degrees(FALL_TILT_RAD):.0f} deg",
               "height": f"pelvis over {FALL_HEIGHT_DROP_M * 100:.0f} cm under the reference's",
               "tilt and height": "pelvis tilted and dropped"}.get(self.reason, self.reason)
        return f"FELL at {self.time_s:.2f} s ({why})"


def fall_event(traj: Any) -> FallEvent | None:
    """When and why a :class:`~genmimic.core.clips.Trajectory` fell (its ``fallen`` flag), or None.

    The reason re-evaluates :func:`~genmimic.core.tracking.fallen` at that frame with one test at a time,
    against the reference pelvis height of ``reference_keypoints``; "recorded" when neither test fires there
    (a flag set by a controller with a stricter margin)."""
    hits = np.flatnonzero(np.asarray(traj.fallen, bool))
    if hits.size == 0:
        return None
    t = int(hits[0])
    names = [str(n) for n in traj.keypoint_names]
    ref_h = float(traj.reference_keypoints[t, names.index("pelvis"), 2]) if "pelvis" in names else np.inf
    pos, quat = np.asarray(traj.root_pos[t], float), np.asarray(traj.root_quat[t], float)
    tilt = bool(fallen(np, pos, quat, ref_h, drop=np.inf))
    height = bool(fallen(np, pos, quat, ref_h, tilt=np.pi))
    reason = "tilt and height" if tilt and height else "tilt" if tilt else "height" if height else "recorded"
    return FallEvent(t, t / float(traj.fps), reason)


def joint_limit_margins(dof_pos: np.ndarray) -> np.ndarray:
    """Distance [rad] of each joint angle to its nearer position limit, (T, 29) for ``dof_pos`` (T, 29) in SDK
    order (limits from :data:`~genmimic.core.g1_constants.JOINTS`); negative past a limit."""
    lower = np.array([j.lower for j in g1.JOINTS])
    upper = np.array([j.upper for j in g1.JOINTS])
    q = np.asarray(dof_pos, float)
    return np.minimum(q - lower, upper - q)
