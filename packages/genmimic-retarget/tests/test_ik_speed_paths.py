"""The retarget command's speed paths (issue 16): the stacked keypoint task is Pink's FrameTask QP exactly, the
weights per frame reach it, and the command's imports start neither JAX nor SciPy's signal module."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pinocchio as pin
import pytest
from pink import Configuration
from pink.tasks import FrameTask

from genmimic.core import g1_constants as g1
from genmimic.core.g1_model import KEYPOINT_PREFIX
from genmimic.retarget.ik import (
    CONFIG_LIMIT_GAIN,
    G1IK,
    IKConfig,
    Kinematics,
    _robot,
    joint_ranges,
    pinocchio_q,
    posture_costs,
)
from genmimic.retarget.keypoint_task import KeypointTasks
from genmimic.retarget.mapping import LINKS


@pytest.fixture(scope="module")
def configuration() -> Configuration:
    rng = np.random.default_rng(2)
    model = _robot().model
    dof = np.asarray(g1.DEFAULT_DOF_POS) + rng.uniform(-0.3, 0.3, g1.NUM_DOF)
    q = pinocchio_q(np.array([0.1, -0.2, 0.75]), np.array([0.96, 0.05, -0.1, 0.25]) / 1.0019, dof)
    q[3:7] /= np.linalg.norm(q[3:7])
    return Configuration(model, model.createData(), q)


def _random_targets(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    rotations = np.stack([pin.exp3(rng.normal(size=3)) for _ in range(n)])
    return rotations, rng.normal(scale=0.5, size=(n, 3)) + [0.0, 0.0, 0.8]


def test_stacked_task_is_the_sum_of_pinks_frame_tasks(configuration):
    links = [link for link in LINKS if link.position_cost > 0 or link.orientation_cost > 0]
    frames = [KEYPOINT_PREFIX + link.keypoint for link in links]
    rng = np.random.default_rng(3)
    pos_cost, ori_cost = rng.uniform(0.1, 2.0, len(links)), rng.uniform(0.0, 1.0, len(links))
    rotations, positions = _random_targets(len(links), seed=4)
    stacked = KeypointTasks(configuration.model, frames, pos_cost, ori_cost)
    stacked.set_targets(rotations, positions)
    H, c = np.zeros((configuration.model.nv,) * 2), np.zeros(configuration.model.nv)
    for i, frame in enumerate(frames):
        task = FrameTask(frame, position_cost=float(pos_cost[i]), orientation_cost=float(ori_cost[i]))
        task.set_target(pin.SE3(rotations[i], positions[i]))
        h, cc = task.compute_qp_objective(configuration)
        H, c = H + h, c + cc
        np.testing.assert_allclose(stacked.compute_error(configuration)[6 * i:6 * i + 6],
                                   task.compute_error(configuration), atol=1e-12)
    H2, c2 = stacked.compute_qp_objective(configuration)
    np.testing.assert_allclose(H2, H, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(c2, c, rtol=1e-10, atol=1e-10)
    assert np.any(c != 0)


@pytest.mark.parametrize("offset", [1e-9, 3e-5, 0.2, 2.5])
def test_stacked_jacobian_is_pinks_near_and_far_from_the_target(configuration, offset):
    """The NumPy error and Jacobian (SE(3) log and its Jacobian, small-angle series below 1e-4 rad) against
    Pink's FrameTask, with targets ``offset`` [rad, m] from each frame's pose."""
    links = [link for link in LINKS if link.position_cost > 0 or link.orientation_cost > 0]
    frames = [KEYPOINT_PREFIX + link.keypoint for link in links]
    rng = np.random.default_rng(8)
    stacked = KeypointTasks(configuration.model, frames, np.ones(len(frames)), np.ones(len(frames)))
    here = [configuration.get_transform_frame_to_world(f) for f in frames]
    targets = [M * pin.exp6(pin.Motion(offset * rng.normal(size=6) / np.sqrt(6))) for M in here]
    stacked.set_targets(np.array([T.rotation for T in targets]), np.array([T.translation for T in targets]))
    error, jac = stacked.compute_error(configuration), stacked.compute_jacobian(configuration)
    for i, frame in enumerate(frames):
        task = FrameTask(frame, position_cost=1.0, orientation_cost=1.0)
        task.set_target(targets[i])
        np.testing.assert_allclose(error[6 * i:6 * i + 6], task.compute_error(configuration), atol=1e-12)
        np.testing.assert_allclose(jac[6 * i:6 * i + 6], task.compute_jacobian(configuration), atol=1e-9)


@pytest.mark.parametrize("velocity_limit", [True, False])
def test_ik_step_is_pinks_solve_ik(velocity_limit):
    """``G1IK.step`` (constant posture Hessian, the limits as one box) gives Pink's ``solve_ik`` step with
    Pink's ``PostureTask``, ``ConfigurationLimit`` and ``VelocityLimit``, near and at the joint limits."""
    from pink import solve_ik
    from pink.limits import ConfigurationLimit, VelocityLimit
    from pink.tasks import PostureTask

    ik = G1IK(IKConfig(joint_ranges=()))  # the G1's own limits, as Pink's ConfigurationLimit reads them
    robot = _robot()
    pink_limits = (ConfigurationLimit(robot.model, config_limit_gain=CONFIG_LIMIT_GAIN), VelocityLimit(robot.model))
    for limit in pink_limits:  # the same joints bounded
        np.testing.assert_array_equal(limit.indices, robot.bounded)
    posture = PostureTask(cost=ik.config.posture_cost)
    posture.cost = np.zeros(robot.model.nv - 6)  # per joint (IKConfig.posture_joint_costs), in Pinocchio's order
    posture.cost[robot.dof_q_index - 7] = posture_costs(ik.config)
    posture.set_target(pinocchio_q(np.zeros(3), np.array([1.0, 0, 0, 0]), np.array(g1.DEFAULT_DOF_POS)))
    rng = np.random.default_rng(11)
    lower, upper = np.array([j.lower for j in g1.JOINTS]), np.array([j.upper for j in g1.JOINTS])
    for trial in range(6):
        dof = rng.uniform(lower, upper)
        if trial % 2:  # some joints on their limits
            at = rng.random(g1.NUM_DOF) < 0.3
            dof[at] = np.where(rng.random(at.sum()) < 0.5, lower[at], upper[at])
        q = pinocchio_q(rng.normal(scale=0.2, size=3) + [0, 0, 0.7], np.array([0.9, 0.1, -0.2, 0.3]) / 0.9747, dof)
        q[3:7] /= np.linalg.norm(q[3:7])
        conf = Configuration(robot.model, robot.model.createData(), q)
        rotations, positions = _random_targets(len(ik._task_index), seed=20 + trial)
        ik.keypoint_tasks.set_targets(rotations, positions)
        dt = 1 / 60
        limits = pink_limits if velocity_limit else pink_limits[:1]
        want = solve_ik(conf, [ik.keypoint_tasks, posture], dt, solver="daqp", damping=ik.config.damping,
                        limits=limits, safety_break=False)
        np.testing.assert_allclose(ik.step(conf, dt, velocity_limit=velocity_limit), want, atol=1e-7, rtol=1e-7)


