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


def scale_to_g1(clip: SmplClip) -> Targets:
    """G1 keypoint targets for every frame of ``clip`` (see module docstring)."""
    props = g1_proportions()
    g1_leg = sum(props.lengths[f"left_{b}"] for _, b in _LEG)
    root_scale = g1_leg / human_leg_length(clip)
    _, smpl_rot = smpl.forward_kinematics(clip.global_orient, clip.body_pose, clip.transl)
    joints = clip.joints
    jidx = smpl.JOINT_NAMES.index
    T, K = clip.num_frames, len(LINKS)
    out_pos = np.zeros((T, K, 3))
    out_rot = np.zeros((T, K, 3, 3))
    kidx: dict[str, int] = {}
    scales: dict[str, float] = {"root": root_scale}
    for k, link in enumerate(LINKS):
        kidx[link.keypoint] = k
        out_rot[:, k] = smpl_rot[:, jidx(link.smpl_joint)] @ SMPL_TO_G1_FRAME
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
    return Targets(out_pos, out_rot, scales)
