"""Per-segment scaling of a human motion to the G1: keypoint targets in the robot's proportions.

Each limb keeps the human's bone direction and takes the G1's bone length; parts the G1 cannot move
relative to their parent (hips, shoulders, head) take the G1's own offset turned by the human's
pelvis or torso frame. The root trajectory is scaled by the ratio of leg lengths, so strides fit.
Frames: world z-up, x forward; positions [m].
"""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

import numpy as np

from genmimic.core import g1_constants as g1
from genmimic.core import smpl
from genmimic.core.clips import SmplClip
from genmimic.core.g1_kinematics import body_index, forward_kinematics

from .mapping import LINKS

#: SMPL joint frame -> G1 keypoint frame: x forward, y left, z up (the transpose of canonical->world).
SMPL_TO_G1_FRAME = smpl.CANONICAL_TO_WORLD.T
_LEG = (("hip", "knee"), ("knee", "ankle"))
#: How much of a foot's move the leg keypoints take in :func:`human_stance` and :func:`human_foot_heights`.
_LEG_WEIGHTS = (("knee", 0.5), ("ankle", 1.0), ("toe", 1.0))
#: Smallest lateral distance [m] between the G1's ankle keypoints that :func:`scale_to_g1` allows when it
#: brings the feet to the human's stance width: the sole's contact spheres span 0.06 m across
#: (y = +-0.025/0.03 at the ankle roll link, ../shared/reference/g1_29dof_facts.md), so 0.12 m leaves a
#: 0.06 m gap between the soles.
MIN_FOOT_SEPARATION = 0.12


class Targets(NamedTuple):
    """IK targets for the G1 keypoints of :data:`~genmimic.retarget.mapping.LINKS`, in that order.

    positions: (T, K, 3) [m] world. rotations: (T, K, 3, 3) keypoint-frame-to-world (meaningful for
    oriented keypoints only). scales: per-link length ratio G1/human (1 for rigid links and the root).
    """

    positions: np.ndarray
    rotations: np.ndarray
    scales: dict[str, float]


class G1Proportions(NamedTuple):
    """Bone lengths [m] and rigid offsets (in the parent keypoint's frame) of the G1, zero pose."""

    lengths: dict[str, float]
    offsets: dict[str, np.ndarray]


@cache
def g1_proportions() -> G1Proportions:
    """The G1's segment lengths and rigid offsets between keypoints, measured on its zero pose."""
    poses = forward_kinematics(np.zeros(3), [1.0, 0.0, 0.0, 0.0], np.zeros(g1.NUM_DOF))
    frames = {f.name: f for f in g1.KEYPOINT_FRAMES}
    pos, rot = {}, {}
    for name, f in frames.items():
        b = body_index(f.parent)
        pos[name] = poses.pos[b] + poses.rot[b] @ np.asarray(f.xyz)
        rot[name] = poses.rot[b]
    lengths, offsets = {}, {}
    for link in LINKS:
        if link.parent is None:
            continue
        delta = pos[link.keypoint] - pos[link.parent]
        lengths[link.keypoint] = float(np.linalg.norm(delta))
        offsets[link.keypoint] = rot[link.parent].T @ delta
    return G1Proportions(lengths, offsets)


def _leg_length(joints: np.ndarray, side: str) -> np.ndarray:
    idx = smpl.JOINT_NAMES.index
    return sum(
        np.linalg.norm(joints[:, idx(f"{side}_{b}")] - joints[:, idx(f"{side}_{a}")], axis=-1) for a, b in _LEG
    )


def human_leg_length(clip: SmplClip) -> float:
    """Median hip-knee-ankle length [m] of the human over the clip, both legs."""
    return float(np.median(np.concatenate([_leg_length(clip.joints, s) for s in ("left", "right")])))


