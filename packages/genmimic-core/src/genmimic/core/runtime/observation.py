"""Observations, written once over an array namespace ``xp`` (``numpy`` or ``jax.numpy``).

Both training backends (genmimic-policy), ``track``, the bench and ``genmimic-deploy`` build observations
with these functions; this module imports only NumPy, so deploy uses it without JAX. A policy's
:class:`~genmimic.core.runtime.policy_spec.PolicySpec` records the layout (:func:`student_layout`) and the
scales below, and is refused when they differ from what this module builds.

Frames. The robot does not know where it is in the world, so goals are never world positions: the
goal keypoints of future frames are taken relative to the *reference* root position at the current
frame and rotated into the robot's *heading frame* (world z-up, x along the pelvis heading given by the
IMU orientation). A real robot computes this from the clip and its IMU alone; if the robot has turned
away from the reference, the goals appear rotated, which tells it to turn back.

Student observation (what the real G1 has), in order:
``history`` proprioception frames, newest first, each ``dof_pos - default`` (29) [rad], ``dof_vel``
(29) [rad/s] x 0.05, IMU angular velocity (3, pelvis frame) [rad/s] x 0.25, gravity direction in the
pelvis frame (3, unit), last action (29); then for each of ``future_frames`` (control steps from now;
a negative one is a past goal, which lets a policy average a jittery reference) the 19 goal keypoints
(57) [m] as above. The teacher sees the student observation plus privileged state (see
:func:`privileged`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from .. import g1_constants as g1

__all__ = [
    "DEFAULT_DOF_POS", "DOF_VEL_SCALE", "GYRO_SCALE", "NUM_DOF", "NUM_KEYPOINTS", "PRIVILEGED_BLOCKS", "PROPRIO_SIZE",
    "Block", "StudentObservationBuilder", "cross3", "goal_features", "gravity_in_body", "heading_cos_sin",
    "layout_size", "privileged", "proprio_blocks", "proprioception", "quat_rotate_inverse", "student_layout",
    "teacher_layout", "to_heading_frame",
]

NUM_DOF = g1.NUM_DOF
NUM_KEYPOINTS = len(g1.KEYPOINT_NAMES)
DEFAULT_DOF_POS = np.asarray(g1.DEFAULT_DOF_POS, np.float32)
DOF_VEL_SCALE = 0.05
GYRO_SCALE = 0.25
PROPRIO_SIZE = 3 * NUM_DOF + 6


class Block(NamedTuple):
    """A named slice of an observation vector. ``kind`` says how it mirrors left/right:
    "joint" (29 joints), "polar" (3-vector, y flips), "axial" (angular 3-vector, x and z flip),
    "keypoints" (19 x 3 points), "pair" (left, right), "scalar" (unchanged)."""

    name: str
    size: int
    kind: str


def proprio_blocks(lag: int) -> list[Block]:
    s = f"[t-{lag}]" if lag else "[t]"
    return [Block("dof_pos" + s, NUM_DOF, "joint"), Block("dof_vel" + s, NUM_DOF, "joint"),
            Block("gyro" + s, 3, "axial"), Block("gravity" + s, 3, "polar"),
            Block("last_action" + s, NUM_DOF, "joint")]


PRIVILEGED_BLOCKS = [
    Block("root_height", 1, "scalar"), Block("root_lin_vel", 3, "polar"),
    Block("body_keypoints", NUM_KEYPOINTS * 3, "keypoints"), Block("keypoint_error", NUM_KEYPOINTS * 3, "keypoints"),
    Block("ref_dof_pos", NUM_DOF, "joint"), Block("ref_gravity", 3, "polar"), Block("contacts", 2, "pair"),
    Block("randomization", 3, "scalar"),
]


def student_layout(history: int, future_frames: Sequence[int]) -> list[Block]:
    blocks = [b for lag in range(history) for b in proprio_blocks(lag)]
    return blocks + [Block(f"goal_keypoints[t{f:+d}]", NUM_KEYPOINTS * 3, "keypoints") for f in future_frames]


def teacher_layout(history: int, future_frames: Sequence[int]) -> list[Block]:
    return student_layout(history, future_frames) + PRIVILEGED_BLOCKS


def layout_size(blocks: Sequence[Block]) -> int:
    return sum(b.size for b in blocks)


# ---------------------------------------------------------------- pure functions over xp


def cross3(xp: Any, a: Any, b: Any) -> Any:
    """Cross product of 3-vectors (..., 3) by components (cheaper than ``numpy.cross`` on small batches)."""
    ax, ay, az = a[..., 0], a[..., 1], a[..., 2]
    bx, by, bz = b[..., 0], b[..., 1], b[..., 2]
    return xp.stack([ay * bz - az * by, az * bx - ax * bz, ax * by - ay * bx], axis=-1)


def quat_rotate_inverse(xp: Any, q_wxyz: Any, v: Any) -> Any:
    """Rotate world vectors ``v`` (..., 3) into the frame of ``q_wxyz`` (..., 4): ``R(q)^T v``."""
    w, u = q_wxyz[..., :1], -q_wxyz[..., 1:]
    t = 2.0 * cross3(xp, u, v)
    return v + w * t + cross3(xp, u, t)


def gravity_in_body(xp: Any, q_wxyz: Any) -> Any:
    """Unit gravity direction (..., 3) in the pelvis frame (``(0, 0, -1)`` when upright)."""
    g = xp.zeros(q_wxyz.shape[:-1] + (3,), dtype=q_wxyz.dtype) + xp.asarray([0.0, 0.0, -1.0], dtype=q_wxyz.dtype)
    return quat_rotate_inverse(xp, q_wxyz, g)


def heading_cos_sin(xp: Any, q_wxyz: Any) -> tuple[Any, Any]:
    """cos and sin (...,) of the heading (yaw about world z) of the body x axis."""
    w, x, y, z = (q_wxyz[..., i] for i in range(4))
    hx, hy = 1.0 - 2.0 * (y * y + z * z), 2.0 * (w * z + x * y)
    n = xp.sqrt(hx * hx + hy * hy) + 1e-9
    return hx / n, hy / n


def to_heading_frame(xp: Any, q_wxyz: Any, v: Any) -> Any:
    """World vectors ``v`` (..., [M,] 3) in the heading frame of ``q_wxyz`` (..., 4) (rotate by -yaw)."""
    c, s = heading_cos_sin(xp, q_wxyz)
    extra = v.ndim - 1 - c.ndim
    c, s = c.reshape(c.shape + (1,) * extra), s.reshape(s.shape + (1,) * extra)
    x, y = v[..., 0], v[..., 1]
    return xp.stack([c * x + s * y, -s * x + c * y, v[..., 2]], axis=-1)


def proprioception(xp: Any, dof_pos: Any, dof_vel: Any, gyro: Any, imu_quat_wxyz: Any, last_action: Any) -> Any:
    """One proprioception frame (..., 93): see the module docstring for the order and scales."""
    default = xp.asarray(DEFAULT_DOF_POS, dtype=dof_pos.dtype)
    return xp.concatenate([dof_pos - default, DOF_VEL_SCALE * dof_vel, GYRO_SCALE * gyro,
                           gravity_in_body(xp, imu_quat_wxyz), last_action], axis=-1)


def goal_features(xp: Any, goal_keypoints: Any, ref_root_pos: Any, imu_quat_wxyz: Any) -> Any:
    """Goal keypoints (..., F, 19, 3) world [m] -> (..., F*57): relative to the reference root at the
    current frame (..., 3), in the robot's heading frame."""
    rel = goal_keypoints - ref_root_pos[..., None, None, :]
    flat = rel.reshape(rel.shape[:-3] + (-1, 3))
    local = to_heading_frame(xp, imu_quat_wxyz, flat)
    return local.reshape(local.shape[:-2] + (-1,))


