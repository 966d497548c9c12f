"""A sampling-based model-predictive tracker (predictive sampling) in C MuJoCo: no training needed.

Method (predictive sampling, as in MuJoCo MPC, Howell et al. 2022, arXiv 2212.00541): the plan is a set of
joint-target *offsets* around the reference joint angles at ``num_knots`` knots spread over a receding
horizon, linearly interpolated in time. Every ``replan_every`` control steps the controller draws
``num_samples - 1`` Gaussian perturbations of the current plan (per-joint noise, larger on the legs), keeps
the unperturbed plan as sample 0 and the reference itself (zero offsets) as sample 1, rolls every sample out
from the robot's current state in C MuJoCo (``mujoco.rollout`` on a persistent thread pool, one ``MjData`` per
thread), scores the rollouts with :func:`tracking_cost` and keeps the cheapest. The next plan is warm-started
from it, shifted in time. Because sample 0 is the previous plan, the chosen plan's cost never exceeds the
nominal's.

The cost is built from the policy's reward terms (:mod:`genmimic.policy.rewards`: ``keypoint_local``,
``keypoint_global``, ``root_orientation``, ``root_height`` as ``-scale * log(reward)``; ``torque`` and
``joint_limit`` with their penalty scales; the fall test ``fallen``), plus what balance needs and the
reward does not say: pelvis linear velocity tracking and the capture point (centre of mass plus velocity
over the pendulum frequency) relative to the middle of the ankles, matched to the reference's, with a
terminal weight on the last frame of the horizon.

The planning model is the project's G1 (same actuators and PD gains as the policy's environment,
:data:`~genmimic.core.g1_constants.TRACKING_GAINS`) with a 10 ms step inside the horizon, plus
position sensors on the keypoint sites, the whole-body centre of mass and actuator-force sensors.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from dataclasses import dataclass
from typing import Any, NamedTuple

import mujoco
import numpy as np
from mujoco import rollout as mj_rollout

from genmimic.core import g1_constants as g1
from genmimic.core.g1_model import KEYPOINT_PREFIX, g1_mjcf, joint_dof_indices, joint_qpos_indices

from . import rewards as rw
from .config import EnvConfig
from .controllers import RobotState
from .errors import PolicyError
from .reference import ReferenceMotion

LEG_JOINTS = frozenset(i for i, n in enumerate(g1.JOINT_NAMES) if any(k in n for k in ("hip", "knee", "ankle")))
_STATE = mujoco.mjtState.mjSTATE_FULLPHYSICS


@dataclass(frozen=True)
class MPCConfig:
    """Settings of :class:`MPCController` (defaults: the settings the README's figures were measured with).

    horizon_s [s]: planning horizon (0.4 s fails, 0.8-1.0 s holds the robot up). plan_dt [s]: physics
    step inside the horizon. num_samples: rollouts per plan (sample 0 is the nominal plan). num_knots:
    spline knots over the horizon. noise_legs, noise_other [rad]: sampling std of the offsets.
    control_period_s [s]: the controller's period; replan_every: control steps between plans.
    threads: rollout threads. cost_stride: score every ``cost_stride * plan_dt`` [s]. seed: sampling seed.
    far_dt [s]: physics step after the first ``near_s`` [s] of the horizon (0: ``plan_dt`` throughout); the
    far part is rolled out by a second ``mujoco.rollout`` call from the near part's end states.
    iterations: sampling rounds per plan, each around the best plan so far with the noise multiplied by
    ``anneal`` per round (annealed sampling as in DIAL-MPC, Xue et al. 2024, arXiv 2409.15610); the compute
    per plan is ``iterations * num_samples`` rollouts.
    zero_sample: the first round's sample 1 is the reference itself (offsets 0), so a warm start that has
    drifted (the offsets random-walk where the cost is flat) is dropped as soon as the reference beats it.
    feedback_s [s]: the first part of every rollout (and the executed control) adds a balance feedback to
    the plan: ankle pitch and roll offsets of ``feedback_gain`` [rad/m] times the pelvis capture-point error
    against the reference's, in the heading frame (an ankle strategy; :func:`balance_feedback`); those
    steps are stepped in Python (``mujoco.rollout`` is open loop), the rest by ``mujoco.rollout``. 0: off.
    """

    horizon_s: float = 0.8
    plan_dt: float = 0.01
    num_samples: int = 32
    num_knots: int = 3
    noise_legs: float = 0.1
    noise_other: float = 0.05
    control_period_s: float = 0.02
    replan_every: int = 1
    threads: int = 2
    cost_stride: int = 2
    seed: int = 0
    far_dt: float = 0.0
    near_s: float = 0.4
    iterations: int = 2
    anneal: float = 0.5
    feedback_s: float = 0.0
    feedback_gain: float = 5.0
    zero_sample: bool = True

    def check(self) -> None:
        """Raise :class:`PolicyError` naming a setting that cannot work."""
        if self.horizon_s < 2 * self.plan_dt or self.plan_dt <= 0:
            raise PolicyError(f"MPC horizon {self.horizon_s} s must span at least two planning steps of "
                              f"{self.plan_dt} s (use --horizon 0.8)")
        if (self.num_samples < 1 or self.num_knots < 2 or self.replan_every < 1 or self.threads < 1
                or self.iterations < 1):
            raise PolicyError(f"MPC needs samples >= 1, knots >= 2, replan_every >= 1, threads >= 1, "
                              f"iterations >= 1; got {self.num_samples}, {self.num_knots}, {self.replan_every}, "
                              f"{self.threads}, {self.iterations}")


@dataclass(frozen=True)
class CostWeights:
    """Weights of the MPC's own cost terms, and where it weighs a reward term differently from the reward.

    keypoint_global: multiplies the reward's ``keypoint_global`` scale (world keypoints keep the robot where
    the reference is and its feet planted; the reward leaves that to the local term). feet_slip: weight of
    the reward's ``feet_slip`` term [1/(m/s)^2]. fall: per fallen frame. root_velocity [1/(m/s)^2]:
    horizontal pelvis velocity error. com [1/m^2]: horizontal capture point relative to the midpoint of
    the ankles, against the reference's. support [1/m^2]: horizontal distance of the capture point from the
    robot's own support (the segment between the centres of the feet on the floor, or the one stance foot;
    nothing in flight): balance that does not rely on the reference's centre of mass being right (the
    procedural stepping clips keep it between the feet in single support). terminal: extra weight of the
    last scored frame.
    """

    keypoint_global: float = 10.0
    feet_slip: float = 1.0
    fall: float = 50.0
    root_velocity: float = 0.3
    com: float = 5.0
    terminal: float = 5.0
    support: float = 10.0


class PlanFrames(NamedTuple):
    """Rolled-out robot at scored planning steps, leading axes (N samples, H steps): what the cost reads.

    qpos (N, H, 36); qvel (N, H, 35); keypoints (N, H, 19, 3) world [m]; torque (N, H, 29) [Nm];
    com (N, H, 3) whole-body centre of mass, world [m].
    """

    qpos: np.ndarray
    qvel: np.ndarray
    keypoints: np.ndarray
    torque: np.ndarray
    com: np.ndarray


class PlanReference(NamedTuple):
    """The reference at the same steps (H leading): root_pos (H, 3), root_quat (H, 4), dof_pos (H, 29),
    keypoints (H, 19, 3), root_lin_vel (H, 3) world [m/s], com (H, 3) whole-body centre of mass [m]."""

    root_pos: np.ndarray
    root_quat: np.ndarray
    dof_pos: np.ndarray
    keypoints: np.ndarray
    root_lin_vel: np.ndarray
    com: np.ndarray


def capture_point(com: np.ndarray, com_vel: np.ndarray, height: float = 0.7) -> np.ndarray:
    """Horizontal instantaneous capture point (..., 2) [m]: ``com + v / w0``, ``w0 = sqrt(g / height)``
    (linear inverted pendulum; Pratt et al. 2006). ``com``, ``com_vel`` (..., 3) world [m], [m/s]; the
    pelvis velocity stands in for the centre of mass's."""
    return com[..., :2] + com_vel[..., :2] / np.sqrt(9.81 / height)


