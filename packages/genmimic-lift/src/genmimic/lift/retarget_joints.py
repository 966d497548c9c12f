"""From 3D joint positions of any skeleton (mocap, keypoints) to an SMPL clip on genmimic.core's skeleton.

The source skeleton's joints are mapped to SMPL joints by name (or given as (T, 24, 3) with weights),
genmimic.core's default skeleton is scaled to the source's size, the SMPL rotations are fitted over the
sequence (:func:`genmimic.lift.fit.fit_sequence`) and the result is put on the ground: the lowest sole
over the frames where a foot is down lies on z = 0.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from genmimic.core import SmplClip, smpl
from genmimic.core import rotations as rot

from .gait import ANKLE_HEIGHT, BALL_HEIGHT

Array = NDArray[np.float64]
_J = smpl.JOINT_NAMES.index
#: Bones whose lengths set the body scale: (parent, child) SMPL joint names.
SCALE_BONES = (("left_hip", "left_knee"), ("left_knee", "left_ankle"), ("right_hip", "right_knee"),
               ("right_knee", "right_ankle"), ("left_shoulder", "left_elbow"), ("right_shoulder", "right_elbow"),
               ("left_elbow", "left_wrist"), ("right_elbow", "right_wrist"), ("left_hip", "right_hip"))


def body_scale(joints: Array, weights: Array, rest: Array = smpl.DEFAULT_REST_JOINTS) -> float:
    """Size of the person in ``joints`` (T, 24, 3) relative to ``rest`` (median over frames and bones)."""
    ratios = []
    for a, b in SCALE_BONES:
        ia, ib = _J(a), _J(b)
        ok = (weights[:, ia] > 0) & (weights[:, ib] > 0)
        if ok.any():
            length = np.median(np.linalg.norm(joints[ok, ia] - joints[ok, ib], axis=-1))
            ratios.append(length / np.linalg.norm(rest[ia] - rest[ib]))
    return float(np.median(ratios)) if ratios else 1.0


#: Where each observed joint hangs from when conforming to SMPL proportions (default: nearest observed ancestor).
_ANCHORS = {"left_shoulder": "neck", "right_shoulder": "neck", "head": "neck"}


def conform_to_skeleton(joints: Array, weights: Array, rest: Array) -> Array:
    """Joint targets (T, 24, 3) with ``rest``'s bone lengths along the source's bone directions.

    Walking down the SMPL tree from the pelvis, each observed joint is placed at its anchor (nearest
    observed ancestor, or the neck for shoulders and head) plus the rest distance between the two along
    the source's direction from anchor to joint. A skeleton of other proportions (CMU's short torso) then
    drives SMPL's rotations without stretching it; unobserved joints keep their zero weight.
    """
    ok = (weights > 0).any(axis=0)
    out = joints.copy()
    for j in range(1, smpl.NUM_JOINTS):
        if not ok[j]:
            continue
        name = smpl.JOINT_NAMES[j]
        a = _J(_ANCHORS[name]) if name in _ANCHORS and ok[_J(_ANCHORS[name])] else smpl.PARENTS[j]
        while a > 0 and not ok[a]:
            a = smpl.PARENTS[a]
        d = joints[:, j] - joints[:, a]
        d = d / np.maximum(np.linalg.norm(d, axis=-1, keepdims=True), 1e-9)
        out[:, j] = out[:, a] + np.linalg.norm(rest[j] - rest[a]) * d
    return out


def sole_points(joints: Array, scale: float = 1.0) -> Array:
    """Lowest sole point (T, 3) [m] under either foot, z up: of the ankle and ball-of-foot joints, the one
    lowest once its height above the sole (genmimic.core's default skeleton times ``scale``) is taken off."""
    idx = [_J("left_ankle"), _J("right_ankle"), _J("left_foot"), _J("right_foot")]
    points = joints[:, idx].copy()
    points[..., 2] -= np.array([ANKLE_HEIGHT, ANKLE_HEIGHT, BALL_HEIGHT, BALL_HEIGHT]) * scale
    return points[np.arange(len(points)), np.argmin(points[..., 2], axis=1)]


def sole_heights(joints: Array, scale: float = 1.0) -> Array:
    """Lowest sole point's height (T,) [m] under either foot (:func:`sole_points`)."""
    return sole_points(joints, scale)[:, 2]


def ground_offset(joints: Array, scale: float = 1.0, percentile: float = 10.0) -> float:
    """Height [m] of the ground under ``joints`` (T, 24, 3), z up: a low percentile of the per-frame lowest
    sole, so that frames with a foot down rest on it and a few outliers (or jumps) do not move it."""
    return float(np.percentile(sole_heights(joints, scale), percentile))


def contact_plane(points: Array, spread: float = 0.15) -> tuple[Array, float]:
    """The plane ``z = a x + b y + c`` through contact points (N, 3) [m], z up: ``((a, b), c)``.

    Least squares on their lower envelope (three passes, each dropping points more than 5 cm above the last
    plane, as airborne frames are), with a ridge that takes the slope to 0 where the points spread less than
    about ``spread`` [m] along a direction (a person in place fixes no slope). A level plane at the points'
    median height when there are fewer than 3.
    """
    pts = points[np.isfinite(points).all(axis=1)]
    if len(pts) < 3:
        return np.zeros(2), float(np.median(pts[:, 2])) if len(pts) else 0.0
    keep = np.ones(len(pts), bool)
    slope, c = np.zeros(2), float(pts[:, 2].mean())
    for _ in range(3):
        xy, z = pts[keep, :2], pts[keep, 2]
        centred = xy - xy.mean(axis=0)
        cov = centred.T @ centred
        slope = np.linalg.solve(cov + len(z) * spread**2 * np.eye(2), centred.T @ (z - z.mean()))
        c = float(z.mean() - xy.mean(axis=0) @ slope)
        resid = pts[:, 2] - (c + pts[:, :2] @ slope)
        keep = resid < 0.05
        if keep.sum() < 3:
            break
    return slope, c


def ground_tilt(joints: Array, scale: float = 1.0, spread: float = 0.15, max_tilt: float = 25.0) -> Array:
    """Rotation (3, 3) that levels the ground under a travelling person: it turns the normal of the plane
    through the feet's contacts to +z (about the horizontal axis, the least rotation).

    ``joints`` (T, 24, 3) [m], z up along the body's mean vertical. A monocular lift takes its vertical from
    the body, and a detector's 3D pose leans towards the camera (MediaPipe: 12-17 degrees on the project's
    renders), so a walk towards or away from the camera climbs or sinks along that lean (measured 2026-12-02:
    a 6 m walk towards the camera rose 1.7 m, the soles 0.25-1.67 m in the air). The contacts are the
    per-frame lowest soles (:func:`sole_points`), the plane :func:`contact_plane`'s. At most ``max_tilt``
    [deg]; the identity when nothing is to be levelled.
    """
    slope, _ = contact_plane(sole_points(joints, scale), spread)  # level (slope 0) from under 3 contacts
    return level(np.array([-slope[0], -slope[1], 1.0]), max_tilt)


def level(normal: Array, max_tilt: float = 25.0) -> Array:
    """Rotation (3, 3) that turns the ground's upward ``normal`` (3,) to +z about the horizontal axis (the least
    rotation), by at most ``max_tilt`` [deg]; the identity when it is already +z."""
    normal = np.asarray(normal, float) / np.linalg.norm(normal)
    angle = min(float(np.arccos(np.clip(normal[2], -1.0, 1.0))), np.radians(max_tilt))
    axis = np.cross(normal, [0.0, 0.0, 1.0])
    if np.linalg.norm(axis) < 1e-9 or angle < 1e-6:
        return np.eye(3)
    return rot.matrix_from_axis_angle(axis / np.linalg.norm(axis) * angle)


def clip_from_positions(joints: Array, weights: Array, fps: float, meta: dict, *, iterations: int = 100,
                        smooth: float = 0.01, rest: Array | None = None) -> tuple[SmplClip, float]:
    """Fit an SMPL clip to world joint positions (T, 24, 3) [m] (z up) with per-joint ``weights`` (T, 24).

    Returns the clip (on ``rest`` (24, 3) [m], SMPL's canonical frame, default: genmimic.core's skeleton
    times the body scale; ground at z = 0) and the weighted root-mean-square error [m] of the fit to the
    conformed targets. ``meta`` also gets the distance to the source joints themselves
    (``source_rms_distance_m``, which includes differences of proportions).
    """
    scale = body_scale(joints, weights)
    rest = smpl.DEFAULT_REST_JOINTS * scale if rest is None else rest
    source = joints
    joints = conform_to_skeleton(joints, weights, rest)
    from .fit import fit_sequence, initial_pose  # here: it starts torch, which the closed-form import avoids

    local, transl0 = initial_pose(joints, weights, rest)
    res = fit_sequence(rest, fps, targets3d=joints, weights3d=weights, init_local=local, init_transl=transl0,
                       smooth=smooth, iterations=iterations)
    shift = ground_offset(res.joints, scale)
    transl = res.transl - [0.0, 0.0, shift]
    fitted, _ = smpl.forward_kinematics(res.global_orient, res.body_pose, transl, rest)
    w_sum = max(float(np.sum(weights)), 1e-9)
    err = float(np.sqrt(np.sum(weights * np.sum((res.joints - source) ** 2, -1)) / w_sum))
    fit_err = float(np.sqrt(np.sum(weights * np.sum((res.joints - joints) ** 2, -1)) / w_sum))
    meta = {**meta, "body_scale": scale, "fit_rms_error_m": fit_err, "source_rms_distance_m": err}
    meta["params"] = {**meta.get("params", {}), "body_scale": scale}
    conf = np.clip(np.where(weights > 0, 1.0, 0.5), 0, 1)
    clip = SmplClip(fps=fps, meta=meta, global_orient=res.global_orient, body_pose=res.body_pose, transl=transl,
                    betas=np.zeros(smpl.NUM_BETAS), joints=fitted, confidence=conf)
    return clip, fit_err
