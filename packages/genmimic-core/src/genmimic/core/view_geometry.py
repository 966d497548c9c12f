"""What the viewer draws, as arrays: the G1's geometry and an SMPL capsule figure posed for every frame.

Each figure is a set of primitives (cylinders, spheres, boxes) that the viewer draws as instanced unit meshes,
so a frame is three array updates. Pure NumPy; world frame z-up [m], quaternions wxyz.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import g1_constants as g1
from . import smpl
from .g1_kinematics import forward_kinematics
from .rotations import quat_from_matrix


class Primitives(NamedTuple):
    """Poses of one kind of unit primitive over T frames and N instances: ``pos`` (T, N, 3) [m], ``wxyz``
    (T, N, 4), ``scale`` (T, N, 3) per-axis scales of the unit shape (cylinder: radius 1, height 1 along z,
    centred; sphere: radius 1; box: side 1)."""

    pos: np.ndarray
    wxyz: np.ndarray
    scale: np.ndarray


class Figure(NamedTuple):
    """A posed figure: cylinders, spheres and boxes, each :class:`Primitives` (N may be 0)."""

    cylinders: Primitives
    spheres: Primitives
    boxes: Primitives


def _empty(t: int) -> Primitives:
    return Primitives(np.zeros((t, 0, 3)), np.zeros((t, 0, 4)), np.zeros((t, 0, 3)))


def quat_z_to(direction: np.ndarray) -> np.ndarray:
    """Unit quaternions (..., 4) wxyz that turn +z into the unit vectors ``direction`` (..., 3)."""
    d = np.asarray(direction, float)
    w = 1.0 + d[..., 2]
    q = np.concatenate([w[..., None], -d[..., 1:2], d[..., 0:1], np.zeros_like(w)[..., None]], -1)
    q[w < 1e-9] = [0.0, 1.0, 0.0, 0.0]  # pointing down: half a turn about x
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def capsules(a: np.ndarray, b: np.ndarray, radius: np.ndarray) -> tuple[Primitives, Primitives]:
    """Capsules from ``a`` to ``b`` (T, N, 3) [m] with radii ``radius`` (N,) [m] as cylinders and end spheres."""
    radius = np.broadcast_to(np.asarray(radius, float), a.shape[1:2])
    d = b - a
    length = np.linalg.norm(d, axis=-1)
    unit = d / np.maximum(length, 1e-9)[..., None]
    unit[length < 1e-9] = [0.0, 0.0, 1.0]
    r = np.broadcast_to(radius, length.shape)
    cyl = Primitives(0.5 * (a + b), quat_z_to(unit), np.stack([r, r, np.maximum(length, 1e-6)], -1))
    ends = np.concatenate([a, b], 1)
    rr = np.concatenate([r, r], 1)
    sph = Primitives(ends, np.broadcast_to([1.0, 0.0, 0.0, 0.0], (*ends.shape[:2], 4)).copy(),
                     np.repeat(rr[..., None], 3, -1))
    return cyl, sph


def _cat(parts: list[Primitives], t: int) -> Primitives:
    parts = [p for p in parts if p.pos.shape[1]] or [_empty(t)]
    return Primitives(*(np.concatenate([getattr(p, f) for p in parts], 1) for f in Primitives._fields))


def g1_figure(root_pos: np.ndarray, root_quat: np.ndarray, dof_pos: np.ndarray) -> Figure:
    """The G1's geometry (every geom of :data:`~genmimic.core.g1_constants.BODIES`) at T poses: ``root_pos``
    (T, 3) [m], ``root_quat`` (T, 4) wxyz, ``dof_pos`` (T, 29) [rad] SDK order."""
    poses = forward_kinematics(root_pos, root_quat, dof_pos)
    t = len(root_pos)
    caps_a, caps_b, caps_r, caps_body, sph, sph_r, sph_body, box, box_half, box_body = ([] for _ in range(10))
    for k, body in enumerate(g1.BODIES):
        for geom in body.geoms:
            if geom.kind == "capsule":
                caps_a.append(geom.a), caps_b.append(geom.b), caps_r.append(geom.size), caps_body.append(k)
            elif geom.kind == "sphere":
                sph.append(geom.a), sph_r.append(geom.size), sph_body.append(k)
            elif geom.kind == "box":
                box.append(geom.a), box_half.append(geom.b), box_body.append(k)

    def world(points: list, bodies: list) -> np.ndarray:
        if not points:
            return np.zeros((t, 0, 3))
        rot, pos = poses.rot[:, bodies], poses.pos[:, bodies]
        return np.einsum("tnij,nj->tni", rot, np.asarray(points, float)) + pos

    cyl, ends = capsules(world(caps_a, caps_body), world(caps_b, caps_body), np.asarray(caps_r))
    spheres = Primitives(world(sph, sph_body), np.tile([1.0, 0, 0, 0], (t, len(sph), 1)),
                         np.repeat(np.tile(np.asarray(sph_r, float), (t, 1))[..., None], 3, -1))
    boxes = _empty(t)
    if box:
        boxes = Primitives(world(box, box_body), quat_from_matrix(poses.rot[:, box_body]),
                           np.tile(2.0 * np.asarray(box_half, float), (t, 1, 1)))
    return Figure(cyl, _cat([ends, spheres], t), boxes)


#: Radii [m] of the SMPL capsule figure's bones, by the child joint's name (default 0.05).
_SMPL_RADII = {"head": 0.1, "spine1": 0.1, "spine2": 0.11, "spine3": 0.11, "left_hip": 0.08, "right_hip": 0.08,
               "left_knee": 0.06, "right_knee": 0.06, "left_wrist": 0.035, "right_wrist": 0.035,
               "left_hand": 0.03, "right_hand": 0.03, "left_foot": 0.04, "right_foot": 0.04}


def smpl_figure(joints: np.ndarray) -> Figure:
    """A capsule figure of SMPL joints (T, 24, 3) [m]: one capsule per bone of :data:`~genmimic.core.smpl.PARENTS`
    and a sphere for the head."""
    joints = np.asarray(joints, float)
    pairs = [(p, j) for j, p in enumerate(smpl.PARENTS) if p >= 0]
    radii = np.array([_SMPL_RADII.get(smpl.JOINT_NAMES[j], 0.05) for _, j in pairs])
    cyl, ends = capsules(joints[:, [p for p, _ in pairs]], joints[:, [j for _, j in pairs]], radii)
    t = len(joints)
    head = joints[:, [smpl.JOINT_NAMES.index("head")]] + [0.0, 0.0, 0.08]
    skull = Primitives(head, np.tile([1.0, 0, 0, 0], (t, 1, 1)), np.full((t, 1, 3), 0.11))
    return Figure(cyl, _cat([ends, skull], t), _empty(t))
