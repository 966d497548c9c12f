"""The 50 Hz controller: wait for state, move to the clip's first pose, track it with the policy, hold,
then damp. Safety is always on (see :mod:`.safety`); any fault puts the robot in damping mode in the
same control period. :meth:`Controller.step` is a pure function of the state it is given and the
controller's own explicit state, so it is tested without DDS.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from genmimic.core import g1_constants as g1
from genmimic.core.clips import G1Clip
from genmimic.core.rotations import quat_multiply, yaw_from_quat
from genmimic.policy.observation import StudentObservationBuilder
from genmimic.policy.reference import ReferenceMotion, reference_from_clip

from .errors import DeployError
from .messages import Command, RobotState
from .policy_runner import OnnxPolicy
from .safety import Fault, SafetyConfig, clamp_targets, clip_within_limits, fallen, limit_torque


class Phase(enum.IntEnum):
    WAIT = 0
    PREPARE = 1
    TRACK = 2
    HOLD = 3
    DAMP = 4
    DONE = 5


@dataclass(frozen=True)
class ControllerConfig:
    """prepare_s: time to move from the current pose to the clip's first pose [s] (stiff hold gains).
    hold_s: time the policy keeps the clip's last pose after the clip ends [s].
    damp_s: time in damping mode before the controller stops [s]."""

    prepare_s: float = 3.0
    hold_s: float = 2.0
    damp_s: float = 1.0
    safety: SafetyConfig = field(default_factory=SafetyConfig)


class StepInfo(NamedTuple):
    """What one control step did (for the log)."""

    phase: Phase
    obs: np.ndarray | None
    action: np.ndarray | None
    clamped: int
    torque_limited: int
    fault: Fault | None


def rotate_reference(ref: ReferenceMotion, yaw: float) -> ReferenceMotion:
    """The reference turned by ``yaw`` [rad] about the world z axis (through the origin)."""
    c, s = np.cos(yaw), np.sin(yaw)
    rz = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    q = np.array([np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)])
    return ref._replace(root_pos=ref.root_pos @ rz.T, keypoints=ref.keypoints @ rz.T,
                        root_quat=quat_multiply(q, ref.root_quat), root_lin_vel=ref.root_lin_vel @ rz.T)


class Controller:
    """One run of one clip. Build it (the clip is checked here, before anything is published), then call
    :meth:`step` once per control period with the latest state and its age [s]."""

    def __init__(self, policy: OnnxPolicy, clip: G1Clip, config: ControllerConfig | None = None,
                 source: str = "clip") -> None:
        ok, why = clip_within_limits(clip.dof_pos)
        if not ok:
            raise DeployError(f"{source}: refused, the clip leaves the joint limits: {why}")
        self.policy, self.config = policy, config or ControllerConfig()
        self.period = policy.control_period
        self.reference = reference_from_clip(clip, self.period, source)
        obs_meta = policy.meta["observation"]
        self._history, self._future = int(obs_meta["history"]), tuple(obs_meta["future_frames"])
        self.builder: StudentObservationBuilder | None = None
        self.phase = Phase.WAIT
        self.fault: Fault | None = None
        self._k = 0  # steps in the current phase
        self._q_start = np.zeros(g1.NUM_DOF)
        self._last_action = np.zeros(g1.NUM_DOF)
        self._hold_gains = (np.asarray(g1.HOLD_GAINS.kp), np.asarray(g1.HOLD_GAINS.kd))
        self.track_start_tick: int | None = None

    def _enter(self, phase: Phase) -> None:
        self.phase, self._k = phase, 0

    def _damping(self, state: RobotState) -> Command:
        z = np.zeros(g1.NUM_DOF)
        return Command(state.q.copy(), z, z, z, np.full(g1.NUM_DOF, self.config.safety.damping_kd))

    def interrupt(self) -> None:
        """Ctrl-C: damping from the next step on."""
        if self.phase < Phase.DAMP:
            self.fault = Fault.INTERRUPT
            self._enter(Phase.DAMP)

    @property
    def done(self) -> bool:
        return self.phase == Phase.DONE

    def step(self, state: RobotState | None, state_age: float) -> tuple[Command | None, StepInfo]:
        """The command for this control period (None: publish nothing), and what happened."""
        cfg = self.config
        none = StepInfo(self.phase, None, None, 0, 0, None)
        if self.phase == Phase.DONE:
            return None, none
        if state is None:  # never heard from the robot: nothing to command yet
            return None, none
        fault = None
        if self.phase < Phase.DAMP:
            if state_age > cfg.safety.stale_periods * self.period:
                fault = Fault.STALE_STATE
            elif fallen(state.imu_quat, cfg.safety):
                fault = Fault.FALL
        if fault is not None:
            self.fault = fault
            self._enter(Phase.DAMP)
        if self.phase == Phase.WAIT:
            self._q_start = state.q.copy()
            self._enter(Phase.PREPARE)
        if self.phase == Phase.PREPARE:
            steps = max(1, round(cfg.prepare_s / self.period))
            a = min(1.0, (self._k + 1) / steps)
            w = 0.5 * (1.0 - np.cos(np.pi * a))
            q_target = (1 - w) * self._q_start + w * self.reference.dof_pos[0]
            self._k += 1
            if a >= 1.0:
                self._start_tracking(state)
            kp, kd = self._hold_gains
            z = np.zeros(g1.NUM_DOF)
            return Command(q_target, z, z, kp, kd), StepInfo(Phase.PREPARE, None, None, 0, 0, None)
        if self.phase in (Phase.TRACK, Phase.HOLD):
            return self._track(state)
        # DAMP
        self._k += 1
        if self._k >= max(1, round(cfg.damp_s / self.period)):
            self._enter(Phase.DONE)
        return self._damping(state), StepInfo(Phase.DAMP, None, None, 0, 0, fault)

    def _start_tracking(self, state: RobotState) -> None:
        yaw = float(yaw_from_quat(state.imu_quat) - yaw_from_quat(self.reference.root_quat[0]))
        self.builder = StudentObservationBuilder(rotate_reference(self.reference, yaw), self._history, self._future)
        self.builder.reset()
        self._last_action = np.zeros(g1.NUM_DOF)
        self.track_start_tick = state.tick
        self._enter(Phase.TRACK)

    def _track(self, state: RobotState) -> tuple[Command, StepInfo]:
        assert self.builder is not None
        obs = self.builder.observe(self._k, state.q, state.dq, state.gyro, state.imu_quat, self._last_action)
        action = self.policy.act(obs)
        if not np.all(np.isfinite(action)):
            self.fault = Fault.NONFINITE_ACTION
            self._enter(Phase.DAMP)
            self._k = 1
            return self._damping(state), StepInfo(Phase.DAMP, obs, action, 0, 0, self.fault)
        q_target, clamped = clamp_targets(self.policy.targets(action))
        kp, kd = self.policy.kp, self.policy.kd
        q_target, limited = limit_torque(q_target, state.q, state.dq, kp, kd, self.config.safety)
        self._last_action = action
        phase = self.phase
        self._k += 1
        track_steps = self.reference.num_frames
        if self._k >= track_steps and self.phase == Phase.TRACK:
            self.phase = Phase.HOLD
        if self._k >= track_steps + round(self.config.hold_s / self.period):
            self._enter(Phase.DAMP)
        z = np.zeros(g1.NUM_DOF)
        return Command(q_target, z, z, kp, kd), StepInfo(phase, obs, action, clamped, limited, None)
