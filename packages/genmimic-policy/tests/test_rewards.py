"""The environment's fall termination is the project's one fall test (genmimic.core.tracking.fallen)."""

from __future__ import annotations

import dataclasses

import numpy as np

from genmimic.core import g1_constants as g1
from genmimic.core import tracking
from genmimic.core.rotations import quat_from_axis_angle
from genmimic.policy import rewards
from genmimic.policy.config import EnvConfig


def _frames(n: int, rng: np.random.Generator) -> tuple[rewards.RobotFrame, rewards.RefFrame]:
    axis_angle = rng.normal(size=(n, 3)) * 0.8
    quat = np.stack([quat_from_axis_angle(a) for a in axis_angle])
    pos = np.column_stack([np.zeros((n, 2)), rng.uniform(0.2, 1.0, n)])
    z = np.zeros((n, 29))
    robot = rewards.RobotFrame(pos, quat, np.zeros((n, 3)), np.zeros((n, 3)), z, z, np.zeros((n, 19, 3)), z,
                               np.zeros((n, 2), bool), np.zeros((n, 2, 3)), np.zeros((n, 19, 3)))
    ref_pos = np.column_stack([np.zeros((n, 2)), np.full(n, 0.75)])
    ref = rewards.RefFrame(ref_pos, np.tile([1.0, 0, 0, 0], (n, 1)), z, np.zeros((n, 19, 3)))
    return robot, ref


def test_env_termination_uses_the_core_fall_test_and_its_constants():
    cfg = EnvConfig()
    assert (cfg.fall_tilt, cfg.fall_height_drop) == (tracking.FALL_TILT_RAD, tracking.FALL_HEIGHT_DROP_M)
    robot, ref = _frames(200, np.random.default_rng(0))
    got = rewards.fallen(np, robot, ref, cfg)
    want = tracking.fallen(np, robot.root_pos, robot.root_quat, ref.root_pos[:, 2])
    assert 20 < got.sum() < 180 and np.array_equal(got, want)  # both outcomes occur, all agree
    lax = dataclasses.replace(cfg, fall_tilt=np.pi, fall_height_drop=10.0)
    assert not rewards.fallen(np, robot, ref, lax).any()  # the config's values are the ones used


def test_keypoint_velocity_is_one_when_moving_with_the_reference_and_falls_with_the_error():
    cfg = EnvConfig()
    robot, ref = _frames(3, np.random.default_rng(1))
    v = np.zeros((3, 19, 3))
    v[:, :, 0] = [[1.0], [0.0], [-1.0]]  # the reference walks forward at 1 m/s; the robot: with it, stands, backs
    moving = robot._replace(keypoint_vel=v)
    ref = ref._replace(keypoint_vel=np.tile(np.array([1.0, 0.0, 0.0]), (3, 19, 1)))
    r = rewards.keypoint_velocity(np, moving, ref, cfg)
    # every keypoint off by the same speed e: the weighted mean of e^2 is e^2, so r = exp(-e^2 / sigma^2)
    np.testing.assert_allclose(r, np.exp(-np.array([0.0, 1.0, 4.0]) / cfg.keypoint_sigma_velocity**2), rtol=1e-5)


def test_the_bank_holds_keypoint_velocities_of_each_clip_without_crossing_clips():
    from genmimic.policy.reference import ReferenceMotion, make_bank

    def motion(x0, speed, n=5, dt=0.02):
        kp = np.zeros((n, 19, 3))
        kp[:, :, 0] = (x0 + speed * dt * np.arange(n))[:, None]
        z = np.zeros((n, 3))
        return ReferenceMotion(z, np.tile([1.0, 0, 0, 0], (n, 1)), np.zeros((n, 29)), kp, np.zeros((n, 29)), z, z, dt)

    bank = make_bank([motion(0.0, 1.0), motion(10.0, -2.0)])  # a 10 m jump between the clips
    np.testing.assert_allclose(bank.keypoint_vel[:5, :, 0], 1.0)
    np.testing.assert_allclose(bank.keypoint_vel[5:, :, 0], -2.0)


