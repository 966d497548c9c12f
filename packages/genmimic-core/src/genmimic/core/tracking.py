"""How well a robot tracked a reference: the fall test and the success criteria, defined once.

Every controller (the learned tracker, the MPC, open-loop replay, peers' trackers), the training
environment's termination, ``genmimic-policy track``/``evaluate``, the benchmark and deploy's safety layer
use these definitions (deploy may be stricter with its own documented margin). NumPy only.

Two success criteria are reported side by side:

- **legacy** (kept for continuity with earlier figures): no fall and mean global keypoint error
  < :data:`SUCCESS_MEAN_ERROR_M` over the clip. It counts a robot that stands still while the human waves.
- **strict**: no fall and the mean *root-relative* keypoint error (each set of keypoints relative to its own
  pelvis, in its own heading frame) at most :data:`STRICT_WINDOW_ERROR_M` in every :data:`STRICT_WINDOW_S`
  window (sliding, all windows of that length). Global drift is reported beside it, not inside it
  (root error per metre travelled, heading error), since a robot without global localisation drifts.

Beside both, in plain words (:func:`global_following`, :func:`describe_global`): whether the robot travelled
and turned with the reference. A robot that stands in posture while the reference walks away meets the
strict criterion; this says it did not walk. The global figures (root error, heading error, travel, turn, reach)
are taken on both roots' paths averaged over :data:`GLOBAL_SMOOTHING_S` (:func:`smoothed_path`): a noisy
reference (a lifted video, a jittered clip) wobbles its pelvis by 10-30 deg and several cm from frame to
frame, which read frame by frame made a standing clip "travel" and "turn" and its last frame's heading
decide "heading at the end".

Frames: world z-up, metres, quaternions wxyz.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from . import g1_constants as g1
from .rotations import yaw_from_quat
from .timeseries import extend_by_line_fits

FALL_TILT_RAD = 1.0  #: [rad] pelvis tilt from upright beyond which the robot has fallen
FALL_HEIGHT_DROP_M = 0.3  #: [m] pelvis this far under the reference's pelvis height counts as a fall
SUCCESS_MEAN_ERROR_M = 0.25  #: [m] legacy success: mean global keypoint error under this, and no fall
STRICT_WINDOW_S = 1.0  #: [s] window of the strict criterion
STRICT_WINDOW_ERROR_M = 0.25  #: [m] strict success: root-relative error at most this in every window
MIN_TRAVEL_M = 1.0  #: [m] floor of the distance that the root error is divided by (standing clips)
#: "travelled with the reference": the root never farther from the reference's than this share of how far
#: the reference gets from its start (at least :data:`MIN_TRAVEL_M`), and no fall
FOLLOW_ROOT_ERROR_SHARE = 0.5
#: [rad] "turned with the reference": the heading at the end at most this far off (30 deg: issue 17's target
#: for the demo's turn)
FOLLOW_HEADING_RAD = float(np.radians(30.0))
#: [m] a reference whose root travels less than this (path length) stays in place: "travelled" does not apply
MIN_FOLLOW_TRAVEL_M = 0.25
#: [m] a reference whose root rises this far above its standing height (:func:`rise`) jumps: the plain-words
#: line then says how far the robot's root rose (a robot that stands through a jump meets the strict
#: criterion, which is root-relative)
JUMP_RISE_M = 0.05
#: the share of frames, from the lowest, whose root height is taken as standing (:func:`rise`): a jump's
#: flight is a small share of a clip, crouches and squats lie below it
STANDING_QUANTILE = 0.8

#: Keypoint groups reported apart (names of :data:`genmimic.core.g1_constants.KEYPOINT_NAMES`).
KEYPOINT_GROUPS: dict[str, tuple[str, ...]] = {
    "hands": ("left_hand", "right_hand"),
    "feet": ("left_ankle", "right_ankle", "left_toe", "right_toe"),
    "head": ("head",),
}


def tilted(xp: Any, root_quat: Any, tilt: float = FALL_TILT_RAD) -> Any:
    """Whether the pelvis is tilted more than ``tilt`` [rad] from upright, batched over leading axes.

    Args:
        root_quat: (..., 4) pelvis orientation, wxyz (unit). xp: the array namespace (NumPy, jax.numpy).
    Returns (...) bool: the body z axis's world z component is under cos(tilt).
    """
    qx, qy = root_quat[..., 1], root_quat[..., 2]
    return 1.0 - 2.0 * (qx * qx + qy * qy) < np.cos(tilt)


def fallen(xp: Any, root_pos: Any, root_quat: Any, ref_root_height: Any, tilt: float = FALL_TILT_RAD,
           drop: float = FALL_HEIGHT_DROP_M) -> Any:
    """Whether the robot has fallen, batched over leading axes, for any array namespace ``xp``.

    The one fall test of the project: the training environment's termination (``genmimic.policy.rewards``,
    with these constants as its config defaults), ``track``/``evaluate``, the bench (every method) and deploy's
    safety layer (:func:`tilted` with its own stricter margin, since the robot does not know its height).

    Args:
        root_pos: (..., 3) pelvis position, world [m]. root_quat: (..., 4) pelvis orientation, wxyz.
        ref_root_height: (...) the reference's pelvis height [m].
    Returns (...) bool: :func:`tilted` past ``tilt`` [rad], or the pelvis more than ``drop`` [m] under the
    reference's.
    """
    return tilted(xp, root_quat, tilt) | (root_pos[..., 2] < ref_root_height - drop)


def legacy_success(fell: bool, mean_keypoint_error: float) -> bool:
    """The legacy success criterion: no fall and a mean global keypoint error [m] under
    :data:`SUCCESS_MEAN_ERROR_M`."""
    return (not fell) and mean_keypoint_error < SUCCESS_MEAN_ERROR_M


def heading_frame(keypoints: np.ndarray, pelvis: np.ndarray, root_quat: np.ndarray) -> np.ndarray:
    """Keypoints (T, K, 3) relative to ``pelvis`` (T, 3), rotated into the root's heading frame (the world
    frame turned by the root quaternion's yaw (T, 4) wxyz; z stays up)."""
    yaw = yaw_from_quat(root_quat)
    c, s = np.cos(-yaw)[:, None], np.sin(-yaw)[:, None]
    rel = keypoints - pelvis[:, None, :]
    x, y = rel[..., 0], rel[..., 1]
    return np.stack([c * x - s * y, s * x + c * y, rel[..., 2]], axis=-1)