_FEET = tuple((g1.KEYPOINT_NAMES.index(f"{s}_ankle"), g1.KEYPOINT_NAMES.index(f"{s}_toe")) for s in ("left", "right"))
_ANKLE_ABOVE_SOLE = 0.03 + g1.FOOT_SPHERE_RADIUS  # ankle keypoint over the sole of a flat foot [m]
_ON_FLOOR = 0.02  # a sole lower than this is on the floor [m]
SUPPORT_RADIUS = 0.03  #: half the sole's width (contact spheres at y = +-0.025..0.03 m): inside is supported [m]


def support_distance(point: np.ndarray, keypoints: np.ndarray) -> np.ndarray:
    """Horizontal distance (...,) [m] of ``point`` (..., 2) from the support of a robot with keypoints
    (..., 19, 3), approximated as the segment between the centres (mid ankle-toe) of both feet when both
    soles are under 2 cm, or the centre of the one foot on the floor, widened by :data:`SUPPORT_RADIUS`
    (0 inside); 0 in flight. World frame, z-up."""
    centres, down = [], []
    for ankle, toe in _FEET:
        centres.append(0.5 * (keypoints[..., ankle, :2] + keypoints[..., toe, :2]))
        sole = np.minimum(keypoints[..., ankle, 2] - _ANKLE_ABOVE_SOLE, keypoints[..., toe, 2] - g1.FOOT_SPHERE_RADIUS)
        down.append(sole < _ON_FLOOR)
    a, b = centres
    ab = b - a
    u = np.clip(np.sum((point - a) * ab, -1) / np.maximum(np.sum(ab * ab, -1), 1e-9), 0.0, 1.0)
    both = np.linalg.norm(point - (a + u[..., None] * ab), axis=-1)
    left, right = np.linalg.norm(point - a, axis=-1), np.linalg.norm(point - b, axis=-1)
    dist = np.where(down[0] & down[1], both, np.where(down[0], left, np.where(down[1], right, 0.0)))
    return np.maximum(dist - SUPPORT_RADIUS, 0.0)