def test_the_ik_keeps_hip_yaw_within_its_range():
    """Targets from a G1 pose with the right hip yawed 2.4 rad (within the G1's +-2.76, past a person's hip):
    without ``IKConfig.joint_ranges`` the IK follows it there; with the default range it stays within +-1.5 rad
    and leaves the keypoints off instead (the leg turned about itself on a generated video, ``IKConfig``)."""
    lower, upper = joint_ranges(IKConfig())
    yaw = [g1.JOINT_NAMES.index(f"{s}_hip_yaw_joint") for s in ("left", "right")]
    np.testing.assert_array_equal(lower[yaw], -1.5)
    np.testing.assert_array_equal(upper[yaw], 1.5)
    others = np.setdiff1d(np.arange(g1.NUM_DOF), yaw)
    np.testing.assert_array_equal(lower[others], [g1.JOINTS[i].lower for i in others])
    robot = _robot()
    dof = np.array(g1.DEFAULT_DOF_POS, float)
    dof[yaw[1]], dof[g1.JOINT_NAMES.index("right_knee_joint")] = 2.4, 1.2
    kin = Kinematics(robot.model, pinocchio_q(np.array([0.0, 0.0, 0.78]), np.array([1.0, 0, 0, 0]), dof))
    frames = [robot.model.getFrameId(KEYPOINT_PREFIX + link.keypoint) for link in LINKS]
    T = 12
    pos = np.broadcast_to(np.stack([kin.data.oMf[f].translation for f in frames]), (T, len(LINKS), 3)).copy()
    rot = np.broadcast_to(np.stack([kin.data.oMf[f].rotation for f in frames]), (T, len(LINKS), 3, 3)).copy()
    free = G1IK(IKConfig(joint_ranges=())).solve(pos, rot, 30.0).dof_pos[:, yaw[1]]
    held = G1IK(IKConfig()).solve(pos, rot, 30.0).dof_pos[:, yaw[1]]
    assert free[-1] > 2.0, free
    assert np.abs(held).max() <= 1.5 + 1e-6, held


