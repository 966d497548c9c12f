"""Reward terms and termination, written once over an array namespace ``xp`` (numpy or jax.numpy).

Each term is a small pure function named as its scale in :class:`~genmimic.policy.config.RewardScales`;
positive terms are rewards in [0, 1], negative-scaled ones are penalties >= 0. All functions broadcast
over leading (batch) axes.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from genmimic.core import g1_constants as g1
from genmimic.core import tracking
from genmimic.core.runtime.observation import gravity_in_body, heading_cos_sin, to_heading_frame

from .config import EnvConfig, RewardScales

EFFORT = np.asarray([j.motor.effort for j in g1.JOINTS], np.float32)
LOWER = np.asarray([j.lower for j in g1.JOINTS], np.float32)
UPPER = np.asarray([j.upper for j in g1.JOINTS], np.float32)


class RobotFrame(NamedTuple):
    """The simulated robot at one control step (leading batch axes allowed).

    root_pos (3,) world [m]; root_quat (4,) wxyz; root_lin_vel (3,) world [m/s]; gyro (3,) pelvis frame
    [rad/s]; dof_pos, dof_vel (29,) SDK order; keypoints (19, 3) world [m]; torque (29,) [Nm];
    contacts (2,) bool (left, right); foot_vel (2, 3) world [m/s] of the ankle keypoints; keypoint_vel (19, 3)
    world [m/s] of every keypoint (finite difference over one control step).
    """

    root_pos: Any
    root_quat: Any
    root_lin_vel: Any
    gyro: Any
    dof_pos: Any
    dof_vel: Any
    keypoints: Any
    torque: Any
    contacts: Any
    foot_vel: Any
    keypoint_vel: Any


class RefFrame(NamedTuple):
    """The clean reference at the same step: root_pos (3,), root_quat (4,), dof_pos (29,), keypoints (19, 3),
    keypoint_vel (19, 3) world [m/s] (None where a caller has no velocities: only ``keypoint_velocity`` reads
    it)."""

    root_pos: Any
    root_quat: Any
    dof_pos: Any
    keypoints: Any
    keypoint_vel: Any = None


class RewardTerms(NamedTuple):
    keypoint_local: Any
    keypoint_global: Any
    keypoint_velocity: Any
    root_orientation: Any
    root_height: Any
    alive: Any
    action_rate: Any
    torque: Any
    joint_limit: Any
    feet_slip: Any
    feet_contact: Any
    root_heading: Any
    joint_position: Any
    termination: Any


def keypoint_weights(cfg: EnvConfig) -> np.ndarray:
    """Weights (19,) in keypoint order, normalised to sum 1."""
    w = np.asarray([cfg.keypoint_weights[n] for n in g1.KEYPOINT_NAMES], np.float32)
    return w / w.sum()


def mean_keypoint_error(xp: Any, keypoints: Any, ref_keypoints: Any) -> Any:
    """Unweighted mean distance (...,) [m] between keypoints (..., 19, 3): the reported tracking error."""
    return xp.mean(xp.linalg.norm(keypoints - ref_keypoints, axis=-1), axis=-1)


def root_relative_offsets(xp: Any, robot: RobotFrame, ref: RefFrame) -> Any:
    """Robot minus reference keypoints (..., 19, 3) [m], each set about its own pelvis (root) in its own
    heading frame: the pose error without global drift or heading."""
    mine = to_heading_frame(xp, robot.root_quat, robot.keypoints - robot.root_pos[..., None, :])
    goal = to_heading_frame(xp, ref.root_quat, ref.keypoints - ref.root_pos[..., None, :])
    return mine - goal


def keypoint_local(xp: Any, robot: RobotFrame, ref: RefFrame, cfg: EnvConfig) -> Any:
    """Pose: keypoints about each one's own pelvis, in each one's heading frame (weighted)."""
    err = xp.sum(xp.sum(root_relative_offsets(xp, robot, ref) ** 2, -1) * xp.asarray(keypoint_weights(cfg)), -1)
    return xp.exp(-err / cfg.keypoint_sigma_local**2)


def keypoint_global(xp: Any, robot: RobotFrame, ref: RefFrame, cfg: EnvConfig) -> Any:
    """World keypoint positions (weighted)."""
    err = xp.sum(xp.sum((robot.keypoints - ref.keypoints) ** 2, -1) * xp.asarray(keypoint_weights(cfg)), -1)
    return xp.exp(-err / cfg.keypoint_sigma_global**2)


def keypoint_velocity(xp: Any, robot: RobotFrame, ref: RefFrame, cfg: EnvConfig) -> Any:
    """World keypoint linear velocities (weighted), as BeyondMimic's body linear-velocity term (Liao et al.
    2025, arXiv 2508.08241; std 1 m/s there): the term that pays a swing foot and a travelling pelvis for
    moving with the reference, which the position terms only reward once the robot is already there."""
    d = robot.keypoint_vel - ref.keypoint_vel
    err = xp.sum(xp.sum(d * d, -1) * xp.asarray(keypoint_weights(cfg)), -1)
    return xp.exp(-err / cfg.keypoint_sigma_velocity**2)


def root_orientation(xp: Any, robot: RobotFrame, ref: RefFrame, cfg: EnvConfig) -> Any:
    d = gravity_in_body(xp, robot.root_quat) - gravity_in_body(xp, ref.root_quat)
    return xp.exp(-xp.sum(d * d, -1) / cfg.orientation_sigma**2)


def root_heading(xp: Any, robot: RobotFrame, ref: RefFrame, cfg: EnvConfig) -> Any:
    """Heading (yaw about world z) of the pelvis against the reference's: exp(-2 (1 - cos d) / sigma^2), which
    is exp(-d^2 / sigma^2) for a small yaw error d [rad] (sigma ``heading_sigma``). ``root_orientation`` sees
    only the tilt and the local keypoint term is heading-free, so nothing but the world keypoints paid for
    turning: measured 2026-12-01, the teacher ended the bundled demo's turn 84 deg off. BeyondMimic's anchor
    orientation term (Liao et al. 2025) covers the full orientation."""
    return xp.exp(-2.0 * (1.0 - heading_cos_error(xp, robot, ref)) / cfg.heading_sigma**2)


def heading_cos_error(xp: Any, robot: RobotFrame, ref: RefFrame) -> Any:
    """cos d (...,) of the yaw error d [rad] between the robot's pelvis heading and the reference's."""
    c1, s1 = heading_cos_sin(xp, robot.root_quat)
    c2, s2 = heading_cos_sin(xp, ref.root_quat)
    return c1 * c2 + s1 * s2


def joint_position(xp: Any, robot: RobotFrame, ref: RefFrame, cfg: EnvConfig) -> Any:
    """Joint angles against the reference's: exp(-mean_j (q_j - q_ref_j)^2 / sigma^2) over the 29 DoF [rad]
    (sigma ``joint_position_sigma``, on the RMS error), the pose term of DeepMimic (Peng et al. 2018,
    arXiv 1804.02717: exp(-2 sum_j |q_ref_j - q_j|^2)) with a mean instead of a sum, so that one arm far off
    still leaves a gradient. The keypoint terms alone left an arm in another posture reaching near the same
    points: measured 2026-12-01 (122.9 M steps) while the bundled demo raises its right hand, the teacher held
    shoulder yaw -123 deg against the reference's 20 deg and the elbow at 120 deg against 38 deg, the hand
    17 cm off."""
    return xp.exp(-joint_mean_squared_error(xp, robot, ref) / cfg.joint_position_sigma**2)


def joint_mean_squared_error(xp: Any, robot: RobotFrame, ref: RefFrame) -> Any:
    """mean_j (q_j - q_ref_j)^2 (...,) [rad^2] over the 29 DoF: what :func:`joint_position` rewards and
    :func:`posture_off` bounds (as its square root)."""
    return xp.mean((robot.dof_pos - ref.dof_pos) ** 2, axis=-1)


def root_height(xp: Any, robot: RobotFrame, ref: RefFrame, cfg: EnvConfig) -> Any:
    return xp.exp(-((robot.root_pos[..., 2] - ref.root_pos[..., 2]) ** 2) / cfg.height_sigma**2)


def alive(xp: Any, robot: RobotFrame) -> Any:
    return xp.ones(robot.root_pos.shape[:-1], dtype=robot.root_pos.dtype)


def action_rate(xp: Any, action: Any, last_action: Any) -> Any:
    return xp.sum((action - last_action) ** 2, -1)


def torque(xp: Any, robot: RobotFrame) -> Any:
    return xp.sum((robot.torque / xp.asarray(EFFORT)) ** 2, -1)


def joint_limit(xp: Any, robot: RobotFrame, margin: float = 0.9) -> Any:
    """How far joints are beyond ``margin`` of their half range [rad], summed."""
    mid, half = (UPPER + LOWER) / 2, (UPPER - LOWER) / 2
    return xp.sum(xp.maximum(xp.abs(robot.dof_pos - xp.asarray(mid)) - margin * xp.asarray(half), 0.0), -1)


def feet_slip(xp: Any, robot: RobotFrame) -> Any:
    """Horizontal speed squared of feet in contact [m^2/s^2]."""
    return xp.sum(robot.contacts * xp.sum(robot.foot_vel[..., :2] ** 2, -1), -1)


def feet_contact(xp: Any, robot: RobotFrame, ref: RefFrame, cfg: EnvConfig) -> Any:
    """Share of the two feet whose contact state matches the reference's (a foot is in contact when its ankle
    keypoint is under ``contact_height`` [m], the same rule for both). It pays the robot for lifting the swing
    foot when the reference does: measured on 2026-12-01 (42.7 M steps), started at a walk's first frame the
    teacher kept both feet down for 2.4 s while the reference stepped away, and no position or velocity term
    had taught it to start a gait. A gait term of this kind is common in learned humanoid locomotion (e.g. the
    reference-gait contact rewards of Humanoid-Gym, Gu et al. 2024, arXiv 2404.05695)."""
    ankles = [g1.KEYPOINT_NAMES.index("left_ankle"), g1.KEYPOINT_NAMES.index("right_ankle")]
    ref_contacts = ref.keypoints[..., ankles, 2] < cfg.contact_height
    return xp.mean((robot.contacts == ref_contacts).astype(robot.root_pos.dtype), axis=-1)


def termination(xp: Any, terminated: Any) -> Any:
    return terminated.astype(np.float32) if xp is np else terminated.astype(xp.float32)


def fallen(xp: Any, robot: RobotFrame, ref: RefFrame, cfg: EnvConfig) -> Any:
    """The robot fell (:func:`genmimic.core.tracking.fallen`, with ``cfg.fall_tilt`` [rad] and
    ``cfg.fall_height_drop`` [m], whose defaults are the core constants)."""
    return tracking.fallen(xp, robot.root_pos, robot.root_quat, ref.root_pos[..., 2], cfg.fall_tilt,
                           cfg.fall_height_drop)


#: Keypoints whose height error ends an episode (BeyondMimic's end effectors: wrists/hands and ankles).
END_EFFECTORS = tuple(g1.KEYPOINT_NAMES.index(n) for n in ("left_hand", "right_hand", "left_ankle", "right_ankle"))


def drifted(xp: Any, robot: RobotFrame, ref: RefFrame, cfg: EnvConfig) -> Any:
    """The robot no longer follows: its mean root-relative keypoint error passed ``max_root_relative_error``
    [m], its pelvis is more than ``max_root_drift`` [m] from the reference's horizontally, its heading is
    more than ``max_heading_error`` [rad] off the reference's, or its joint angles are off
    (:func:`posture_off`).

    The pose bound is the quantity of the strict success criterion (``genmimic.core.tracking``), so a pose
    that no longer follows ends the episode wherever the robot stands. The root bound keeps the pressure to
    keep up on walks: measured on 2026-12-01, with it at 1 m instead of 0.5 m the teacher learnt within
    1.1 M steps to lag on every held-out walk (root error 80-92 % of the distance walked, from 9-36 %). The
    heading bound does the same for turning: the pose error is heading-free, so a teacher that stood still
    through a turn in place was never stopped (measured 2026-12-01: 135 deg off at the end of held-out
    ``turn``) and adaptive sampling never drew those frames. The joint bound does it for posture: the
    keypoint bounds let the teacher reach near the reference's keypoints with its thighs and upper arms turned
    about their own axes (measured 2026-12-01 at 123.1 M steps: hip yaw ~110 deg and shoulder yaw ~125 deg
    off, 32 deg mean joint-angle error on the held-out set), into which it moved within 0.2 s of every start."""
    pose = xp.mean(xp.linalg.norm(root_relative_offsets(xp, robot, ref), axis=-1), axis=-1)
    root = xp.linalg.norm(robot.root_pos[..., :2] - ref.root_pos[..., :2], axis=-1)
    turned_away = heading_cos_error(xp, robot, ref) < float(np.cos(cfg.max_heading_error))
    return ((pose > cfg.max_root_relative_error) | (root > cfg.max_root_drift) | turned_away
            | posture_off(xp, robot, ref, cfg))


def posture_off(xp: Any, robot: RobotFrame, ref: RefFrame, cfg: EnvConfig) -> Any:
    """The RMS joint-angle error over the 29 DoF passed ``max_joint_position_error`` [rad], or any one
    joint's error passed ``max_joint_error`` [rad] (part of :func:`drifted`). The second bound is there because
    the mean dilutes one joint: the RMS bound of 0.6 rad still let shoulder yaw and wrist roll sit 70-130 deg
    off on both arms (measured 2026-12-02 at 145.7 M steps on the held-out set)."""
    rms_off = xp.sqrt(joint_mean_squared_error(xp, robot, ref)) > cfg.max_joint_position_error
    return rms_off | xp.any(xp.abs(robot.dof_pos - ref.dof_pos) > cfg.max_joint_error, axis=-1)


def end_effector_off(xp: Any, robot: RobotFrame, ref: RefFrame, cfg: EnvConfig) -> Any:
    """A hand or ankle (:data:`END_EFFECTORS`) is more than ``max_end_effector_height_error`` [m] above or
    below its reference (world z), as BeyondMimic's end-effector termination (Liao et al. 2025, arXiv
    2508.08241: 0.25 m). Without it a policy that keeps its arms down while the reference waves is never
    stopped, so adaptive sampling never draws those frames (measured on the run of 2026-11-30/12-01)."""
    ee = list(END_EFFECTORS)
    dz = xp.abs(robot.keypoints[..., ee, 2] - ref.keypoints[..., ee, 2])
    return xp.any(dz > cfg.max_end_effector_height_error, axis=-1)


def terminated(xp: Any, robot: RobotFrame, ref: RefFrame, cfg: EnvConfig) -> Any:
    """End of episode by failure: a fall, the pose or the root drifted (:func:`drifted`), or an end
    effector's height off by more than ``max_end_effector_height_error``."""
    return fallen(xp, robot, ref, cfg) | drifted(xp, robot, ref, cfg) | end_effector_off(xp, robot, ref, cfg)