_ANKLE_PITCH = np.array([g1.JOINT_NAMES.index(f"{s}_ankle_pitch_joint") for s in ("left", "right")])
_ANKLE_ROLL = np.array([g1.JOINT_NAMES.index(f"{s}_ankle_roll_joint") for s in ("left", "right")])
FEEDBACK_LIMIT = (0.3, 0.15)  #: largest ankle pitch, roll offsets of the balance feedback [rad]


def balance_feedback(root_pos: np.ndarray, root_quat: np.ndarray, root_lin_vel: np.ndarray, ref_pos: np.ndarray,
                     ref_vel: np.ndarray, gain: float) -> np.ndarray:
    """Joint-target offsets (29,) [rad] of an ankle balance strategy: the pelvis capture point
    (:func:`capture_point` of the pelvis position (3,) [m] and world velocity (3,) [m/s]) minus the
    reference's, turned into the heading frame of ``root_quat`` (wxyz), times ``gain`` [rad/m] on both
    ankles' pitch (error ahead: toes pressed down, the shanks pushed back) and roll (error to the left:
    the body pushed right), within :data:`FEEDBACK_LIMIT`."""
    e = capture_point(root_pos, root_lin_vel) - capture_point(ref_pos, ref_vel)
    w, x, y, z = root_quat
    yaw = np.arctan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))
    c, s = np.cos(yaw), np.sin(yaw)
    ahead, left = c * e[0] + s * e[1], -s * e[0] + c * e[1]
    delta = np.zeros(g1.NUM_DOF)
    delta[_ANKLE_PITCH] = np.clip(gain * ahead, -FEEDBACK_LIMIT[0], FEEDBACK_LIMIT[0])
    delta[_ANKLE_ROLL] = np.clip(-gain * left, -FEEDBACK_LIMIT[1], FEEDBACK_LIMIT[1])
    return delta


def _nll(reward: np.ndarray) -> np.ndarray:
    """``-log`` of an ``exp(-err / sigma^2)`` reward term: the quadratic error ``err / sigma^2`` itself, which,
    unlike ``1 - reward``, keeps ranking samples far from the reference."""
    return -np.log(np.maximum(reward, 1e-30))