def window_means(x: np.ndarray, width: int) -> np.ndarray:
    """Means of ``x`` (T,) over every window of ``width`` consecutive frames ((T - width + 1,); one window
    of all frames when T < width)."""
    width = max(1, min(int(width), len(x)))
    c = np.concatenate([[0.0], np.cumsum(x, dtype=float)])
    return (c[width:] - c[:-width]) / width


#: [s] the roots' horizontal positions and headings are averaged over a centred window this long before the
#: global figures are taken (:func:`smoothed_path`). Measured on the benchmark's 7 severity-3 jitter clips
#: (retargeted; the clean clip as the "robot"), per frame -> averaged: heading at the end 4-29 -> 2-17 deg
#: off; a non-turning reference's turn 36-67 -> 14-32 deg; standing references' travel 0.30-0.40 ->
#: 0.07-0.11 m (the clean clips: 0.02-0.06 m).
GLOBAL_SMOOTHING_S = 1.0


def smoothed_path(x: Any, width: int) -> np.ndarray:
    """Centred moving mean of ``x`` (T, ...) over ``width`` frames (made odd). Each end is first extended by
    the least-squares line through its last ``width`` frames, so a path at constant velocity (a straight walk,
    a steady turn) comes back unchanged up to its ends while frame-to-frame noise is averaged there too.
    Angles must be unwrapped first."""
    x = np.asarray(x, float)
    n, half = len(x), max(0, int(width)) // 2
    if n < 2 or half == 0:
        return x.copy()
    padded = extend_by_line_fits(x, min(n, 2 * half + 1), half)
    c = np.concatenate([np.zeros((1,) + x.shape[1:]), np.cumsum(padded, axis=0)])
    return (c[2 * half + 1:] - c[:-2 * half - 1]) / (2 * half + 1)


def _wrap(angle: np.ndarray) -> np.ndarray:
    return (angle + np.pi) % (2 * np.pi) - np.pi