def privileged(xp: Any, root_pos: Any, root_quat: Any, root_lin_vel: Any, keypoints: Any, ref_keypoints: Any,
               ref_dof_pos: Any, ref_root_quat: Any, contacts: Any, randomization: Any) -> Any:
    """The teacher's extra state (..., 157): pelvis height, heading-frame velocity, the robot's keypoints
    about its pelvis and their error to the clean reference (heading frame), reference joints and tilt,
    foot contacts, and the episode's randomisation (friction, torso mass offset, gain scale)."""
    default = xp.asarray(DEFAULT_DOF_POS, dtype=root_pos.dtype)
    body = to_heading_frame(xp, root_quat, keypoints - root_pos[..., None, :])
    err = to_heading_frame(xp, root_quat, ref_keypoints - keypoints)
    lead = root_pos.shape[:-1]
    return xp.concatenate([
        root_pos[..., 2:3], to_heading_frame(xp, root_quat, root_lin_vel), body.reshape(lead + (-1,)),
        err.reshape(lead + (-1,)), ref_dof_pos - default, gravity_in_body(xp, ref_root_quat),
        contacts.astype(root_pos.dtype), randomization], axis=-1)


# ---------------------------------------------------------------- NumPy builder for rollouts and deploy


class StudentObservationBuilder:
    """Builds the student observation step by step from what the robot measures (NumPy, no JAX).

    ``reference`` is a :class:`~genmimic.core.runtime.reference.ReferenceMotion` at the control period (its
    world frame must agree with the IMU's yaw: on hardware rotate the clip so its first heading is the
    IMU's first yaw). Call :meth:`reset` once, then :meth:`observe` every control step ``t``.
    """

    def __init__(self, reference: Any, history: int = 3, future_frames: Sequence[int] = (0, 2, 5, 10)) -> None:
        self.reference = reference
        self.history = history
        self.future_frames = np.asarray(future_frames)
        self._frames: np.ndarray | None = None

    @classmethod
    def for_spec(cls, reference: Any, spec: Any) -> StudentObservationBuilder:
        """The builder of a policy's observation: history and future frames from its
        :class:`~genmimic.core.runtime.policy_spec.PolicySpec`."""
        return cls(reference, spec.observation.history, spec.observation.future_frames)

    @property
    def size(self) -> int:
        return layout_size(student_layout(self.history, self.future_frames))

    def goal_keypoints(self, t: int) -> np.ndarray:
        """Goal keypoints (F, 19, 3) world [m] of ``future_frames`` at step ``t``, held at the clip's first
        and last frames before its start and past its end."""
        idx = np.clip(t + self.future_frames, 0, self.reference.num_frames - 1)
        return self.reference.keypoints[idx]

    def reset(self) -> None:
        self._frames = None

    def observe(self, t: int, dof_pos: np.ndarray, dof_vel: np.ndarray, gyro: np.ndarray,
                imu_quat_wxyz: np.ndarray, last_action: np.ndarray) -> np.ndarray:
        """Observation (D,) float32 at control step ``t`` from joint state (29,) SDK order, gyro (3,)
        pelvis frame [rad/s], IMU orientation (4,) wxyz and the previous action (29,)."""
        f = proprioception(np, *(np.asarray(a, np.float64) for a in (dof_pos, dof_vel, gyro, imu_quat_wxyz,
                                                                       last_action)))
        self._frames = np.tile(f, (self.history, 1)) if self._frames is None else np.roll(self._frames, 1, 0)
        self._frames[0] = f
        ref_root = self.reference.root_pos[min(t, self.reference.num_frames - 1)]
        goals = goal_features(np, self.goal_keypoints(t), ref_root, np.asarray(imu_quat_wxyz, np.float64))
        return np.concatenate([self._frames.reshape(-1), goals]).astype(np.float32)