def tracking_cost(frames: PlanFrames, ref: PlanReference, cfg: EnvConfig, qpos_idx: np.ndarray,
                  qvel_idx: np.ndarray, weights: CostWeights = CostWeights(), step_s: float = 0.02) -> np.ndarray:
    """Cost (N,) of N rolled-out plans: the sum over steps of the policy's reward terms as penalties
    (:mod:`genmimic.policy.rewards`, scales of ``cfg.reward_scales``; the exponential tracking terms as their
    negative logarithm, i.e. the weighted squared errors over sigma^2) plus fall, root velocity and
    capture-point terms (:class:`CostWeights`); the last step weighs ``1 + weights.terminal``. ``frames`` are
    ``step_s`` [s] apart (foot velocities for ``feet_slip`` are differences of consecutive frames).

    A robot exactly in the reference state costs only its torque term, the minimum of the tracking terms.
    """
    s = cfg.reward_scales
    previous = np.concatenate([frames.keypoints[:, :1], frames.keypoints[:, :-1]], axis=1)  # one scored step back
    robot = rw.robot_frame(np, frames.qpos, frames.qvel, frames.keypoints, frames.torque, previous,
                           dataclasses.replace(cfg, ctrl_dt=step_s), qpos_idx, qvel_idx)
    goal = rw.RefFrame(ref.root_pos, ref.root_quat, ref.dof_pos, ref.keypoints)
    per_step = (s.keypoint_local * _nll(rw.keypoint_local(np, robot, goal, cfg))
                + weights.keypoint_global * s.keypoint_global * _nll(rw.keypoint_global(np, robot, goal, cfg))
                + weights.feet_slip * rw.feet_slip(np, robot)
                + s.root_orientation * _nll(rw.root_orientation(np, robot, goal, cfg))
                + s.root_height * _nll(rw.root_height(np, robot, goal, cfg))
                - s.torque * rw.torque(np, robot) - s.joint_limit * rw.joint_limit(np, robot)
                + weights.fall * rw.fallen(np, robot, goal, cfg))
    vel = frames.qvel[..., 0:3] - ref.root_lin_vel
    per_step = per_step + weights.root_velocity * np.sum(vel[..., :2] ** 2, -1)
    ankles = [g1.KEYPOINT_NAMES.index("left_ankle"), g1.KEYPOINT_NAMES.index("right_ankle")]
    cp = capture_point(frames.com, frames.qvel[..., 0:3]) - frames.keypoints[..., ankles, :2].mean(-2)
    cp_ref = capture_point(ref.com, ref.root_lin_vel) - ref.keypoints[..., ankles, :2].mean(-2)
    per_step = per_step + weights.com * np.sum((cp - cp_ref) ** 2, -1)
    if weights.support:
        cp_world = capture_point(frames.com, frames.qvel[..., 0:3])
        per_step = per_step + weights.support * support_distance(cp_world, frames.keypoints) ** 2
    w = np.ones(per_step.shape[-1])
    w[-1] += weights.terminal
    return per_step @ w


def planning_model(plan_dt: float, gains: g1.PDGains = g1.TRACKING_GAINS) -> mujoco.MjModel:
    """The project's G1 with ``plan_dt`` [s] steps and extra sensors: keypoint site positions
    (``kp_<name>``, 19 x 3), whole-body centre of mass (``com``) and actuator forces (``tau_<joint>``)."""
    spec = mujoco.MjSpec.from_string(g1_mjcf(gains))
    for name in g1.KEYPOINT_NAMES:
        spec.add_sensor(name=f"kp_{name}", type=mujoco.mjtSensor.mjSENS_FRAMEPOS,
                        objtype=mujoco.mjtObj.mjOBJ_SITE, objname=KEYPOINT_PREFIX + name)
    spec.add_sensor(name="com", type=mujoco.mjtSensor.mjSENS_SUBTREECOM, objtype=mujoco.mjtObj.mjOBJ_BODY,
                    objname="pelvis")
    model = spec.compile()
    model.opt.timestep = plan_dt
    return model


def _sensor_slice(model: mujoco.MjModel, first: str, count: int, dim: int) -> slice:
    start = int(model.sensor(first).adr[0])
    return slice(start, start + count * dim)


