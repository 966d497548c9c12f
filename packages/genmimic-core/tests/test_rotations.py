"""Rotation helpers against SciPy (scalar-last there, scalar-first here)."""

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from genmimic.core import rotations as rot

RNG = np.random.default_rng(7)
R_SCIPY = Rotation.random(200, random_state=3)
Q_WXYZ = rot.wxyz_from_xyzw(R_SCIPY.as_quat())


def test_matrix_from_quat_matches_scipy():
    np.testing.assert_allclose(rot.matrix_from_quat(Q_WXYZ), R_SCIPY.as_matrix(), atol=1e-12)


def test_quat_from_matrix_matches_scipy_up_to_sign():
    q = rot.quat_from_matrix(R_SCIPY.as_matrix())
    np.testing.assert_allclose(q, rot.quat_normalize(Q_WXYZ), atol=1e-10)


def test_axis_angle_matches_scipy_both_ways():
    aa = R_SCIPY.as_rotvec()
    np.testing.assert_allclose(rot.matrix_from_axis_angle(aa), R_SCIPY.as_matrix(), atol=1e-12)
    np.testing.assert_allclose(rot.axis_angle_from_matrix(R_SCIPY.as_matrix()), aa, atol=1e-9)
    np.testing.assert_allclose(rot.quat_from_axis_angle(aa), rot.quat_normalize(Q_WXYZ), atol=1e-12)


@pytest.mark.parametrize("angle", [0.0, 1e-9, 1e-5, np.pi - 1e-6])
def test_axis_angle_round_trip_at_edges(angle):
    axis = np.array([0.3, -0.5, 0.8]) / np.linalg.norm([0.3, -0.5, 0.8])
    aa = axis * angle
    np.testing.assert_allclose(rot.axis_angle_from_quat(rot.quat_from_axis_angle(aa)), aa, atol=1e-9)
    np.testing.assert_allclose(rot.matrix_from_axis_angle(aa), Rotation.from_rotvec(aa).as_matrix(), atol=1e-12)


def test_quat_from_matrix_at_half_turns():
    for axis in np.eye(3):
        R = Rotation.from_rotvec(np.pi * axis).as_matrix()
        np.testing.assert_allclose(rot.matrix_from_quat(rot.quat_from_matrix(R)), R, atol=1e-12)


def test_multiply_conjugate_and_rotate_match_scipy():
    a, b = Q_WXYZ[:100], Q_WXYZ[100:]
    ab = rot.quat_multiply(a, b)
    expected = (R_SCIPY[:100] * R_SCIPY[100:]).as_matrix()
    np.testing.assert_allclose(rot.matrix_from_quat(ab), expected, atol=1e-12)
    v = RNG.normal(size=(100, 3))
    np.testing.assert_allclose(rot.quat_rotate(a, v), R_SCIPY[:100].apply(v), atol=1e-12)
    identity = rot.quat_multiply(a, rot.quat_conjugate(a))
    np.testing.assert_allclose(identity, np.tile([1.0, 0, 0, 0], (100, 1)), atol=1e-12)


def test_sixd_round_trip_and_gram_schmidt():
    R = R_SCIPY.as_matrix()
    np.testing.assert_allclose(rot.matrix_from_sixd(rot.sixd_from_matrix(R)), R, atol=1e-12)
    noisy = rot.sixd_from_matrix(R) + 0.05 * RNG.normal(size=(200, 6))
    M = rot.matrix_from_sixd(noisy)
    np.testing.assert_allclose(M @ np.swapaxes(M, -1, -2), np.broadcast_to(np.eye(3), M.shape), atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(M), 1.0, atol=1e-12)


def test_rpy_is_urdf_fixed_axis_xyz():
    rpy = RNG.uniform(-np.pi, np.pi, size=(50, 3))
    expected = Rotation.from_euler("xyz", rpy).as_matrix()  # lower case: extrinsic (fixed) axes
    np.testing.assert_allclose(rot.matrix_from_quat(rot.quat_from_rpy(rpy)), expected, atol=1e-12)


def test_yaw_of_heading_rotation():
    yaw = RNG.uniform(-3.0, 3.0, size=20)
    q = rot.wxyz_from_xyzw(Rotation.from_euler("z", yaw[:, None]).as_quat())
    np.testing.assert_allclose(rot.yaw_from_quat(q), yaw, atol=1e-12)


def test_batch_shapes_are_kept():
    aa = RNG.normal(size=(4, 5, 3))
    assert rot.matrix_from_axis_angle(aa).shape == (4, 5, 3, 3)
    assert rot.quat_from_matrix(rot.matrix_from_axis_angle(aa)).shape == (4, 5, 4)
    assert rot.sixd_from_matrix(rot.matrix_from_axis_angle(aa)).shape == (4, 5, 6)