def test_an_end_effector_height_off_by_more_than_the_limit_ends_the_episode():
    cfg = EnvConfig()
    robot, ref = _frames(3, np.random.default_rng(3))
    pos = np.tile([0.0, 0.0, 0.75], (3, 1))
    robot = robot._replace(root_pos=pos, root_quat=np.tile([1.0, 0, 0, 0], (3, 1)))
    ref = ref._replace(root_pos=pos)
    hand = g1.KEYPOINT_NAMES.index("right_hand")
    kp = np.zeros((3, 19, 3))
    kp[:, hand, 2] = [0.0, 0.2, 0.3]  # the reference raises the hand; the robot's stays at 0: 0, 0.2, 0.3 m off
    ref = ref._replace(keypoints=kp)
    assert list(rewards.end_effector_off(np, robot, ref, cfg)) == [False, False, True]
    assert list(rewards.terminated(np, robot, ref, cfg)) == [False, False, True]
    lax = dataclasses.replace(cfg, max_end_effector_height_error=0.5)
    assert not rewards.terminated(np, robot, ref, lax).any()  # the config's value is the one used


def test_drift_ends_an_episode_on_the_pose_or_on_the_root_bound():
    """A robot lagging 0.3 m behind a walking reference in the same pose goes on; 0.6 m behind, or 0.4 m off
    in pose about its own pelvis, it ends."""
    cfg = EnvConfig()
    robot, ref = _frames(4, np.random.default_rng(4))
    quat = np.tile([1.0, 0, 0, 0], (4, 1))
    kp = np.random.default_rng(5).normal(0, 0.3, (4, 19, 3))
    ref_pos = np.tile([0.0, 0.0, 0.75], (4, 1))
    ref = ref._replace(root_pos=ref_pos, root_quat=quat, keypoints=kp + ref_pos[:, None])
    shift = np.array([[0.0, 0, 0], [-0.3, 0, 0], [-0.6, 0, 0], [0.0, 0, 0]])
    robot_kp = kp + (ref_pos + shift)[:, None]
    robot_kp[3, :, 2] += 0.4  # every keypoint 0.4 m up about a pelvis that stayed: the pose is off
    robot = robot._replace(root_pos=ref_pos + shift, root_quat=quat, keypoints=robot_kp)
    assert list(rewards.drifted(np, robot, ref, cfg)) == [False, False, True, True]
    lax = dataclasses.replace(cfg, max_root_drift=2.0, max_root_relative_error=0.5)
    assert list(rewards.drifted(np, robot, ref, lax)) == [False, False, False, False]


def test_a_robot_that_does_not_follow_a_turn_ends_on_the_heading_bound():
    """Same pose and place as the reference, pelvis yawed 0, 45, 70 and -70 deg away from it: the heading
    bound (1 rad, about 57 deg) ends the last two only; the pose and root bounds see none of them."""
    cfg = EnvConfig()
    robot, ref = _frames(4, np.random.default_rng(6))
    yaw = np.radians([0.0, 45.0, 70.0, -70.0])
    robot_quat = np.stack([np.cos(yaw / 2), 0 * yaw, 0 * yaw, np.sin(yaw / 2)], -1)
    ref_quat = np.tile([1.0, 0, 0, 0], (4, 1))
    pos = np.tile([0.0, 0.0, 0.75], (4, 1))
    ref = ref._replace(root_pos=pos, root_quat=ref_quat, keypoints=np.tile(pos[:, None], (1, 19, 1)))
    robot = robot._replace(root_pos=pos, root_quat=robot_quat, keypoints=np.tile(pos[:, None], (1, 19, 1)))
    assert list(rewards.drifted(np, robot, ref, cfg)) == [False, False, True, True]
    np.testing.assert_allclose(rewards.heading_cos_error(np, robot, ref), np.cos(yaw), atol=1e-9)
    lax = dataclasses.replace(cfg, max_heading_error=np.pi)
    assert not rewards.drifted(np, robot, ref, lax).any()


def test_a_limb_turned_about_its_own_axis_ends_on_the_joint_bound():
    """Same keypoints and root as the reference, joint angles off: RMS 0.3 rad continues; the teacher's
    measured posture (both hip yaws 1.9 rad, both shoulder yaws 2.2 rad, elbows 1.0 rad off: RMS 0.81) ends
    by drift; the keypoint, root and heading bounds see neither."""
    cfg = EnvConfig()
    robot, ref = _frames(3, np.random.default_rng(8))
    pos = np.tile([0.0, 0.0, 0.75], (3, 1))
    ref = ref._replace(root_pos=pos, root_quat=np.tile([1.0, 0, 0, 0], (3, 1)),
                       keypoints=np.tile(pos[:, None], (1, 19, 1)))
    q = np.zeros((3, 29))
    q[1] = 0.3
    for name, angle in (("hip_yaw", 1.9), ("shoulder_yaw", 2.2), ("elbow", 1.0)):
        for side in ("left", "right"):
            q[2, g1.JOINT_NAMES.index(f"{side}_{name}_joint")] = angle
    robot = robot._replace(root_pos=pos, root_quat=ref.root_quat, keypoints=ref.keypoints, dof_pos=q)
    assert list(rewards.drifted(np, robot, ref, cfg)) == [False, False, True]
    assert not rewards.drifted(np, robot, ref, dataclasses.replace(cfg, max_joint_position_error=0.9,
                                                                    max_joint_error=2.5)).any()