def reward_terms(xp: Any, robot: RobotFrame, ref: RefFrame, action: Any, last_action: Any, done: Any,
                 cfg: EnvConfig) -> RewardTerms:
    return RewardTerms(
        keypoint_local=keypoint_local(xp, robot, ref, cfg),
        keypoint_global=keypoint_global(xp, robot, ref, cfg),
        keypoint_velocity=keypoint_velocity(xp, robot, ref, cfg),
        root_orientation=root_orientation(xp, robot, ref, cfg),
        root_height=root_height(xp, robot, ref, cfg),
        alive=alive(xp, robot),
        action_rate=action_rate(xp, action, last_action),
        torque=torque(xp, robot),
        joint_limit=joint_limit(xp, robot),
        feet_slip=feet_slip(xp, robot),
        feet_contact=feet_contact(xp, robot, ref, cfg),
        root_heading=root_heading(xp, robot, ref, cfg),
        joint_position=joint_position(xp, robot, ref, cfg),
        termination=termination(xp, done),
    )


def total_reward(terms: RewardTerms, scales: RewardScales) -> Any:
    return sum(getattr(scales, name) * value for name, value in zip(terms._fields, terms, strict=True))


def robot_frame(xp: Any, qpos: Any, qvel: Any, keypoints: Any, torque_: Any, prev_keypoints: Any, cfg: EnvConfig,
                qpos_idx: Any, qvel_idx: Any) -> RobotFrame:
    """A :class:`RobotFrame` from simulator arrays (either backend): ``qpos`` (..., nq), ``qvel`` (..., nv),
    keypoint site positions (..., 19, 3) now and one control step earlier, actuator forces (..., 29)."""
    ankles = [g1.KEYPOINT_NAMES.index("left_ankle"), g1.KEYPOINT_NAMES.index("right_ankle")]
    feet = keypoints[..., ankles, :]
    keypoint_vel = (keypoints - prev_keypoints) / cfg.ctrl_dt
    return RobotFrame(
        root_pos=qpos[..., 0:3], root_quat=qpos[..., 3:7], root_lin_vel=qvel[..., 0:3], gyro=qvel[..., 3:6],
        dof_pos=qpos[..., qpos_idx], dof_vel=qvel[..., qvel_idx], keypoints=keypoints, torque=torque_,
        contacts=feet[..., 2] < cfg.contact_height, foot_vel=keypoint_vel[..., ankles, :], keypoint_vel=keypoint_vel)