def test_box_qp_known_answer_and_no_solution():
    from genmimic.retarget.ik import _solve_box_qp

    # min 1/2 |x|^2 + sum(x) is x = -1, clipped by the box to -0.5
    np.testing.assert_allclose(_solve_box_qp(np.eye(3), np.ones(3), np.full(3, -0.5), np.ones(3)), [-0.5] * 3)
    with pytest.raises(RuntimeError, match="daqp found no solution"):
        _solve_box_qp(np.eye(3), np.ones(3), np.array([1.0, 0, 0]), np.array([0.0, 1, 1]))  # lower > upper


def test_ik_refuses_a_solver_it_does_not_call():
    from genmimic.retarget.ik import IKConfig

    with pytest.raises(ValueError, match="IK solver 'osqp' is not supported: the IK calls daqp directly"):
        G1IK(IKConfig(solver="osqp"))


def test_stacked_task_refuses_unknown_frames(configuration):
    with pytest.raises(KeyError, match="frames not in the model: no_such_frame"):
        KeypointTasks(configuration.model, ["no_such_frame"], [1.0], [1.0])


def test_per_frame_weights_reach_the_stacked_task():
    ik = G1IK(IKConfig(settle_s=0))  # forward only: the last frame solved is the last frame
    k = len(ik._task_index)
    rotations, positions = _random_targets(k, seed=6)
    T = 3
    pos = np.broadcast_to(positions, (T, k, 3)).copy()
    rot = np.broadcast_to(rotations, (T, k, 3, 3)).copy()
    full_pos = np.zeros((T, len(LINKS), 3))
    full_rot = np.broadcast_to(np.eye(3), (T, len(LINKS), 3, 3)).copy()
    full_pos[:, ik._task_index], full_rot[:, ik._task_index] = pos, rot
    weights = np.ones((T, len(LINKS)))
    weights[-1, ik._task_index[0]] = 0.25
    ik.solve(full_pos, full_rot, 30.0, weights=weights)
    cost = ik.keypoint_tasks.cost.reshape(k, 6)
    np.testing.assert_allclose(cost[0], 0.25 * np.repeat(ik._costs[0], 3))
    np.testing.assert_allclose(cost[1:], np.repeat(ik._costs[1:], 3, axis=1))


def test_retarget_command_starts_without_jax_or_scipy_signal():
    """Start-up (issue 16): the command and the IK import neither JAX, SciPy's signal, sparse or spatial
    modules, Pink nor qpsolvers (daqp is called directly; the resampling imports SciPy's Slerp when used)."""
    code = ("import sys; import genmimic.retarget.cli; from genmimic.retarget.ik import G1IK; G1IK(); "
            "print(sorted(m for m in ('jax', 'scipy.signal', 'torch', 'mediapipe', 'pink', 'qpsolvers', "
            "'scipy.sparse', 'scipy.spatial') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
