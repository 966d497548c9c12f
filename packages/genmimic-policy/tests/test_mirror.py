import numpy as np

from genmimic.core import g1_constants as g1
from genmimic.core.g1_kinematics import keypoint_positions
from genmimic.policy import observation as obs
from genmimic.policy.corpus import joint_space_motion
from genmimic.policy.mirror import action_mirror, joint_mirror, keypoint_mirror, mirror_clip, observation_mirror

J = g1.JOINT_NAMES.index


def _mirror_quat(q):
    """Reflection in the x-z plane of a rotation: wxyz -> (w, -x, y, -z)."""
    return q * np.array([1.0, -1.0, 1.0, -1.0])


def test_mirroring_twice_is_the_identity():
    rng = np.random.default_rng(0)
    for m in (joint_mirror(), keypoint_mirror(), action_mirror(),
              observation_mirror(obs.teacher_layout(3, (0, 2, 5, 10)))):
        x = rng.normal(size=(4, len(m.index)))
        np.testing.assert_array_equal(m(m(x)), x)
        assert sorted(m.index) == list(range(len(m.index)))  # a permutation


def test_joint_table_pairs_left_and_right_and_flips_roll_and_yaw():
    m = joint_mirror()
    assert m.index[J("left_knee_joint")] == J("right_knee_joint")
    assert m.index[J("waist_yaw_joint")] == J("waist_yaw_joint") and m.sign[J("waist_yaw_joint")] == -1
    assert m.sign[J("left_hip_pitch_joint")] == 1 and m.sign[J("left_hip_roll_joint")] == -1
    assert m.sign[J("right_shoulder_yaw_joint")] == -1 and m.sign[J("right_elbow_joint")] == 1
    np.testing.assert_allclose(m(np.asarray(g1.DEFAULT_DOF_POS)), g1.DEFAULT_DOF_POS)  # symmetric default pose


def test_a_left_arm_motion_mirrored_is_the_right_arm_motion():
    rng = np.random.default_rng(1)
    dof = np.tile(np.asarray(g1.DEFAULT_DOF_POS), (5, 1))
    for name in ("shoulder_pitch", "shoulder_roll", "shoulder_yaw", "elbow", "wrist_roll", "wrist_yaw"):
        dof[:, J(f"left_{name}_joint")] += rng.uniform(-0.5, 0.5, 5)
    root, quat = np.array([0.0, 0.0, 0.75]), np.array([1.0, 0.0, 0.0, 0.0])
    mirrored = joint_mirror()(dof)
    # only the right arm moved away from the default pose
    moved = np.abs(mirrored - np.asarray(g1.DEFAULT_DOF_POS)).max(0) > 1e-9
    assert all(g1.JOINT_NAMES[i].startswith("right_") for i in np.flatnonzero(moved)) and moved.any()
    # and the body it poses is the reflection of the original in the x-z plane
    kp = keypoint_positions(root, quat, dof).reshape(5, -1)
    kp_m = keypoint_positions(root, quat, mirrored).reshape(5, -1)
    np.testing.assert_allclose(kp_m, keypoint_mirror()(kp), atol=2e-4)


def test_observation_functions_are_equivariant_under_the_tables():
    """Observations of the mirrored robot and goals equal the mirror table applied to the observation."""
    rng = np.random.default_rng(2)
    dof, vel, gyro = rng.normal(size=29) * 0.3, rng.normal(size=29), rng.normal(size=3)
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    last = rng.normal(size=29)
    goal_kp, ref_root = rng.normal(size=(2, 19, 3)), rng.normal(size=3)
    jm, km = joint_mirror(), keypoint_mirror()
    p = obs.proprioception(np, dof, vel, gyro, q, last)
    g = obs.goal_features(np, goal_kp, ref_root, q)
    x = np.concatenate([p, g])
    flip = np.array([1.0, -1.0, 1.0])
    goal_m = km(goal_kp.reshape(2, -1)).reshape(2, 19, 3)
    p_m = obs.proprioception(np, jm(dof), jm(vel), gyro * np.array([-1.0, 1.0, -1.0]), _mirror_quat(q), jm(last))
    g_m = obs.goal_features(np, goal_m, ref_root * flip, _mirror_quat(q))
    layout = obs.proprio_blocks(0) + [obs.Block("g0", 57, "keypoints"), obs.Block("g1", 57, "keypoints")]
    np.testing.assert_allclose(np.concatenate([p_m, g_m]), observation_mirror(layout)(x), atol=1e-9)


def test_a_mirrored_clip_is_the_motion_done_with_the_other_side():
    clip = joint_space_motion("mixed", 3, duration=2.0)  # both arms, legs and waist, unlike on each side
    half_yaw = 0.3 * np.arange(clip.num_frames) / clip.fps  # and turning left at 0.6 rad/s
    zero = np.zeros(clip.num_frames)
    turning = clip.replace(root_quat=np.stack([np.cos(half_yaw), zero, zero, np.sin(half_yaw)], 1))
    turning = turning.replace(keypoints=keypoint_positions(turning.root_pos, turning.root_quat, turning.dof_pos))
    m = mirror_clip(turning)
    # forward kinematics of the mirrored joints puts every keypoint where the keypoint table mirrors it
    k = keypoint_mirror()
    flat = turning.keypoints.reshape(turning.num_frames, -1)
    np.testing.assert_allclose(m.keypoints.reshape(m.num_frames, -1), k(flat), atol=1e-4)  # [m]
    assert m.meta["mirrored"] is True and np.array_equal(m.contacts, turning.contacts[:, ::-1])
    twice = mirror_clip(m)
    for name in ("root_pos", "root_quat", "dof_pos", "keypoints"):
        np.testing.assert_allclose(getattr(twice, name), getattr(turning, name), atol=1e-4)
