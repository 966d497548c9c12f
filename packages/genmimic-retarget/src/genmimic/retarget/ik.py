"""Whole-body differential IK of the G1, frame after frame, warm-started: Pink's QP, on pinocchio and daqp.

Per frame: frame tasks for the mapped keypoints (position, and orientation where the mapping asks for it;
stacked into one task, :mod:`.keypoint_task`), a posture task towards the default pose, joint position
limits and joint velocity limits (from the G1 table, enforced per frame: at most ``v_max / fps`` of
motion). The QP is solved by daqp.

Each QP step is exactly :func:`pink.solve_ik`'s with Pink's ``FrameTask``s, ``PostureTask``,
``ConfigurationLimit`` and ``VelocityLimit`` (``tests/test_ik_speed_paths.py`` checks the step against
Pink's), computed without Pink's generic path (issue 16; measured on a 30 s walk, retarget CPU 1.10 ->
0.61 s in process, and 0.3-0.4 s less start-up per process): the posture task's Hessian is constant
(``cost^2`` on the actuated joints), so it is computed once; both limits are bounds on each joint's
displacement (Pink writes them as 4 x 29 general inequality rows), so they go to the solver as one box,
the tighter of the two; the per-step configuration check that only warns (``safety_break=False``) is not
run (the box keeps every step within the limits); and daqp is called directly, so neither Pink nor
qpsolvers (which imports SciPy's sparse linear algebra) is imported by the command. Pink stays the
reference the tests compare with.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

import numpy as np
import pinocchio as pin

from genmimic.core import g1_constants as g1
from genmimic.core.g1_model import KEYPOINT_PREFIX, g1_urdf
from genmimic.core.rotations import quat_from_matrix, wxyz_from_xyzw, xyzw_from_wxyz

from .keypoint_task import KeypointTasks
from .mapping import LINKS


@dataclass(frozen=True)
class IKConfig:
    """Settings of the per-frame IK.

    iterations: QP solves per frame (the previous frame's solution is the start).
    first_frame_iterations: QP solves on the first frame, from the default pose.
    settle_s: the first this many seconds are solved again backwards, from the forward pass's solution at their
        end [s]: the first frame, solved from the default pose without the velocity limit, followed every bit of
        the input's noise where later frames, limited in how far they move from the previous one, do not
        (measured on the benchmark's jittered clips, ``genmimic-bench`` jitter 3: the first frame's joint angles
        0.5-0.6 rad RMS off the clean motion's against 0.3 rad over the clip, and reference state init started
        the robot there). 0: no backward pass.
    posture_cost: pull towards the default pose [cost/rad] (regularises redundant joints).
    posture_joint_costs: per-joint posture costs [cost/rad] that replace ``posture_cost`` for the joints whose
        name contains the given part; the first match counts. Default: 0.1 on shoulder yaw and wrist roll, the
        turns of the upper arm and forearm about their own axes, which the keypoints barely show (none for the
        wrist roll; for shoulder yaw only through a bent elbow's plane, whose forward part is the camera's depth
        in a video lift): with ``posture_cost`` alone the IK left them wherever the noise took them. Measured
        2026-12-02 on 8 genmimic-synth kinds (seed 4000, 8 s) rendered, lifted by genmimic-lift and retargeted,
        against the same motions retargeted from the truth (README, "Arm twist"; ``tests/test_lifted_arm_twist.py``
        checks one such motion): shoulder-yaw error 43 -> 8 deg RMS, wrist roll 17 -> 2 deg, all joints 18 -> 14
        deg, the hands' root-relative error unchanged (11.6 cm); on CMU 01_01 (mocap) the arm keypoints move 0.3 cm
        on average (1.8 cm at most) and the mean keypoint error is unchanged at 1.2 cm.
    joint_ranges: (name part, low, high) [rad]: the range the IK keeps the joints whose name contains the part
        in, within the G1's own limits (the first match counts). Default: hip yaw within +-1.5 rad. The G1's hip
        yaw reaches +-2.76 rad, far past a person's hip rotation (about +-0.8 rad), and with the pitch, roll and
        yaw of a hip, a yaw near +-pi together with pitch and roll past +-2.5 puts the thigh where a plain hip
        angle does: where a person's leg is out of the G1's reach (a foot crossed behind the other, past the
        hip roll's inward limit) the IK took that branch and kept it. Measured 2026-12-05 on the bundled
        generated video (MimicMotion's turn-around, lifted by genmimic-lift): the right hip at pitch 2.8, roll
        -2.97, yaw 2.75 rad for 82 of 83 frames (the leg turned about itself, the knee bending forwards), mean
        keypoint error 4.9 cm; within +-1.5 rad a plain leg, 4.1 cm. Of 760 corpus and held-out clips, hip yaw
        went past 1.5 rad in 10: the 7 severity-3 jitter clips retargeted before the noise-dependent
        low-pass, a lifted walk with a turn (2.75) and the CMU jumps (2.1, at 20.4 s); +-1.5 leaves a pivot's
        leg room (the G1's foot has no yaw joint, so the hip turns for the whole leg).
    damping: Tikhonov damping of the QP.
    converged_error: a frame whose largest keypoint error exceeds this [m] counts as not converged.
    solver: QP solver; "daqp", the one the IK calls (kept here so the output's meta names it).
    """

    iterations: int = 2
    first_frame_iterations: int = 30
    settle_s: float = 0.5
    posture_cost: float = 1e-2
    posture_joint_costs: tuple[tuple[str, float], ...] = (("shoulder_yaw", 0.1), ("wrist_roll", 0.1))
    joint_ranges: tuple[tuple[str, float, float], ...] = (("hip_yaw", -1.5, 1.5),)
    damping: float = 1e-6
    converged_error: float = 0.05
    solver: str = "daqp"


_UNBOUNDED = 1e30  #: daqp's infinity (qpsolvers' daqp wrapper fills absent bounds with it)


class IKSolution(NamedTuple):
    """Solved joint trajectory. root_pos (T, 3) [m]; root_quat (T, 4) wxyz; dof_pos (T, 29) [rad] SDK
    order."""

    root_pos: np.ndarray
    root_quat: np.ndarray
    dof_pos: np.ndarray


#: Pink's ``ConfigurationLimit`` default gain: a step may cover this fraction of the way to a position limit.
CONFIG_LIMIT_GAIN = 0.5


class _Robot(NamedTuple):
    model: pin.Model
    dof_q_index: np.ndarray  # (29,) positions of the SDK joints in pinocchio's q
    bounded: np.ndarray  # velocity coordinates with position and velocity limits (the actuated joints)
    velocity_limit: np.ndarray  # [rad/s] of those coordinates


@cache
def _robot() -> _Robot:
    model = pin.buildModelFromXML(g1_urdf(), pin.JointModelFreeFlyer())
    dof_q = np.array([model.joints[model.getJointId(n)].idx_q for n in g1.JOINT_NAMES])
    dof_v = np.array([model.joints[model.getJointId(n)].idx_v for n in g1.JOINT_NAMES])
    return _Robot(model, dof_q, dof_v, np.asarray(model.velocityLimit)[dof_v])


class Kinematics:
    """A configuration q (nq,) of the G1 with its forward kinematics: frame placements and joint Jacobians
    (what Pink's ``Configuration`` computes on ``update``; the tasks read ``model``, ``data`` and ``q``)."""

    def __init__(self, model: pin.Model, q: np.ndarray) -> None:
        self.model, self.data = model, model.createData()
        self.update(q)

    def update(self, q: np.ndarray) -> None:
        """Set q and run forward kinematics (joint Jacobians, frame placements)."""
        self.q = np.array(q, dtype=float)
        pin.computeJointJacobians(self.model, self.data, self.q)
        pin.updateFramePlacements(self.model, self.data)

    def integrate_inplace(self, velocity: np.ndarray, dt: float) -> None:
        """Move by ``velocity`` (nv,) [m/s, rad/s] for ``dt`` [s] on the configuration manifold."""
        self.update(pin.integrate(self.model, self.q, velocity * dt))


def pinocchio_q(root_pos: np.ndarray, root_quat_wxyz: np.ndarray, dof_pos: np.ndarray) -> np.ndarray:
    """Pinocchio configuration (nq,) from a root pose and SDK-ordered joint angles."""
    robot = _robot()
    q = np.zeros(robot.model.nq)
    q[:3], q[3:7] = root_pos, xyzw_from_wxyz(root_quat_wxyz)
    q[robot.dof_q_index] = dof_pos
    return q


def joint_ranges(config: IKConfig) -> tuple[np.ndarray, np.ndarray]:
    """(lower, upper) (29,) [rad] the IK keeps the joints (SDK order) in: the G1's limits, narrowed by
    ``config.joint_ranges``'s first match by name part."""
    lower, upper = np.array([j.lower for j in g1.JOINTS]), np.array([j.upper for j in g1.JOINTS])
    for i, name in enumerate(g1.JOINT_NAMES):
        match = next(((lo, hi) for part, lo, hi in config.joint_ranges if part in name), None)
        if match is not None:
            lower[i], upper[i] = max(lower[i], match[0]), min(upper[i], match[1])
    return lower, upper


def posture_costs(config: IKConfig) -> np.ndarray:
    """The posture cost of each of the 29 joints (SDK order) [cost/rad]: ``config.posture_joint_costs``'s first
    match by name part, else ``config.posture_cost``."""
    return np.array([next((cost for part, cost in config.posture_joint_costs if part in name), config.posture_cost)
                     for name in g1.JOINT_NAMES])


class G1IK:
    """Per-frame IK for the keypoints ``links`` (default: the retargeting map).

    Targets are given for every link; links with neither a position nor an orientation cost get no task.
    """

    def __init__(self, config: IKConfig | None = None, links: Sequence = LINKS) -> None:
        self.config = config or IKConfig()
        if self.config.solver != "daqp":
            raise ValueError(f"IK solver {self.config.solver!r} is not supported: the IK calls daqp directly "
                             "(solver='daqp')")
        robot = _robot()
        self._robot = robot
        self.keypoints = tuple(link.keypoint for link in links)
        self._links = tuple(links)
        self._task_index = np.array([k for k, link in enumerate(links)  # the links with a task cost
                                     if link.position_cost > 0 or link.orientation_cost > 0])
        self._costs = np.array([[links[k].position_cost, links[k].orientation_cost] for k in self._task_index],
                               dtype=float).reshape(-1, 2)
        frames = [KEYPOINT_PREFIX + links[k].keypoint for k in self._task_index]
        self.keypoint_tasks = KeypointTasks(robot.model, frames, self._costs[:, 0], self._costs[:, 1])
        self._weight = np.ones(len(self._task_index))
        self._posture_target = pinocchio_q(np.zeros(3), np.array([1.0, 0, 0, 0]), np.array(g1.DEFAULT_DOF_POS))
        nv = robot.model.nv
        self._posture_weight = np.zeros(nv)  # [cost^2/rad^2] in pinocchio's velocity order (the base: none)
        self._posture_weight[robot.dof_q_index - 1] = np.square(posture_costs(self.config))  # 1-DoF joints: v = q - 1
        self._posture_hessian = np.diag(self._posture_weight)
        self._posture_hessian += self.config.damping * np.eye(nv)  # solve_ik's Tikhonov damping
        lower, upper = joint_ranges(self.config)
        self._lower_q, self._upper_q = robot.model.lowerPositionLimit.copy(), robot.model.upperPositionLimit.copy()
        self._lower_q[robot.dof_q_index], self._upper_q[robot.dof_q_index] = lower, upper

    def step(self, configuration: Kinematics, dt: float, velocity_limit: bool = True) -> np.ndarray:
        """One QP step: the joint velocity v (nv,) [rad/s, m/s] that best meets the keypoint and posture
        tasks with ``q + v dt`` within the joint limits and, with ``velocity_limit``, ``|v| <= v_max``.

        Raises:
            RuntimeError: the solver found no solution (Pink's ``NoSolutionFound`` in the same case).
        """
        robot, model, q = self._robot, self._robot.model, configuration.q
        H, c = self.keypoint_tasks.compute_qp_objective(configuration)  # fresh arrays: added to in place
        H += self._posture_hessian
        c += self._posture_weight * pin.difference(model, self._posture_target, q)
        idx = robot.bounded
        lower = np.full(model.nv, -_UNBOUNDED)  # the floating base
        upper = np.full(model.nv, _UNBOUNDED)
        lower[idx] = CONFIG_LIMIT_GAIN * pin.difference(model, q, self._lower_q)[idx]
        upper[idx] = CONFIG_LIMIT_GAIN * pin.difference(model, q, self._upper_q)[idx]
        if velocity_limit:
            lower[idx] = np.maximum(lower[idx], -dt * robot.velocity_limit)
            upper[idx] = np.minimum(upper[idx], dt * robot.velocity_limit)
        return _solve_box_qp(H, c, lower, upper) / dt

    def _solve_frame(self, configuration: Kinematics, positions: np.ndarray, rotations: np.ndarray,
                     weights: np.ndarray | None, t: int, fps: float, first: bool) -> None:
        """Move ``configuration`` to frame ``t``'s targets: ``first_frame_iterations`` unlimited QP steps when
        ``first`` (from the default pose), else ``iterations`` steps within the joints' velocity limits over one
        frame period."""
        cfg = self.config
        keypoints, index = self.keypoint_tasks, self._task_index
        keypoints.set_targets(rotations[t, index], positions[t, index])
        if weights is not None and np.any(weights[t, index] != self._weight):
            self._weight = weights[t, index].astype(float)
            keypoints.set_costs(self._costs[:, 0] * self._weight, self._costs[:, 1] * self._weight)
        iterations = cfg.first_frame_iterations if first else cfg.iterations
        dt = 1.0 if first else 1.0 / (fps * iterations)
        for _ in range(iterations):
            configuration.integrate_inplace(self.step(configuration, dt, velocity_limit=not first), dt)

    def solve(self, positions: np.ndarray, rotations: np.ndarray, fps: float, weights: np.ndarray | None = None,
              progress=None) -> IKSolution:
        """Solve the whole sequence.

        Args:
            positions: (T, K, 3) keypoint targets [m], world frame, in ``self.keypoints`` order.
            rotations: (T, K, 3, 3) keypoint frame orientation targets (used where the cost is > 0).
            fps: frame rate [1/s]; bounds the joint motion between frames by the velocity limits.
            weights: optional (T, K) multipliers of each keypoint's task costs, per frame.
            progress: optional wrapper over the frame range (a progress bar).
        """
        cfg, model = self.config, self._robot.model
        T = positions.shape[0]
        start_quat = quat_from_matrix(rotations[0, 0])
        start_quat = np.array([start_quat[0], 0.0, 0.0, start_quat[3]])  # upright, heading of the target
        start_quat /= np.linalg.norm(start_quat)
        q = pinocchio_q(positions[0, 0], start_quat, np.array(g1.DEFAULT_DOF_POS))
        configuration = Kinematics(model, q)
        qs = np.zeros((T, model.nq))
        frames = range(T) if progress is None else progress(range(T))
        for t in frames:
            self._solve_frame(configuration, positions, rotations, weights, t, fps, first=t == 0)
            qs[t] = configuration.q
        settle = min(T - 1, round(cfg.settle_s * fps))
        if settle > 0:  # the first frames again, backwards from where the forward pass was at their end
            configuration = Kinematics(model, qs[settle].copy())
            for t in range(settle - 1, -1, -1):
                self._solve_frame(configuration, positions, rotations, weights, t, fps, first=False)
                qs[t] = configuration.q
        dof = qs[:, self._robot.dof_q_index]
        return IKSolution(qs[:, :3].copy(), wxyz_from_xyzw(qs[:, 3:7]), dof)


def _solve_box_qp(H: np.ndarray, c: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """argmin 1/2 x^T H x + c^T x subject to lower <= x <= upper (bounds of +-1e30 are none), by daqp.

    Raises:
        RuntimeError: daqp found no solution (Pink's ``NoSolutionFound`` in the same case).
    """
    import daqp

    x, _, exitflag, _ = daqp.solve(H, c, np.zeros((0, len(c))), upper, lower, np.zeros(len(c), dtype=np.intc))
    if exitflag <= 0:
        raise RuntimeError(f"IK: the QP solver daqp found no solution (exit flag {exitflag})")
    return x