def root_relative_distances(keypoints: np.ndarray, root_quat: np.ndarray, ref_keypoints: np.ndarray,
                            ref_root_quat: np.ndarray, keypoint_names: tuple[str, ...] | list[str] = g1.KEYPOINT_NAMES
                            ) -> tuple[np.ndarray, dict[str, list[int]]]:
    """Per-frame, per-keypoint root-relative distances (T, K) [m] between ``keypoints`` and ``ref_keypoints``
    (T, K, 3), each relative to its own pelvis keypoint in its own heading frame (root quaternions (T, 4)
    wxyz), and the keypoint indices of each group of :data:`KEYPOINT_GROUPS`.

    Raises:
        ValueError: shapes differ, or ``keypoint_names`` lacks "pelvis" or a group's keypoint.
    """
    keypoints, ref_keypoints = np.asarray(keypoints, float), np.asarray(ref_keypoints, float)
    if keypoints.shape != ref_keypoints.shape or keypoints.ndim != 3:
        raise ValueError(f"keypoints {keypoints.shape} and reference {ref_keypoints.shape} do not match")
    names = list(keypoint_names)
    try:
        pelvis = names.index("pelvis")
        groups = {g: [names.index(n) for n in members] for g, members in KEYPOINT_GROUPS.items()}
    except ValueError as err:
        raise ValueError(f"keypoint names lack one the metrics need: {err}") from None
    rel = np.linalg.norm(heading_frame(keypoints, keypoints[:, pelvis], root_quat)
                         - heading_frame(ref_keypoints, ref_keypoints[:, pelvis], ref_root_quat), axis=-1)
    return rel, groups


class GroupErrors(NamedTuple):
    """Mean root-relative keypoint error per group [m] (see :data:`KEYPOINT_GROUPS`)."""

    hands: float
    feet: float
    head: float


class TrackingScore(NamedTuple):
    """How a robot tracked a reference (one clip). Distances [m], angles [rad].

    fell: fell at any frame. success: legacy criterion. strict_success: strict criterion.
    mean_keypoint_error: mean global keypoint distance. root_relative_error: mean root-relative (heading
    frame) keypoint distance. worst_window_error: the largest 1 s window mean of the latter.
    groups: root-relative errors per keypoint group. root_error: mean horizontal root position error.
    root_error_per_m: horizontal root error at the end divided by the reference's path length (at least
    :data:`MIN_TRAVEL_M`). heading_error: mean absolute yaw error; final_heading_error: at the last frame.
    reference_travel, robot_travel: horizontal path length of each root (sampled every
    :data:`PATH_SAMPLE_S`); final_root_error, max_root_error: horizontal root distance at the last frame and
    its largest; reference_reach: the reference root's largest horizontal distance from its start;
    reference_turn: the reference's largest yaw away from its first frame's. reference_rise, robot_rise: how far
    each root gets above its standing height (:func:`rise`; the robot's up to a fall). joint_error: mean absolute
    joint-angle error [rad] over frames and DoF (the E_dof / MPJAE of humanoid trackers' tables, e.g.
    OmniH2O, He et al. 2024, arXiv 2406.08858), nan where joint angles were not given: keypoints alone let a
    robot reach near the same points in another posture (a thigh or upper arm turned about its own axis).
    The root error, heading, travel, reach and turn figures are on the roots' paths averaged over
    :data:`GLOBAL_SMOOTHING_S` (:func:`smoothed_path`; exact for a path at constant velocity).
    """

    fell: bool
    success: bool
    strict_success: bool
    mean_keypoint_error: float
    root_relative_error: float
    worst_window_error: float
    groups: GroupErrors
    root_error: float
    root_error_per_m: float
    heading_error: float
    final_heading_error: float
    reference_travel: float
    robot_travel: float
    final_root_error: float
    max_root_error: float
    reference_reach: float
    reference_turn: float
    joint_error: float = float("nan")
    reference_rise: float = float("nan")
    robot_rise: float = float("nan")


def rise(root_height: Any) -> float:
    """How far [m] a root's height (T,) [m] gets above its standing height: the highest frame less the
    :data:`STANDING_QUANTILE` quantile (a jump's apex; about 0 for a walk, a squat or a crouch)."""
    z = np.asarray(root_height, float)
    return float(z.max() - np.quantile(z, STANDING_QUANTILE)) if len(z) else float("nan")