def test_one_joint_far_off_is_posture_off_though_the_rms_is_small():
    """The mean over 29 DoF dilutes one joint: one shoulder yaw 1.2 rad off is 0.22 rad RMS, under the RMS
    bound, and still ends the episode by the per-joint bound."""
    cfg = EnvConfig()
    robot, ref = _frames(3, np.random.default_rng(9))
    q = np.zeros((3, 29))
    yaw = g1.JOINT_NAMES.index("right_shoulder_yaw_joint")
    q[1, yaw], q[2, yaw] = 0.9, -1.2
    robot, ref = robot._replace(dof_pos=ref.dof_pos + q), ref
    assert np.sqrt((q[2] ** 2).mean()) < cfg.max_joint_position_error
    assert list(rewards.posture_off(np, robot, ref, cfg)) == [False, False, True]
    assert not rewards.posture_off(np, robot, ref, dataclasses.replace(cfg, max_joint_error=1.3)).any()


def test_feet_contact_pays_for_lifting_the_foot_the_reference_lifts():
    cfg = EnvConfig()
    robot, ref = _frames(3, np.random.default_rng(6))
    left, right = g1.KEYPOINT_NAMES.index("left_ankle"), g1.KEYPOINT_NAMES.index("right_ankle")
    ref_kp = np.zeros((3, 19, 3))
    ref_kp[:, left, 2], ref_kp[:, right, 2] = 0.04, 0.15  # the reference stands on its left foot
    ref = ref._replace(keypoints=ref_kp)
    both_down = np.array([[True, True], [True, False], [False, True]])  # both down; right lifted; wrong foot
    robot = robot._replace(contacts=both_down)
    np.testing.assert_allclose(rewards.feet_contact(np, robot, ref, cfg), [0.5, 1.0, 0.0])


def test_root_heading_is_one_when_aligned_and_falls_with_the_yaw_error_only():
    cfg = EnvConfig()
    robot, ref = _frames(4, np.random.default_rng(7))
    yaw = np.array([0.0, 0.2, np.pi / 2, np.pi])
    robot = robot._replace(root_quat=np.stack([quat_from_axis_angle(np.array([0.0, 0.0, a])) for a in yaw]))
    ref = ref._replace(root_quat=np.tile([1.0, 0, 0, 0], (4, 1)))
    r = rewards.root_heading(np, robot, ref, cfg)
    np.testing.assert_allclose(r[:2], np.exp(-(yaw[:2] ** 2) / cfg.heading_sigma**2), rtol=0.01)
    assert r[2] < 1e-3 and r[3] < r[2]
    tilted = robot._replace(root_quat=np.tile(quat_from_axis_angle(np.array([0.3, 0.0, 0.0])), (4, 1)))  # roll, no yaw
    np.testing.assert_allclose(rewards.root_heading(np, tilted, ref, cfg), 1.0, atol=1e-6)


def test_joint_position_is_one_on_the_reference_and_a_known_value_off_it():
    cfg = EnvConfig()
    robot, ref = _frames(3, np.random.default_rng(3))
    q = np.zeros((3, 29))
    q[1, 14] = 0.5  # one arm joint 0.5 rad off: mean squared error 0.25 / 29
    q[2, 14], q[2, 15] = 2.5, 1.4  # the demo's arm in another posture (shoulder yaw and elbow far off)
    r = rewards.joint_position(np, robot._replace(dof_pos=q), ref, cfg)
    np.testing.assert_allclose(r[:2], [1.0, np.exp(-0.25 / 29 / cfg.joint_position_sigma**2)], rtol=1e-6)
    assert 0.2 < r[2] < r[1]  # far off still pays for coming closer (a mean, not DeepMimic's sum)
