"""Forward kinematics of the G1 in NumPy, batched over leading axes (no MuJoCo or Pinocchio needed).

Inputs: ``root_pos`` (..., 3) [m] pelvis position in the world (z-up), ``root_quat`` (..., 4) wxyz pelvis
orientation, ``dof_pos`` (..., 29) [rad] in SDK order. Agrees with the generated MJCF and URDF
(tested against MuJoCo and Pinocchio).
"""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from . import g1_constants as g1
from .rotations import matrix_from_axis_angle, matrix_from_quat


class BodyPoses(NamedTuple):
    """World poses of the G1 bodies in ``g1_constants.BODIES`` order.

    pos: (..., B, 3) [m] body frame origins. rot: (..., B, 3, 3) body-to-world rotations.
    """

    pos: np.ndarray
    rot: np.ndarray


class _Tree(NamedTuple):
    parent: tuple[int, ...]  # -1 for the root
    offset_pos: np.ndarray  # (B, 3) in the parent frame
    offset_rot: np.ndarray  # (B, 3, 3)
    dof: tuple[int, ...]  # SDK joint index or -1 for fixed
    axis: np.ndarray  # (B, 3)
    index: dict[str, int]


@cache
def _tree() -> _Tree:
    from .rotations import quat_from_rpy

    index = {b.name: i for i, b in enumerate(g1.BODIES)}
    dofs, k = [], 0
    for b in g1.BODIES:
        dofs.append(k if b.joint is not None else -1)
        k += b.joint is not None
    return _Tree(
        parent=tuple(index[b.parent] if b.parent else -1 for b in g1.BODIES),
        offset_pos=np.array([b.xyz for b in g1.BODIES], float),
        offset_rot=matrix_from_quat(quat_from_rpy(np.array([b.rpy for b in g1.BODIES], float))),
        dof=tuple(dofs),
        axis=np.array([b.joint.axis if b.joint else (0, 0, 1) for b in g1.BODIES], float),
        index=index,
    )


def body_index(name: str) -> int:
    """Position of body ``name`` in ``g1_constants.BODIES`` (and in :class:`BodyPoses`)."""
    try:
        return _tree().index[name]
    except KeyError:
        raise KeyError(f"no G1 body {name!r}; bodies are: {', '.join(_tree().index)}") from None


def forward_kinematics(root_pos: ArrayLike, root_quat: ArrayLike, dof_pos: ArrayLike) -> BodyPoses:
    """World pose of every G1 body (see module docstring for argument frames and shapes)."""
    t = _tree()
    root_pos, root_quat, dof_pos = (np.asarray(a, float) for a in (root_pos, root_quat, dof_pos))
    batch = np.broadcast_shapes(root_pos.shape[:-1], root_quat.shape[:-1], dof_pos.shape[:-1])
    pos = np.empty((*batch, len(t.parent), 3))
    rot = np.empty((*batch, len(t.parent), 3, 3))
    for i, p in enumerate(t.parent):
        if p < 0:
            pos[..., i, :] = root_pos
            rot[..., i, :, :] = matrix_from_quat(root_quat)
            continue
        pos[..., i, :] = pos[..., p, :] + np.einsum("...ij,j->...i", rot[..., p, :, :], t.offset_pos[i])
        r = rot[..., p, :, :] @ t.offset_rot[i]
        if t.dof[i] >= 0:
            r = r @ matrix_from_axis_angle(dof_pos[..., t.dof[i], None] * t.axis[i])
        rot[..., i, :, :] = r
    return BodyPoses(pos, rot)


def _points_on(poses: BodyPoses, frames: tuple[g1.Frame, ...]) -> np.ndarray:
    idx = [body_index(f.parent) for f in frames]
    local = np.array([f.xyz for f in frames], float)
    return poses.pos[..., idx, :] + np.einsum("...kij,kj->...ki", poses.rot[..., idx, :, :], local)


def keypoint_positions(root_pos: ArrayLike, root_quat: ArrayLike, dof_pos: ArrayLike) -> np.ndarray:
    """World positions (..., K, 3) [m] of ``g1_constants.KEYPOINT_FRAMES`` (a G1 clip's ``keypoints``)."""
    return _points_on(forward_kinematics(root_pos, root_quat, dof_pos), g1.KEYPOINT_FRAMES)


def foot_contact_points(root_pos: ArrayLike, root_quat: ArrayLike, dof_pos: ArrayLike) -> np.ndarray:
    """World centres (..., 2, 4, 3) [m] of the contact spheres of the (left, right) foot."""
    frames = tuple(g1.Frame("", foot, p) for foot in g1.FOOT_BODIES for p in g1.FOOT_CONTACT_POINTS)
    pts = _points_on(forward_kinematics(root_pos, root_quat, dof_pos), frames)
    return pts.reshape(*pts.shape[:-2], 2, len(g1.FOOT_CONTACT_POINTS), 3)


def contacts_from_height(foot_points: np.ndarray, threshold: float = 0.02) -> np.ndarray:
    """Foot contact flags (..., 2) from :func:`foot_contact_points`: any sphere bottom below ``threshold`` [m]."""
    return (foot_points[..., 2].min(axis=-1) - g1.FOOT_SPHERE_RADIUS) < threshold


def g1_clip_from_joints(
    root_pos: ArrayLike,
    root_quat: ArrayLike,
    dof_pos: ArrayLike,
    fps: float,
    *,
    meta: dict | None = None,
    contacts: ArrayLike | None = None,
):
    """A :class:`~genmimic.core.clips.G1Clip` whose keypoints are the G1's forward kinematics.

    Args:
        root_pos: (T, 3) [m]; root_quat: (T, 4) wxyz; dof_pos: (T, 29) [rad], SDK order.
        fps: frame rate [1/s].
        contacts: (T, 2) bool; by default a foot is in contact when its lowest point is under 2 cm.
    """
    from .clips import G1Clip
    from .rotations import quat_normalize

    root_quat = quat_normalize(root_quat)
    if contacts is None:
        contacts = contacts_from_height(foot_contact_points(root_pos, root_quat, dof_pos))
    return G1Clip(
        fps=fps,
        meta=meta or {},
        root_pos=np.asarray(root_pos, float),
        root_quat=root_quat,
        dof_pos=np.asarray(dof_pos, float),
        keypoints=keypoint_positions(root_pos, root_quat, dof_pos),
        contacts=np.asarray(contacts, bool),
    )
