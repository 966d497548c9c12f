"""Rotation conversions over NumPy arrays, batched over leading axes.

Conventions: quaternions are ``wxyz`` (scalar first) and unit-norm; axis-angle vectors are
``axis * angle`` [rad]; matrices act on column vectors (``v_world = R @ v_body``); the 6D
representation is the first two *columns* of the matrix, concatenated (Zhou et al. 2019).
Every function accepts ``(..., n)`` input and returns the same leading shape.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

Array = NDArray[np.float64]

_EPS = 1e-12


def _as(x: ArrayLike) -> Array:
    return np.asarray(x, dtype=np.float64)


def quat_normalize(q_wxyz: ArrayLike) -> Array:
    """Unit quaternion with non-negative w (the canonical one of ``q`` and ``-q``)."""
    q = _as(q_wxyz)
    q = q / np.maximum(np.linalg.norm(q, axis=-1, keepdims=True), _EPS)
    return np.where(q[..., :1] < 0.0, -q, q)


def quat_multiply(a_wxyz: ArrayLike, b_wxyz: ArrayLike) -> Array:
    """Hamilton product ``a * b`` (apply ``b`` first, then ``a``)."""
    a, b = _as(a_wxyz), _as(b_wxyz)
    aw, ax, ay, az = np.moveaxis(a, -1, 0)
    bw, bx, by, bz = np.moveaxis(b, -1, 0)
    return np.stack(
        [
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ],
        axis=-1,
    )


def quat_conjugate(q_wxyz: ArrayLike) -> Array:
    """Inverse of a unit quaternion."""
    q = _as(q_wxyz).copy()
    q[..., 1:] *= -1.0
    return q


def quat_rotate(q_wxyz: ArrayLike, v: ArrayLike) -> Array:
    """Rotate vectors ``v`` (..., 3) by unit quaternions (..., 4)."""
    q, v = _as(q_wxyz), _as(v)
    w, u = q[..., :1], q[..., 1:]
    t = 2.0 * np.cross(u, v)
    return v + w * t + np.cross(u, t)


def quat_from_axis_angle(aa: ArrayLike) -> Array:
    """Axis-angle (..., 3) [rad] to quaternion (..., 4) wxyz."""
    aa = _as(aa)
    angle = np.linalg.norm(aa, axis=-1, keepdims=True)
    half = 0.5 * angle
    # sin(x/2)/x, with its Taylor series near zero
    small = angle < 1e-6
    k = np.where(small, 0.5 - angle**2 / 48.0, np.sin(half) / np.where(small, 1.0, angle))
    return np.concatenate([np.cos(half), aa * k], axis=-1)


def axis_angle_from_quat(q_wxyz: ArrayLike) -> Array:
    """Quaternion (..., 4) wxyz to axis-angle (..., 3) with angle in [0, pi]."""
    q = quat_normalize(q_wxyz)
    s = np.linalg.norm(q[..., 1:], axis=-1, keepdims=True)
    angle = 2.0 * np.arctan2(s, q[..., :1])
    small = s < 1e-8  # angle/s -> 2 as s -> 0 (w -> 1)
    k = np.where(small, 2.0, angle / np.where(small, 1.0, s))
    return q[..., 1:] * k


def matrix_from_quat(q_wxyz: ArrayLike) -> Array:
    """Unit quaternion (..., 4) wxyz to rotation matrix (..., 3, 3)."""
    q = _as(q_wxyz)
    q = q / np.maximum(np.linalg.norm(q, axis=-1, keepdims=True), _EPS)
    w, x, y, z = np.moveaxis(q, -1, 0)
    return np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], axis=-1),
            np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], axis=-1),
            np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], axis=-1),
        ],
        axis=-2,
    )


def quat_from_matrix(R: ArrayLike) -> Array:
    """Rotation matrix (..., 3, 3) to unit quaternion (..., 4) wxyz with w >= 0.

    Uses the numerically stable branch (largest diagonal term) per element.
    """
    R = _as(R)
    m00, m11, m22 = R[..., 0, 0], R[..., 1, 1], R[..., 2, 2]
    # 4*q_i^2 for each component, pick the largest to divide by
    cand = np.stack(
        [1 + m00 + m11 + m22, 1 + m00 - m11 - m22, 1 - m00 + m11 - m22, 1 - m00 - m11 + m22], axis=-1
    )
    i = np.argmax(cand, axis=-1)
    r = np.sqrt(np.maximum(np.take_along_axis(cand, i[..., None], -1)[..., 0], _EPS))  # = 2|q_i|
    d21, d02, d10 = R[..., 2, 1] - R[..., 1, 2], R[..., 0, 2] - R[..., 2, 0], R[..., 1, 0] - R[..., 0, 1]
    s21, s02, s10 = R[..., 2, 1] + R[..., 1, 2], R[..., 0, 2] + R[..., 2, 0], R[..., 1, 0] + R[..., 0, 1]
    options = np.stack(
        [
            np.stack([r * r, d21, d02, d10], -1),
            np.stack([d21, r * r, s10, s02], -1),
            np.stack([d02, s10, r * r, s21], -1),
            np.stack([d10, s02, s21, r * r], -1),
        ],
        axis=-2,
    )
    q = np.take_along_axis(options, i[..., None, None], axis=-2)[..., 0, :] / (2.0 * r[..., None])
    return quat_normalize(q)


def matrix_from_axis_angle(aa: ArrayLike) -> Array:
    """Axis-angle (..., 3) [rad] to rotation matrix (..., 3, 3) (Rodrigues' formula)."""
    return matrix_from_quat(quat_from_axis_angle(aa))


def axis_angle_from_matrix(R: ArrayLike) -> Array:
    """Rotation matrix (..., 3, 3) to axis-angle (..., 3) with angle in [0, pi]."""
    return axis_angle_from_quat(quat_from_matrix(R))


def sixd_from_matrix(R: ArrayLike) -> Array:
    """Rotation matrix (..., 3, 3) to the 6D representation (..., 6): columns 0 and 1."""
    R = _as(R)
    return np.concatenate([R[..., :, 0], R[..., :, 1]], axis=-1)


def matrix_from_sixd(d6: ArrayLike) -> Array:
    """6D representation (..., 6) to rotation matrix (..., 3, 3) by Gram-Schmidt.

    Any two non-parallel 3-vectors give a valid rotation, so network outputs can be fed directly.
    """
    d6 = _as(d6)
    a, b = d6[..., :3], d6[..., 3:]
    c0 = a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), _EPS)
    b = b - np.sum(c0 * b, axis=-1, keepdims=True) * c0
    c1 = b / np.maximum(np.linalg.norm(b, axis=-1, keepdims=True), _EPS)
    c2 = np.cross(c0, c1)
    return np.stack([c0, c1, c2], axis=-1)