def score_tracking(keypoints: np.ndarray, root_pos: np.ndarray, root_quat: np.ndarray, ref_keypoints: np.ndarray,
                   ref_root_pos: np.ndarray, ref_root_quat: np.ndarray, fell_at: np.ndarray, fps: float,
                   keypoint_names: tuple[str, ...] | list[str] = g1.KEYPOINT_NAMES,
                   dof_pos: np.ndarray | None = None, ref_dof_pos: np.ndarray | None = None) -> TrackingScore:
    """Score a tracked motion against its reference, frame by frame at ``fps`` [Hz].

    Args:
        keypoints, ref_keypoints: (T, K, 3) world [m], robot and reference, same frames.
        root_pos, ref_root_pos: (T, 3) pelvis positions [m]; root_quat, ref_root_quat: (T, 4) wxyz.
        fell_at: (T,) bool, fallen at or before each frame.
        keypoint_names: the K names; must include "pelvis" and the groups' names.
        dof_pos, ref_dof_pos: (T, D) joint angles [rad], robot and reference, same joint order; optional
            (``joint_error`` is nan without them).
    Raises:
        ValueError: mismatched shapes, or a keypoint name the groups need is missing.
    """
    if len(root_pos) != len(keypoints):
        raise ValueError(f"root {np.shape(root_pos)} and keypoints {np.shape(keypoints)} do not match")
    joint_error = float("nan")
    if dof_pos is not None and ref_dof_pos is not None:
        if np.shape(dof_pos) != np.shape(ref_dof_pos) or len(dof_pos) != len(keypoints):
            raise ValueError(f"joint angles {np.shape(dof_pos)} and {np.shape(ref_dof_pos)} do not match "
                             f"{len(keypoints)} frames")
        joint_error = float(np.abs(np.asarray(dof_pos, float) - np.asarray(ref_dof_pos, float)).mean())
    rel, groups = root_relative_distances(keypoints, root_quat, ref_keypoints, ref_root_quat, keypoint_names)
    fell = bool(np.any(fell_at))
    err = np.linalg.norm(np.asarray(keypoints, float) - np.asarray(ref_keypoints, float), axis=-1)  # (T, K)
    rel_frame = rel.mean(axis=1)
    worst = float(window_means(rel_frame, round(STRICT_WINDOW_S * fps)).max())
    width = round(GLOBAL_SMOOTHING_S * fps)
    xy = smoothed_path(np.asarray(root_pos, float)[:, :2], width)
    ref_xy = smoothed_path(np.asarray(ref_root_pos, float)[:, :2], width)
    yaw = smoothed_path(np.unwrap(yaw_from_quat(root_quat)), width)
    ref_yaw = smoothed_path(np.unwrap(yaw_from_quat(ref_root_quat)), width)
    root_xy = np.linalg.norm(xy - ref_xy, axis=-1)
    travel = _path_length(ref_xy, fps)
    yaw_err = np.abs(_wrap(yaw - ref_yaw))
    ref_turn = float(np.abs(_wrap(ref_yaw - ref_yaw[0])).max())
    mean_err = float(err.mean())
    return TrackingScore(
        fell=fell, success=legacy_success(fell, mean_err),
        strict_success=(not fell) and worst <= STRICT_WINDOW_ERROR_M, mean_keypoint_error=mean_err,
        root_relative_error=float(rel_frame.mean()), worst_window_error=worst,
        groups=GroupErrors(**{g: float(rel[:, idx].mean()) for g, idx in groups.items()}),
        root_error=float(root_xy.mean()), root_error_per_m=float(root_xy[-1] / max(travel, MIN_TRAVEL_M)),
        heading_error=float(yaw_err.mean()), final_heading_error=float(yaw_err[-1]),
        reference_travel=travel, robot_travel=_path_length(xy, fps), final_root_error=float(root_xy[-1]),
        max_root_error=float(root_xy.max()), reference_turn=ref_turn,
        reference_reach=float(np.linalg.norm(ref_xy - ref_xy[0], axis=-1).max()), joint_error=joint_error,
        reference_rise=rise(np.asarray(ref_root_pos)[:, 2]),
        robot_rise=rise(np.asarray(root_pos)[~np.asarray(fell_at, bool), 2]))


#: [s] the root's path is measured between samples this far apart, so a standing robot's sway (a few mm
#: per frame, metres over a clip at 50 Hz) is not counted as travel
PATH_SAMPLE_S = 0.5


