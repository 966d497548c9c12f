"""SMPL parameters from other tools (AMASS, GVHMR) into genmimic clips: frames, skeleton and ground."""

from __future__ import annotations

import os

import numpy as np
from numpy.typing import NDArray

from genmimic.core import SmplClip, smpl
from genmimic.core import rotations as rot

from .errors import LiftError
from .retarget_joints import ground_offset

Array = NDArray[np.float64]


def rest_skeleton(betas: Array, body_model: str | os.PathLike[str] | None) -> tuple[Array, float]:
    """Rest joints (24, 3) [m] for ``betas`` from a user's SMPL model (smplx), else genmimic.core's default;
    and the body scale relative to the default (for sole heights)."""
    if body_model is None:
        return smpl.DEFAULT_REST_JOINTS, 1.0
    rest = smpl.rest_joints_from_body_model(body_model, betas[: smpl.NUM_BETAS])
    leg = np.linalg.norm(rest[4] - rest[1]) + np.linalg.norm(rest[7] - rest[4])
    default_leg = np.linalg.norm(smpl.DEFAULT_REST_JOINTS[4] - smpl.DEFAULT_REST_JOINTS[1]) + np.linalg.norm(
        smpl.DEFAULT_REST_JOINTS[7] - smpl.DEFAULT_REST_JOINTS[4])
    return rest, float(leg / default_leg)


def clip_from_smpl_params(source: str, global_orient: Array, body_pose: Array, transl: Array, betas: Array,
                          fps: float, meta: dict, *, to_world: Array | None = None,
                          body_model: str | os.PathLike[str] | None = None, put_on_ground: bool = True) -> SmplClip:
    """An SMPL clip from parameters in another tool's frame.

    Args:
        global_orient: (T, 3); body_pose: (T, 21 to 23, 3) (SMPL-H/X bodies have 21 joints; the hands
            of SMPL, joints 22-23, are then zero); transl: (T, 3) [m]; betas: (>= 10,) or (T, >= 10).
        to_world: (3, 3) rotation from the tool's world frame to genmimic's (z up); None if z up already.
        put_on_ground: move the clip vertically so the lowest sole rests on z = 0.
    """
    T = len(global_orient)
    for name, arr, shape in (("global_orient", global_orient, (T, 3)), ("transl", transl, (T, 3))):
        if arr.shape != shape or not np.all(np.isfinite(arr)):
            raise LiftError(source, f"{name}: expected finite values of shape {shape}, got {arr.shape}")
    if body_pose.ndim != 3 or body_pose.shape[0] != T or body_pose.shape[1] not in (21, 23) or body_pose.shape[2] != 3:
        raise LiftError(source, f"body_pose: expected (T, 21 or 23, 3) with T={T}, got {body_pose.shape}")
    if not np.all(np.isfinite(body_pose)) or not np.all(np.isfinite(betas)):
        raise LiftError(source, "body_pose or betas contain NaN or Inf")
    if T < 2:
        raise LiftError(source, f"needs at least 2 frames, got {T}")
    b = np.asarray(betas, float)
    b = b.mean(axis=0) if b.ndim == 2 else b
    b10 = np.zeros(smpl.NUM_BETAS)
    b10[: min(len(b), smpl.NUM_BETAS)] = b[: smpl.NUM_BETAS]
    bp = np.zeros((T, 23, 3))
    bp[:, : body_pose.shape[1]] = body_pose
    rest, scale = rest_skeleton(b10, body_model)
    go, tr = np.asarray(global_orient, float), np.asarray(transl, float)
    if to_world is not None:  # rotate the whole motion about the world origin
        go = rot.axis_angle_from_matrix(to_world @ rot.matrix_from_axis_angle(go))
        tr = (rest[0] + tr) @ to_world.T - rest[0]
    joints, _ = smpl.forward_kinematics(go, bp, tr, rest)
    if put_on_ground:
        shift = ground_offset(joints, scale)
        tr = tr - [0.0, 0.0, shift]
        joints = joints - [0.0, 0.0, shift]
    meta = {**meta, "skeleton": "body_model" if body_model is not None else "default", "body_scale": scale}
    return SmplClip(fps=fps, meta=meta, global_orient=go, body_pose=bp, transl=tr, betas=b10, joints=joints,
                    confidence=np.ones((T, smpl.NUM_JOINTS)))