class MPCController:
    """Predictive-sampling MPC as a :class:`~genmimic.policy.controllers.Controller` (registered as "mpc").

    ``act`` needs the full simulator state (``RobotState.qpos``/``qvel``: it assumes state estimation).
    ``progress``: show a progress bar with the real-time factor on stderr when it is a terminal.
    Attributes after a run: ``stats`` (plans, rollout steps, wall time [s]).
    """

    name = "mpc"

    @property
    def description(self) -> str:
        """What ``track`` says it tracks with, e.g. "the sampling MPC (2 x 32 rollouts per plan, 0.8 s ahead)"."""
        c = self.config
        return f"the sampling MPC ({c.iterations} x {c.num_samples} rollouts per plan, {c.horizon_s:g} s ahead)"

    def __init__(self, config: MPCConfig | None = None, weights: CostWeights | None = None,
                 env: EnvConfig | None = None, progress: bool = False) -> None:
        self.config = config or MPCConfig()
        self.config.check()
        self.weights, self.env = weights or CostWeights(), env or EnvConfig()
        self.gains = g1.TRACKING_GAINS
        self.control_period_s = self.config.control_period_s
        c = self.config
        self.model = planning_model(c.plan_dt, self.gains)
        self.model_far = planning_model(c.far_dt, self.gains) if c.far_dt > 0 else None
        if self.model_far is None or c.near_s >= c.horizon_s:
            near, far = max(2, round(c.horizon_s / c.plan_dt)), 0
        else:
            near, far = max(1, round(c.near_s / c.plan_dt)), max(1, round((c.horizon_s - c.near_s) / c.far_dt))
        self._near = near
        self.steps = near + far
        dts = np.array([c.plan_dt] * near + [c.far_dt] * far)
        starts = np.concatenate([[0.0], np.cumsum(dts)])  # starts[k]: time of state k (before step k)
        self._start_t = starts
        stride = c.cost_stride * c.plan_dt  # score on this grid: sensors of step k are at starts[k]
        on_grid = np.abs(starts / stride - np.round(starts / stride)) < 1e-6
        ks = np.flatnonzero(on_grid[: self.steps])
        ks = ks[ks >= 1]
        if not len(ks) or ks[-1] != self.steps - 1:
            ks = np.append(ks, self.steps - 1)
        self._score_k = ks
        self._fb_steps = min(near, round(c.feedback_s / c.plan_dt)) if c.feedback_s > 0 else 0
        self.qpos_idx, self.qvel_idx = joint_qpos_indices(self.model), joint_dof_indices(self.model)
        self._kp = _sensor_slice(self.model, f"kp_{g1.KEYPOINT_NAMES[0]}", len(g1.KEYPOINT_NAMES), 3)
        self._com = _sensor_slice(self.model, "com", 1, 3)
        self._scratch = mujoco.MjData(self.model)
        self._pelvis = self.model.body("pelvis").id
        self._datas = [mujoco.MjData(self.model) for _ in range(c.threads)]
        self._pool: mj_rollout.Rollout | None = None
        self._sigma = np.array([c.noise_legs if j in LEG_JOINTS else c.noise_other for j in range(g1.NUM_DOF)])
        self._knot_t = np.linspace(0.0, c.horizon_s, c.num_knots)
        self._step_t = starts[: self.steps]
        hold = np.floor(self._step_t / c.control_period_s + 1e-9) * c.control_period_s  # piecewise-constant
        self._hold_t = hold
        self._w = self._interp_weights(hold)
        self._lower = np.array([j.lower for j in g1.JOINTS])
        self._upper = np.array([j.upper for j in g1.JOINTS])
        self.progress = progress
        self._ref: ReferenceMotion | None = None
        self.stats = {"plans": 0, "rollout_steps": 0, "wall_s": 0.0, "sim_s": 0.0}

    # ------------------------------------------------------------------ pieces
    def _interp_weights(self, t: np.ndarray) -> np.ndarray:
        """(len(t), K) linear-interpolation weights of the knots at times ``t`` (held past the last knot)."""
        k = self._knot_t
        t = np.clip(t, k[0], k[-1])
        i = np.clip(np.searchsorted(k, t, side="right") - 1, 0, len(k) - 2)
        a = (t - k[i]) / (k[i + 1] - k[i])
        w = np.zeros((len(t), len(k)))
        w[np.arange(len(t)), i] = 1 - a
        w[np.arange(len(t)), i + 1] += a
        return w

    def reference_at(self, times: np.ndarray) -> PlanReference:
        """The reference at ``times`` [s] from its start (linear). A horizon that runs past the clip's last
        frame holds that frame, at rest (its velocity 0: the held pose does not move), never extrapolates or
        wraps; times before the start hold the first frame."""
        r = self._ref
        if r is None:
            raise PolicyError("MPCController used before reset")
        raw = np.asarray(times, float) / r.dt
        x = np.clip(raw, 0, r.num_frames - 1)
        i0 = np.minimum(np.floor(x).astype(int), r.num_frames - 2)
        a = (x - i0)[:, None]

        def lerp(v: np.ndarray) -> np.ndarray:
            aa = a.reshape(a.shape + (1,) * (v.ndim - 2))
            return (1 - aa) * v[i0] + aa * v[i0 + 1]

        q = lerp(r.root_quat)
        q /= np.linalg.norm(q, axis=-1, keepdims=True)
        moving = (raw <= r.num_frames - 1 + 1e-9)[:, None]
        return PlanReference(lerp(r.root_pos), q, lerp(r.dof_pos), lerp(r.keypoints),
                             np.where(moving, lerp(r.root_lin_vel), 0.0), lerp(self._ref_com))

    def reference_com(self, reference: ReferenceMotion) -> np.ndarray:
        """Whole-body centre of mass (T, 3) [m] of every reference frame (MuJoCo kinematics)."""
        d, com = self._scratch, np.empty((reference.num_frames, 3))
        for t in range(reference.num_frames):
            d.qpos[0:3], d.qpos[3:7], d.qpos[self.qpos_idx] = (reference.root_pos[t], reference.root_quat[t],
                                                              reference.dof_pos[t])
            mujoco.mj_fwdPosition(self.model, d)
            com[t] = d.subtree_com[self._pelvis]
        return com

    def _pool_get(self) -> mj_rollout.Rollout:
        if self._pool is None:
            self._pool = mj_rollout.Rollout(nthread=self.config.threads)
        return self._pool

    def close(self) -> None:
        """Stop the rollout threads (also done when the controller is garbage-collected)."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def __del__(self) -> None:  # pragma: no cover - interpreter teardown order varies
        try:  # noqa: SIM105 - contextlib may already be gone at interpreter exit
            self.close()
        except Exception:
            pass

    def initial_state(self, qpos: np.ndarray, qvel: np.ndarray, time_s: float) -> np.ndarray:
        d = self._scratch
        d.qpos[:], d.qvel[:], d.time = qpos, qvel, time_s
        state = np.empty(mujoco.mj_stateSize(self.model, _STATE))
        mujoco.mj_getState(self.model, d, state, _STATE)
        return state

    def controls(self, offsets: np.ndarray, t0: float) -> np.ndarray:
        """Joint targets (N, H, 29) [rad] of plans ``offsets`` (N, K, 29) starting at time ``t0`` [s]:
        the reference one control period ahead plus the interpolated offsets, within the joint limits."""
        ref = self.reference_at(t0 + self._hold_t + self.control_period_s).dof_pos
        u = ref[None] + np.einsum("hk,nkj->nhj", self._w, offsets)
        return np.clip(u, self._lower, self._upper)

    def evaluate(self, offsets: np.ndarray, qpos: np.ndarray, qvel: np.ndarray, t0: float) -> np.ndarray:
        """Roll out plans ``offsets`` (N, K, 29) from the state (``qpos``, ``qvel``) at time ``t0`` [s];
        their costs (N,) by :func:`tracking_cost`."""
        state0 = self.initial_state(qpos, qvel, t0)
        ctrl = self.controls(offsets, t0)
        n = offsets.shape[0]
        pool, near, nfb = self._pool_get(), self._near, self._fb_steps
        if nfb:  # the balance feedback's steps in Python, then open loop from where they end
            fb_states, fb_sensors = self._feedback_rollout(state0, ctrl, t0)
            states, sensors = pool.rollout(self.model, self._datas, fb_states[:, -1], ctrl[:, nfb:near],
                                           nstep=near - nfb) if near > nfb else (fb_states[:, :0], fb_sensors[:, :0])
            states = np.concatenate([fb_states, states], 1)
            sensors = np.concatenate([fb_sensors, sensors], 1)
        else:
            states, sensors = pool.rollout(self.model, self._datas, state0[None], ctrl[:, :near], nstep=near)
        if self.steps > near:  # the far part, with the longer step, from where the near part ended
            far_states, far_sensors = pool.rollout(self.model_far, self._datas, states[:, -1], ctrl[:, near:],
                                                   nstep=self.steps - near)
            states = np.concatenate([states, far_states], 1)
            sensors = np.concatenate([sensors, far_sensors], 1)
        self.stats["rollout_steps"] += n * self.steps
        # sensordata[k] is computed from the state before step k, i.e. states[k - 1]; score k >= 1
        ks = self._score_k
        nq, nv = self.model.nq, self.model.nv
        st = states[:, ks - 1]
        sd = sensors[:, ks]
        frames = PlanFrames(qpos=st[..., 1:1 + nq], qvel=st[..., 1 + nq:1 + nq + nv],
                            keypoints=sd[..., self._kp].reshape(n, len(ks), len(g1.KEYPOINT_NAMES), 3),
                            torque=self._torque(st[..., 1:1 + nq], st[..., 1 + nq:1 + nq + nv], ctrl[:, ks - 1]),
                            com=sd[..., self._com])
        ref = self.reference_at(t0 + self._start_t[ks])
        return tracking_cost(frames, ref, self.env, self.qpos_idx, self.qvel_idx, self.weights,
                             self.config.cost_stride * self.config.plan_dt)

    def feedback(self, qpos: np.ndarray, qvel: np.ndarray, t: float) -> np.ndarray:
        """The balance feedback's offsets (29,) [rad] at the state (``qpos``, ``qvel``) at time ``t`` [s]
        (:func:`balance_feedback` against the reference at ``t``); zeros when ``feedback_s`` is 0."""
        if not self._fb_steps:
            return np.zeros(g1.NUM_DOF)
        ref = self.reference_at(np.array([t]))
        return balance_feedback(qpos[0:3], qpos[3:7], qvel[0:3], ref.root_pos[0], ref.root_lin_vel[0],
                                self.config.feedback_gain)

    def _feedback_rollout(self, state0: np.ndarray, ctrl: np.ndarray, t0: float) -> tuple[np.ndarray, np.ndarray]:
        """The first ``feedback_s`` of every plan stepped in Python with the balance feedback added to the
        controls ``ctrl`` (N, H, 29), held per control period as the executed control is; ``ctrl`` is
        updated in place. States (N, F, nstate) and sensors (N, F, nsensor) as ``mujoco.rollout`` gives."""
        m, d, nfb, gain = self.model, self._scratch, self._fb_steps, self.config.feedback_gain
        n = ctrl.shape[0]
        states = np.empty((n, nfb, mujoco.mj_stateSize(m, _STATE)))
        sensors = np.empty((n, nfb, m.nsensordata))
        new_period = np.abs(self._step_t[:nfb] - self._hold_t[:nfb]) < 1e-9
        ref = self.reference_at(t0 + self._step_t[:nfb])
        for i in range(n):
            mujoco.mj_setState(m, d, state0, _STATE)
            for k in range(nfb):
                if new_period[k]:
                    delta = balance_feedback(d.qpos[0:3], d.qpos[3:7], d.qvel[0:3], ref.root_pos[k],
                                             ref.root_lin_vel[k], gain)
                ctrl[i, k] = np.clip(ctrl[i, k] + delta, self._lower, self._upper)
                d.ctrl[:] = ctrl[i, k]
                mujoco.mj_step(m, d)
                mujoco.mj_getState(m, d, states[i, k], _STATE)
                sensors[i, k] = d.sensordata
        return states, sensors

    def _torque(self, qpos: np.ndarray, qvel: np.ndarray, ctrl: np.ndarray) -> np.ndarray:
        kp, kd = np.asarray(self.gains.kp), np.asarray(self.gains.kd)
        return kp * (ctrl - qpos[..., self.qpos_idx]) - kd * qvel[..., self.qvel_idx]

    def plan(self, qpos: np.ndarray, qvel: np.ndarray, t0: float) -> tuple[np.ndarray, float, float]:
        """One plan from the current nominal plan: ``config.iterations`` predictive-sampling rounds, each
        around the best plan so far (which it keeps as its sample 0) with the noise annealed by
        ``config.anneal``, the first also with the reference itself (zero offsets) as its sample 1 when
        ``config.zero_sample``; (best offsets (K, 29) [rad], its cost, the nominal's cost). Updates the
        nominal plan to the best sample."""
        c = self.config
        best_plan, best_cost, nominal_cost, scale = self._nominal, np.inf, np.nan, 1.0
        for round_ in range(c.iterations):
            noise = self._rng.normal(size=(c.num_samples - 1, c.num_knots, g1.NUM_DOF)) * (scale * self._sigma)
            noise[..., 0, :] *= 0.5  # the first knot acts now: smaller changes there
            cand = np.concatenate([best_plan[None], best_plan[None] + noise], 0)
            if c.zero_sample and round_ == 0 and c.num_samples > 1:
                cand[1] = 0.0  # the reference itself: a way back from offsets the warm start has drifted into
            costs = self.evaluate(cand, qpos, qvel, t0)
            if np.isnan(nominal_cost):
                nominal_cost = float(costs[0])
            best = int(np.argmin(costs))
            if costs[best] <= best_cost:
                best_plan, best_cost = cand[best], float(costs[best])
            scale *= c.anneal
        self._nominal = best_plan
        self.stats["plans"] += 1
        return self._nominal, best_cost, nominal_cost

    def _shift(self, dt: float) -> None:
        """Warm start: the nominal plan moved ``dt`` [s] earlier (held at its last knot)."""
        self._nominal = self._interp_weights(self._knot_t + dt) @ self._nominal

    # ------------------------------------------------------------------ Controller
    def reset(self, reference: ReferenceMotion) -> None:
        if abs(reference.dt - self.control_period_s) > 1e-9:
            raise PolicyError(f"MPC reference has period {reference.dt} s, expected {self.control_period_s} s")
        self._ref = reference
        self._ref_com = self.reference_com(reference)
        self._nominal = np.zeros((self.config.num_knots, g1.NUM_DOF))
        self._rng = np.random.default_rng(self.config.seed)
        self._since = self.config.replan_every
        self.stats = {"plans": 0, "rollout_steps": 0, "wall_s": 0.0, "sim_s": 0.0}
        self._bar = _RealTimeBar(reference.num_frames - 1, reference.dt) if self.progress else None

    def act(self, state: RobotState) -> np.ndarray:
        if self._ref is None:
            raise PolicyError("MPCController.act called before reset")
        start = time.perf_counter()
        t0 = state.t * self.control_period_s
        if state.t > 0:
            self._shift(self.control_period_s)
        if self._since >= self.config.replan_every:
            self.plan(np.asarray(state.qpos, float), np.asarray(state.qvel, float), t0)
            self._since = 0
        self._since += 1
        target = self.controls(self._nominal[None], t0)[0, 0]
        if self._fb_steps:
            target = np.clip(target + self.feedback(np.asarray(state.qpos, float), np.asarray(state.qvel, float), t0),
                             self._lower, self._upper)
        self.stats["wall_s"] += time.perf_counter() - start
        self.stats["sim_s"] += self.control_period_s
        if self._bar is not None:
            self._bar.advance(self.stats["wall_s"] / max(self.stats["sim_s"], 1e-9))
            if state.t >= self._ref.num_frames - 2:
                self._bar.close()
        return target


class _RealTimeBar:
    """A progress bar with the real-time factor (wall time / simulated time) on stderr, terminal only."""

    def __init__(self, total: int, dt: float) -> None:
        self._bar = self._task = None
        if not sys.stderr.isatty():
            return
        from rich.console import Console
        from rich.progress import Progress

        self._bar = Progress(console=Console(stderr=True), transient=True)
        self._bar.start()
        self._task = self._bar.add_task("MPC", total=total)

    def advance(self, rtf: float) -> None:
        if self._bar is not None:
            self._bar.update(self._task, advance=1, description=f"MPC {rtf:.1f}x real time")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


MPC_OPTIONS = ("horizon_s", "num_samples", "num_knots", "seed", "threads", "replan_every")


def make_mpc(progress: bool = False, **options: Any) -> MPCController:
    """The registry's factory: :class:`MPCController` with :class:`MPCConfig` fields from ``options``
    (None values and options of other controllers are ignored); threads default to the CPU count (at most 8)."""
    known = {f.name for f in dataclasses.fields(MPCConfig)}
    chosen = {k: v for k, v in options.items() if k in known and v is not None}
    chosen.setdefault("threads", max(1, min(8, os.cpu_count() or 1)))
    return MPCController(MPCConfig(**chosen), progress=progress)