def quat_from_rpy(rpy: ArrayLike) -> Array:
    """URDF roll-pitch-yaw (..., 3) [rad] (fixed axes x, y, z: R = Rz(yaw) Ry(pitch) Rx(roll)) to wxyz."""
    rpy = _as(rpy)
    half = 0.5 * rpy
    cr, cp, cy = np.cos(half[..., 0]), np.cos(half[..., 1]), np.cos(half[..., 2])
    sr, sp, sy = np.sin(half[..., 0]), np.sin(half[..., 1]), np.sin(half[..., 2])
    return np.stack(
        [
            cr * cp * cy + sr * sp * sy,
            sr * cp * cy - cr * sp * sy,
            cr * sp * cy + sr * cp * sy,
            cr * cp * sy - sr * sp * cy,
        ],
        axis=-1,
    )


def wxyz_from_xyzw(q_xyzw: ArrayLike) -> Array:
    """Reorder scalar-last quaternions (SciPy, GMR, Pinocchio, ROS) to scalar-first."""
    return np.roll(_as(q_xyzw), 1, axis=-1)


def xyzw_from_wxyz(q_wxyz: ArrayLike) -> Array:
    """Reorder scalar-first quaternions (MuJoCo, this project) to scalar-last."""
    return np.roll(_as(q_wxyz), -1, axis=-1)


def yaw_from_quat(q_wxyz: ArrayLike) -> Array:
    """Heading angle [rad] about world z of the body x axis, for z-up frames."""
    q = _as(q_wxyz)
    w, x, y, z = np.moveaxis(q, -1, 0)
    return np.arctan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))
