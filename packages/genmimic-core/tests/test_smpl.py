"""SMPL skeleton: forward kinematics known answers and invariants, and loading a body model via smplx."""

from __future__ import annotations

import numpy as np
import pytest

from genmimic.core import smpl
from genmimic.core.errors import ModelError
from genmimic.core.rotations import axis_angle_from_matrix
from genmimic.core.testing import write_tiny_smpl_model

RNG = np.random.default_rng(11)
UPRIGHT = axis_angle_from_matrix(smpl.CANONICAL_TO_WORLD)


def test_tree_is_topological_and_names_match():
    assert len(smpl.JOINT_NAMES) == len(smpl.PARENTS) == smpl.NUM_JOINTS == 24
    assert all(p < j for j, p in enumerate(smpl.PARENTS))


def test_mirror_index_is_an_involution_that_swaps_sides():
    m = np.array(smpl.MIRROR_INDEX)
    np.testing.assert_array_equal(m[m], np.arange(24))
    assert smpl.JOINT_NAMES[m[smpl.JOINT_NAMES.index("left_wrist")]] == "right_wrist"
    np.testing.assert_allclose(smpl.DEFAULT_REST_JOINTS[m] * [-1, 1, 1], smpl.DEFAULT_REST_JOINTS)


def test_mirror_motion_mirrors_the_joints_and_is_an_involution():
    go, bp, tr = RNG.normal(size=(6, 3)), 0.5 * RNG.normal(size=(6, 23, 3)), RNG.normal(size=(6, 3))
    joints, _ = smpl.forward_kinematics(go, bp, tr)
    go_m, bp_m, tr_m, j_m = smpl.mirror_motion(go, bp, tr, joints)
    np.testing.assert_allclose(smpl.forward_kinematics(go_m, bp_m, tr_m)[0], j_m, atol=1e-9)
    go_2, bp_2, tr_2, _ = smpl.mirror_motion(go_m, bp_m, tr_m)
    np.testing.assert_allclose(smpl.forward_kinematics(go_2, bp_2, tr_2)[0], joints, atol=1e-9)


def test_zero_pose_gives_the_rest_skeleton_plus_translation():
    pos, rot = smpl.forward_kinematics(np.zeros(3), np.zeros((23, 3)), [1.0, 2.0, 3.0])
    np.testing.assert_allclose(pos, smpl.DEFAULT_REST_JOINTS + [1.0, 2.0, 3.0])
    np.testing.assert_allclose(rot, np.broadcast_to(np.eye(3), (24, 3, 3)))


def test_default_skeleton_stands_upright_in_the_world():
    pos, _ = smpl.forward_kinematics(UPRIGHT, np.zeros((23, 3)), [0.0, 0.0, smpl.DEFAULT_PELVIS_HEIGHT])
    j = smpl.JOINT_NAMES.index
    assert pos[j("head"), 2] > pos[j("neck"), 2] > pos[j("pelvis"), 2] > pos[j("left_knee"), 2]
    assert pos[j("left_hip"), 1] > 0 > pos[j("right_hip"), 1]  # left is +y when facing +x
    assert pos[j("left_foot"), 0] > pos[j("left_ankle"), 0]  # toes point forward (+x)
    ground = pos[j("left_ankle"), 2] - 0.065
    assert ground == pytest.approx(0.0, abs=1e-9)
    height = pos[j("head"), 2] + 0.13  # skull base to crown
    assert 1.6 < height < 1.8


def test_known_answer_elbow_bend():
    """Bending the left elbow 90 deg about the canonical -y axis turns the T-pose forearm to +z (forward)."""
    body_pose = np.zeros((23, 3))
    body_pose[smpl.JOINT_NAMES.index("left_elbow") - 1] = [0.0, -np.pi / 2, 0.0]
    pos, _ = smpl.forward_kinematics(np.zeros(3), body_pose, np.zeros(3))
    j = smpl.JOINT_NAMES.index
    forearm = pos[j("left_wrist")] - pos[j("left_elbow")]
    rest = smpl.DEFAULT_REST_JOINTS[j("left_wrist")] - smpl.DEFAULT_REST_JOINTS[j("left_elbow")]
    np.testing.assert_allclose(forearm, [-rest[2], rest[1], rest[0]], atol=1e-12)


def test_bone_lengths_are_invariant_under_any_pose_and_batching():
    go, bp = RNG.normal(size=(5, 7, 3)), RNG.normal(size=(5, 7, 23, 3))
    pos, rot = smpl.forward_kinematics(go, bp, RNG.normal(size=(5, 7, 3)))
    assert pos.shape == (5, 7, 24, 3) and rot.shape == (5, 7, 24, 3, 3)
    lengths = np.linalg.norm(pos[..., 1:, :] - pos[..., list(smpl.PARENTS[1:]), :], axis=-1)
    np.testing.assert_allclose(lengths, np.broadcast_to(smpl.bone_lengths()[1:], lengths.shape), atol=1e-12)


def test_rest_joints_from_a_body_model_file(tmp_path):
    pytest.importorskip("smplx")
    path = write_tiny_smpl_model(tmp_path / "SMPL_NEUTRAL.pkl")
    np.testing.assert_allclose(smpl.rest_joints_from_body_model(path), smpl.DEFAULT_REST_JOINTS, atol=1e-6)
    betas = np.zeros(10)
    betas[0], betas[1] = 1.0, 2.0  # 10 % bigger about the pelvis, 0.1 m up
    expected = smpl.DEFAULT_REST_JOINTS * 1.1 + [0.0, 0.1, 0.0]
    np.testing.assert_allclose(smpl.rest_joints_from_body_model(path, betas), expected, atol=1e-6)


def test_rest_joints_from_a_model_folder_by_gender(tmp_path):
    pytest.importorskip("smplx")
    (tmp_path / "smpl").mkdir()
    write_tiny_smpl_model(tmp_path / "smpl" / "SMPL_FEMALE.pkl", smpl.DEFAULT_REST_JOINTS * 0.9)
    joints = smpl.rest_joints_from_body_model(tmp_path, gender="female")
    np.testing.assert_allclose(joints, smpl.DEFAULT_REST_JOINTS * 0.9, atol=1e-6)


def test_body_model_errors_name_the_file(tmp_path):
    pytest.importorskip("smplx")
    with pytest.raises(ModelError, match="absent.pkl: no such SMPL model"):
        smpl.rest_joints_from_body_model(tmp_path / "absent.pkl")
    bad = tmp_path / "SMPL_NEUTRAL.pkl"
    bad.write_bytes(b"not a pickle")
    with pytest.raises(ModelError, match="SMPL_NEUTRAL.pkl: cannot load SMPL model"):
        smpl.rest_joints_from_body_model(bad)