def _frame(primary: np.ndarray, secondary: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) whose columns are ``primary`` normalised, the part of ``secondary``
    orthogonal to it, and their cross product."""
    e1 = primary / np.maximum(np.linalg.norm(primary, axis=-1, keepdims=True), 1e-9)
    e2 = secondary - np.sum(secondary * e1, axis=-1, keepdims=True) * e1
    e2 = e2 / np.maximum(np.linalg.norm(e2, axis=-1, keepdims=True), 1e-9)
    return np.stack([e1, e2, np.cross(e1, e2)], axis=-1)


def _point_frames(joints: np.ndarray, up: np.ndarray) -> dict[str, np.ndarray]:
    """Frames (..., 3, 3) of the pelvis, chest and feet built from joint positions (..., 24, 3) alone:
    hip line and spine for the pelvis, shoulder line and neck for the chest, ankle-to-toe and ``up`` for
    each foot."""
    j = lambda name: joints[..., smpl.JOINT_NAMES.index(name), :]  # noqa: E731
    mid_hips = 0.5 * (j("left_hip") + j("right_hip"))
    frames = {
        "pelvis": _frame(j("left_hip") - j("right_hip"), j("neck") - mid_hips),
        "spine3": _frame(j("left_shoulder") - j("right_shoulder"), j("neck") - j("spine3")),
    }
    for side in ("left", "right"):
        frames[f"{side}_ankle"] = _frame(j(f"{side}_foot") - j(f"{side}_ankle"), np.broadcast_to(up, mid_hips.shape))
    return frames


def joint_orientations(joints: np.ndarray) -> dict[str, np.ndarray]:
    """Canonical-to-world rotations (T, 3, 3) of the pelvis, chest (``spine3``) and ankles, estimated from
    world joint positions (T, 24, 3) only.

    A lifter fits rotations and positions together, and the pelvis and spine rotations trade off against
    each other where the positions hardly see it (a pelvis tilted 30 deg with the spine bent back gives
    nearly the same joints). Frames made from the joint positions do not have that ambiguity; they are
    turned into SMPL rotations by the same frames of the rest skeleton (``R = F(t) F_rest^T``).
    """
    now = _point_frames(joints, np.array([0.0, 0.0, 1.0]))
    rest = _point_frames(smpl.DEFAULT_REST_JOINTS, np.array([0.0, 1.0, 0.0]))
    return {name: now[name] @ rest[name].T for name in now}


def human_stance(pos: np.ndarray, kidx: dict[str, int], human_feet: np.ndarray, min_separation: float) -> np.ndarray:
    """Leg targets moved sideways so the feet keep the human's (root-scaled) stance width.

    The G1's hips are wider than a person's, so legs that take the human's bone directions from the
    G1's hips land the feet wider than the scaled human's, while the pelvis sway keeps the human's
    scale: the robot's centre of mass then sways less than its feet need. Here each leg's ankle and
    toe targets move along the pelvis' horizontal lateral axis by one distance for the whole clip
    (knees by half as much): the median of the human's lateral ankle offset from the pelvis minus the
    scaled one, reduced so that no frame's ankles come closer than ``min_separation`` (a constant
    shift never moves a planted foot while the other steps).

    Args:
        pos: (T, K, 3) keypoint targets [m] in :data:`LINKS` order (not modified).
        kidx: keypoint name -> index along K.
        human_feet: (T, 2, 3) the human's (left, right) ankle positions minus its pelvis, root-scaled [m].
        min_separation: smallest lateral distance between the ankles [m].

    Returns:
        (T, K, 3) the moved targets.
    """
    out = pos.copy()
    lateral = pos[:, kidx["left_hip"]] - pos[:, kidx["right_hip"]]
    lateral[:, 2] = 0.0
    lateral /= np.maximum(np.linalg.norm(lateral, axis=-1, keepdims=True), 1e-9)
    pelvis = pos[:, kidx["pelvis"]]
    want = np.einsum("tsi,ti->ts", human_feet, lateral)  # (T, 2) lateral ankle offsets (left, right)
    have = np.stack([np.einsum("ti,ti->t", pos[:, kidx[f"{side}_ankle"]] - pelvis, lateral)
                     for side in ("left", "right")], axis=1)
    # one shift per side for the whole clip: a planted foot must not move with the other foot's steps
    shift = np.median(want - have, axis=0)
    gap = have[:, 0] - have[:, 1]
    narrowing = shift[1] - shift[0]
    room = max(0.0, float(gap.min()) - min_separation)
    if narrowing > room:  # keep every frame's feet at least min_separation apart
        shift *= room / narrowing
    for s, side in enumerate(("left", "right")):
        for part, w in _LEG_WEIGHTS:
            out[:, kidx[f"{side}_{part}"]] += w * shift[s] * lateral
    return out


def human_foot_heights(pos: np.ndarray, kidx: dict[str, int], human_ankle_z: np.ndarray) -> np.ndarray:
    """Leg targets moved up or down so that each ankle's height follows the human's (root-scaled) one.

    The hips are rigid G1 offsets turned by the pelvis frame, which is built from the hip line and the
    spine (:func:`joint_orientations`), so it tilts with the trunk: in a crouch the trunk leans 20-40 deg
    forward, the G1's hip keypoints (0.13 m under the pelvis) swing up and forward with it, and legs that
    take the human's bone directions from there end with the feet off the floor. Measured on the CMU
    forward jumps (``../shared/data/motions``) before this correction: the human's soles flat within 1 cm
    through the countermovement at 10.2-10.6 s, the scaled targets' ankles 2.5-3 cm higher, both feet read
    as off the floor for 0.45 s before the take-off (a flight the pelvis sinks through), and
    ``genmimic-retarget check`` called it infeasible. Each leg's ankle and toe move by the ankle's height
    error less its median over the clip (a constant offset is the ground's and :func:`~genmimic.retarget.
    contacts.foot_rest_offsets`' business), the knee by half of it.

    Args:
        pos: (T, K, 3) keypoint targets [m] in :data:`LINKS` order, world z-up (not modified).
        kidx: keypoint name -> index along K.
        human_ankle_z: (T, 2) the human's (left, right) ankle heights, root-scaled [m].

    Returns:
        (T, K, 3) the moved targets.
    """
    out = pos.copy()
    for s, side in enumerate(("left", "right")):
        error = human_ankle_z[:, s] - pos[:, kidx[f"{side}_ankle"], 2]
        error = error - np.median(error)
        for part, w in _LEG_WEIGHTS:
            out[:, kidx[f"{side}_{part}"], 2] += w * error
    return out


def scale_to_g1(clip: SmplClip, min_foot_separation: float | None = None) -> Targets:
    """G1 keypoint targets for every frame of ``clip`` (see module docstring).

    min_foot_separation: with a value [m] (e.g. :data:`MIN_FOOT_SEPARATION`), the feet keep the human's
    stance width (see :func:`human_stance`), no closer than this; None (the default) keeps the legs as
    scaled from the G1's hips. Opt-in: the narrower stance made more procedural walks pass the feasibility
    check, but the shipped policy fell on the bundled demo with it (fresh-clone test, 2026-12-01).
    """
    props = g1_proportions()
    g1_leg = sum(props.lengths[f"left_{b}"] for _, b in _LEG)
    root_scale = g1_leg / human_leg_length(clip)
    joints = clip.joints
    orientations = joint_orientations(joints)
    jidx = smpl.JOINT_NAMES.index
    T, K = clip.num_frames, len(LINKS)
    out_pos = np.zeros((T, K, 3))
    out_rot = np.broadcast_to(np.eye(3), (T, K, 3, 3)).copy()
    kidx: dict[str, int] = {}
    scales: dict[str, float] = {"root": root_scale}
    for k, link in enumerate(LINKS):
        kidx[link.keypoint] = k
        if link.smpl_joint in orientations:
            out_rot[:, k] = orientations[link.smpl_joint] @ SMPL_TO_G1_FRAME
        if link.parent is None:
            out_pos[:, k] = joints[:, jidx(link.smpl_joint)] * root_scale
            continue
        p = kidx[link.parent]
        if link.rigid:
            out_pos[:, k] = out_pos[:, p] + np.einsum("tij,j->ti", out_rot[:, p], props.offsets[link.keypoint])
            scales[link.keypoint] = 1.0
            continue
        parent_joint = LINKS[p].smpl_joint
        bone = joints[:, jidx(link.smpl_joint)] - joints[:, jidx(parent_joint)]
        length = np.linalg.norm(bone, axis=-1, keepdims=True)
        out_pos[:, k] = out_pos[:, p] + bone / np.maximum(length, 1e-9) * props.lengths[link.keypoint]
        scales[link.keypoint] = float(props.lengths[link.keypoint] / max(np.median(length), 1e-9))
    human_feet = np.stack([joints[:, jidx(f"{s}_ankle")] for s in ("left", "right")], axis=1) * root_scale
    out_pos = human_foot_heights(out_pos, kidx, human_feet[..., 2])
    if min_foot_separation is not None:
        human_feet = human_feet - joints[:, None, jidx("pelvis")] * root_scale
        out_pos = human_stance(out_pos, kidx, human_feet, min_foot_separation)
    return Targets(out_pos, out_rot, scales)
