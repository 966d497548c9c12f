"""Body postures in anatomical terms, turned into SMPL local joint rotations.

Directions are given in the torso frame as ``(out, up, forward)``: ``out`` points away from the body's
midline on the arm's own side, so one description serves both arms. SMPL's canonical frame is x to the
body's left, y up, z forward; a local rotation acts in the parent's frame (identity in the T-pose).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from genmimic.core import rotations as rot
from genmimic.core import smpl

Array = NDArray[np.float64]
J = smpl.JOINT_NAMES.index
SIDES = ("left", "right")


def _unit(v: ArrayLike) -> Array:
    v = np.asarray(v, float)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def axis_rotation(axis: ArrayLike, angle: ArrayLike) -> Array:
    """Rotation matrices (..., 3, 3) about unit ``axis`` (3,) by ``angle`` (...) [rad]."""
    a = np.asarray(angle, float)[..., None] * _unit(axis)
    return rot.matrix_from_axis_angle(a)


def frame_rotation(bone_rest: ArrayLike, bend_rest: ArrayLike, bone: ArrayLike, bend: ArrayLike) -> Array:
    """The rotation (..., 3, 3) that turns the rest bone direction into ``bone`` and the rest bend
    direction (its component across the bone) into ``bend``'s component across ``bone``."""

    def frame(b: ArrayLike, f: ArrayLike) -> Array:
        b = _unit(b)
        f = np.asarray(f, float)
        f = _unit(f - np.sum(f * b, axis=-1, keepdims=True) * b)
        return np.stack([b, f, np.cross(b, f)], axis=-1)

    return frame(bone, bend) @ np.swapaxes(frame(bone_rest, bend_rest), -1, -2)


def side_vector(side: str, out_up_fwd: ArrayLike) -> Array:
    """``(out, up, forward)`` to SMPL canonical ``(x, y, z)`` for the ``side`` ("left" or "right") limb."""
    o, u, f = np.asarray(out_up_fwd, float)
    return np.array([o if side == "left" else -o, u, f])


@dataclass(frozen=True)
class ArmPose:
    """One arm: upper-arm direction, the direction the forearm bends toward, elbow flexion [rad] and
    forearm twist (pronation > 0) [rad]; directions are ``(out, up, forward)`` in the torso frame."""

    direction: tuple[float, float, float] = (0.15, -1.0, 0.04)
    bend: tuple[float, float, float] = (0.0, 0.0, 1.0)
    elbow: float = 0.2
    twist: float = 0.0


@dataclass(frozen=True)
class UpperPose:
    """The upper body: both arms, spine flexion (``lean`` forward > 0), side bend (to the left > 0) and
    twist (to the left > 0) spread over the three spine joints, head pitch (down > 0) and yaw (left > 0)
    [rad]."""

    left: ArmPose = ArmPose()
    right: ArmPose = ArmPose()
    lean: float = 0.0
    side_bend: float = 0.0
    twist: float = 0.0
    head_pitch: float = 0.0
    head_yaw: float = 0.0

    def arm(self, side: str) -> ArmPose:
        return self.left if side == "left" else self.right

    def with_arm(self, side: str, arm: ArmPose) -> UpperPose:
        return dataclasses.replace(self, **{side: arm})


REST = UpperPose()
#: Upper-body joints that :func:`upper_body_rotations` sets (the rest stay identity or come from the legs).
UPPER_JOINTS: tuple[int, ...] = tuple(
    J(n) for n in ("spine1", "spine2", "spine3", "neck", "head", "left_collar", "right_collar",
                   "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
                   "left_hand", "right_hand"))
_SPINE_SHARE = ((J("spine1"), 0.4), (J("spine2"), 0.3), (J("spine3"), 0.3))


def arm_rotations(side: str, arm: ArmPose, rest_joints: ArrayLike = smpl.DEFAULT_REST_JOINTS) -> tuple[Array, ...]:
    """Local rotations (3, 3) of the ``side`` shoulder, elbow and wrist for ``arm`` (collar left at identity)."""
    rest = np.asarray(rest_joints, float)
    sh, el, wr = J(f"{side}_shoulder"), J(f"{side}_elbow"), J(f"{side}_wrist")
    upper_rest = rest[el] - rest[sh]
    fore_rest = rest[wr] - rest[el]
    bend_rest = np.array([0.0, 0.0, 1.0])  # the elbow flexes the forearm toward the front in the T-pose
    shoulder = frame_rotation(upper_rest, bend_rest, side_vector(side, arm.direction), side_vector(side, arm.bend))
    elbow = axis_rotation(np.cross(_unit(upper_rest), bend_rest), arm.elbow)
    sign = 1.0 if side == "left" else -1.0  # pronation turns the palms down/back on both sides
    wrist = axis_rotation(sign * _unit(fore_rest), arm.twist)
    return shoulder, elbow, wrist


