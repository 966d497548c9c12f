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


def sole_heights(joints: Array, scale: float = 1.0) -> Array:
    """Lowest sole point (T,) [m] under either foot: ankle or ball-of-foot joints less their height above
    the sole (genmimic.core's default skeleton times ``scale``)."""
    ankles = joints[:, [_J("left_ankle"), _J("right_ankle")], 2] - ANKLE_HEIGHT * scale
    balls = joints[:, [_J("left_foot"), _J("right_foot")], 2] - BALL_HEIGHT * scale
    return np.minimum(ankles, balls).min(axis=1)


def ground_offset(joints: Array, scale: float = 1.0, percentile: float = 10.0) -> float:
    """Height [m] of the ground under ``joints`` (T, 24, 3), z up: a low percentile of the per-frame lowest
    sole, so that frames with a foot down rest on it and a few outliers (or jumps) do not move it."""
    return float(np.percentile(sole_heights(joints, scale), percentile))


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