def _path_length(root_pos: Any, fps: float) -> float:
    """Horizontal path length [m] of root positions (T, 2 or 3) at ``fps``, sampled every :data:`PATH_SAMPLE_S`
    (and the last frame)."""
    xy = np.asarray(root_pos, float)[:, :2]
    idx = np.unique(np.append(np.arange(0, len(xy), max(1, round(PATH_SAMPLE_S * fps))), len(xy) - 1))
    return float(np.linalg.norm(np.diff(xy[idx], axis=0), axis=-1).sum())


class GlobalFollowing(NamedTuple):
    """Whether the robot went where the reference went, without falling: ``travelled`` (its root never
    farther from the reference's than :data:`FOLLOW_ROOT_ERROR_SHARE` of how far the reference gets from its
    start, at least :data:`MIN_TRAVEL_M`; so an out-and-back walk stood through does not count) and ``turned``
    (heading at the end within :data:`FOLLOW_HEADING_RAD`); None where it does not apply (a reference
    travelling under :data:`MIN_FOLLOW_TRAVEL_M`, or turning under :data:`FOLLOW_HEADING_RAD`). Reported
    beside success, never inside it."""

    travelled: bool | None
    turned: bool | None


def global_following(score: TrackingScore) -> GlobalFollowing:
    """:class:`GlobalFollowing` of a score (see :func:`score_tracking`)."""
    travelled = not score.fell and score.max_root_error <= FOLLOW_ROOT_ERROR_SHARE * max(score.reference_reach,
                                                                                         MIN_TRAVEL_M)
    turned = not score.fell and score.final_heading_error <= FOLLOW_HEADING_RAD
    return GlobalFollowing(travelled=travelled if score.reference_travel >= MIN_FOLLOW_TRAVEL_M else None,
                           turned=turned if score.reference_turn >= FOLLOW_HEADING_RAD else None)


def describe_global(score: TrackingScore) -> str:
    """One plain sentence on where the robot went against the reference, e.g. "travelled 0.00 m of the
    reference's 0.90 m, 0.90 m off at the end: did not follow it; heading 83 deg off at the end: did not turn
    as it did" (a reference staying in place: the root's distance at the end; one not turning: "turned away"
    when the robot's heading ends more than 30 deg off; a reference that jumps, :data:`JUMP_RISE_M` or
    more: how far the robot's root rose, and "did not jump as it did" under half the reference's rise)."""
    follow = global_following(score)
    if follow.travelled is None:
        root = f"root {score.final_root_error:.2f} m from the reference's at the end"
    else:
        root = (f"travelled {score.robot_travel:.2f} m of the reference's {score.reference_travel:.2f} m, "
                f"{score.final_root_error:.2f} m off at the end")
        if not follow.travelled:
            root += ": did not follow it"
    heading = f"heading {np.degrees(score.final_heading_error):.0f} deg off at the end"
    if follow.turned is False:
        heading += ": did not turn as it did"
    elif follow.turned is None and score.final_heading_error > FOLLOW_HEADING_RAD:
        heading += ": turned away from it"
    jump = ""
    if score.reference_rise >= JUMP_RISE_M:
        jump = (f"; the root rose {score.robot_rise * 100:.0f} cm above standing where the reference's rose "
                f"{score.reference_rise * 100:.0f} cm")
        if not score.robot_rise >= 0.5 * score.reference_rise:
            jump += ": did not jump as it did"
    return f"{root}; {heading}{jump}"


def reference_on_frames(ref_fps: float, ref_frames: int, num_frames: int, fps: float) -> np.ndarray:
    """Indices (num_frames,) of the reference frames nearest in time to frames at ``fps`` (held at the
    reference's last frame past its end)."""
    idx = np.round(np.arange(num_frames) * ref_fps / fps).astype(int)
    return np.minimum(idx, ref_frames - 1)


def score_trajectory(traj: Any, reference: Any) -> TrackingScore:
    """Score a :class:`~genmimic.core.clips.Trajectory` against the :class:`~genmimic.core.clips.G1Clip` it
    tracked (any frame rates: the reference is sampled at the trajectory's frame times)."""
    idx = reference_on_frames(reference.fps, reference.num_frames, traj.num_frames, traj.fps)
    return score_tracking(traj.keypoints, traj.root_pos, traj.root_quat, reference.keypoints[idx],
                          reference.root_pos[idx], reference.root_quat[idx], traj.fallen, traj.fps,
                          [str(n) for n in traj.keypoint_names], traj.dof_pos, reference.dof_pos[idx])