def upper_body_rotations(pose: UpperPose, rest_joints: ArrayLike = smpl.DEFAULT_REST_JOINTS) -> Array:
    """Local rotations (24, 3, 3) for ``pose``: upper-body joints set, all others identity."""
    out = np.tile(np.eye(3), (smpl.NUM_JOINTS, 1, 1))
    for j, share in _SPINE_SHARE:
        out[j] = (axis_rotation([0, 1, 0], share * pose.twist) @ axis_rotation([0, 0, 1], -share * pose.side_bend)
                  @ axis_rotation([1, 0, 0], share * pose.lean))
    out[J("neck")] = axis_rotation([1, 0, 0], 0.4 * pose.head_pitch) @ axis_rotation([0, 1, 0], 0.5 * pose.head_yaw)
    out[J("head")] = axis_rotation([1, 0, 0], 0.6 * pose.head_pitch) @ axis_rotation([0, 1, 0], 0.5 * pose.head_yaw)
    for side in SIDES:
        sh, el, wr = arm_rotations(side, pose.arm(side), rest_joints)
        out[J(f"{side}_shoulder")], out[J(f"{side}_elbow")], out[J(f"{side}_wrist")] = sh, el, wr
    return out


def solve_leg(side: str, hip_world: Array, ankle_target: Array, knee_forward: Array, parent_rot_world: Array,
              foot_rot_world: Array, rest_joints: ArrayLike = smpl.DEFAULT_REST_JOINTS,
              ) -> tuple[Array, Array, Array, Array]:
    """Two-bone inverse kinematics of one leg, batched over T frames.

    Args:
        side: "left" or "right".
        hip_world: (T, 3) hip joint positions [m].
        ankle_target: (T, 3) wanted ankle positions [m]; farther than the leg reaches, the leg straightens
            toward it (the returned ankle positions tell where it got).
        knee_forward: (T, 3) world direction the knee should point (the foot's forward direction).
        parent_rot_world: (T, 3, 3) pelvis joint-to-world rotation.
        foot_rot_world: (T, 3, 3) wanted ankle joint-to-world rotation (sets the foot's orientation).

    Returns:
        hip, knee and ankle local rotations (T, 3, 3) each, and the ankle positions reached (T, 3) [m].
    """
    rest = np.asarray(rest_joints, float)
    hip, knee, ankle = J(f"{side}_hip"), J(f"{side}_knee"), J(f"{side}_ankle")
    thigh_rest, shank_rest = rest[knee] - rest[hip], rest[ankle] - rest[knee]
    l1, l2 = np.linalg.norm(thigh_rest), np.linalg.norm(shank_rest)
    v = ankle_target - hip_world
    dist = np.linalg.norm(v, axis=-1, keepdims=True)
    u = v / np.maximum(dist, 1e-9)
    d = np.clip(dist, abs(l1 - l2) + 1e-4, (l1 + l2) * (1.0 - 1e-6))
    pole = knee_forward - np.sum(knee_forward * u, axis=-1, keepdims=True) * u
    pole = pole / np.maximum(np.linalg.norm(pole, axis=-1, keepdims=True), 1e-9)
    cos_a = np.clip((l1 * l1 + d * d - l2 * l2) / (2 * l1 * d), -1.0, 1.0)
    thigh_dir = cos_a * u + np.sqrt(1.0 - cos_a**2) * pole
    knee_pos = hip_world + l1 * thigh_dir
    ankle_pos = hip_world + d * u
    forward_rest = np.array([0.0, 0.0, 1.0])
    r_thigh = frame_rotation(thigh_rest, forward_rest, thigh_dir, pole)
    r_shank = frame_rotation(shank_rest, forward_rest, ankle_pos - knee_pos, pole)
    hip_local = np.swapaxes(parent_rot_world, -1, -2) @ r_thigh
    knee_local = np.swapaxes(r_thigh, -1, -2) @ r_shank
    ankle_local = np.swapaxes(r_shank, -1, -2) @ foot_rot_world
    return hip_local, knee_local, ankle_local, ankle_pos
