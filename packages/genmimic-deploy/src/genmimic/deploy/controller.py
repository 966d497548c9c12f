"""The 50 Hz controller: wait for state, move to the clip's first pose and settle there, track the clip
with the policy, then keep balancing on a standing reference until stopped (or hold), then damp.
Safety is always on (see :mod:`.safety`); any fault puts the robot in damping mode in the same control
period. :meth:`Controller.step` is a pure function of the state it is given and the controller's own
explicit state, so it is tested without DDS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from genmimic.core import g1_constants as g1
from genmimic.core.clips import G1Clip
from genmimic.core.g1_revisions import G1_29DOF_REV_1_0, G1Revision
from genmimic.core.rotations import quat_multiply, yaw_from_quat
from genmimic.core.runtime import ReferenceMotion, StudentObservationBuilder, reference_from_clip
from genmimic.core.standing import resolve_lead_in, with_standing_end, with_standing_start

from .errors import DeployError
from .messages import Command, RobotState
from .phases import ACTIVE, EndMode, Phase
from .policy_runner import OnnxPolicy
from .safety import Fault, SafetyConfig, clamp_targets, clip_within_limits, fallen, limit_torque


def _prepare_gains() -> g1.PDGains:
    """Gains of the move to the first pose (SDK order), measured in the project's simulator (see the README).

    Hips, knees and waist: 2/3 of the hold gains (knee 200 Nm/rad instead of 300). Ankles: the hold gains
    (300): static balance on stiff ankles needs m g h ~ 230 Nm/rad in total, and softer ankles leave the
    robot leaning when tracking starts (0.8 x: 4 deg, and the shipped policy's keypoint error in lock-step
    sim-to-sim grows from 7.9 to 9.5 cm). Arms: the lower of the hold gains and Unitree's low-level
    example gains. Unitree's example gains alone (40-100) are for a robot hanging on its gantry: a G1
    standing free with them falls within 2 s. These gains hold the robot up with a PD updated every 8 ms
    (the hold gains need 6 ms or less).
    """
    hold, unitree = g1.HOLD_GAINS, g1.UNITREE_LOWLEVEL_GAINS
    scale = [1.0 if "ankle" in n else 2.0 / 3.0 if n.split("_")[1] not in ("shoulder", "elbow", "wrist") else None
             for n in g1.JOINT_NAMES]
    kp = tuple(min(h, u) if f is None else f * h for h, u, f in zip(hold.kp, unitree.kp, scale, strict=True))
    kd = tuple(min(h, u) if f is None else f * h for h, u, f in zip(hold.kd, unitree.kd, scale, strict=True))
    return g1.PDGains("prepare", kp, kd)


PREPARE_GAINS = _prepare_gains()


@dataclass(frozen=True)
class ControllerConfig:
    """prepare_s: shortest move from the current pose to the clip's first pose [s] (cosine profile).
    prepare_max_speed: the move is slowed so that no joint's peak speed exceeds this [rad/s].
    settle_s: after the move, time allowed for every joint to come within ``settle_tolerance`` [rad] of
    the first pose and slow below ``settle_max_speed`` [rad/s] (joints and pelvis gyro) before tracking
    starts; otherwise the run damps (fault NOT_CONVERGED).
    prepare_gains: PD gains of the move and the settling.
    lead_in_s: seconds of standing reference before the clip, blended into its first frame
    (:mod:`genmimic.core.standing`): the move then goes to the standing pose and the policy tracks the blend.
    None: :func:`~genmimic.core.standing.auto_lead_in_s` (a lead-in only for clips that start in motion); 0: none.
    then: what follows the clip. ``stand``: the policy keeps balancing on the clip's last frame blended
    into the default standing pose over ``stand_blend_s`` [s] until stopped (Ctrl-C, SIGTERM) or for
    ``stand_s`` [s] when given; ``damp``: the policy holds the last frame for ``hold_s`` [s].
    damp_s: time in damping mode before the controller stops [s].
    """

    prepare_s: float = 3.0
    prepare_max_speed: float = 0.5
    settle_s: float = 1.0
    settle_tolerance: float = 0.15
    settle_max_speed: float = 0.1
    prepare_gains: g1.PDGains = PREPARE_GAINS
    lead_in_s: float | None = None
    then: EndMode = EndMode.STAND
    hold_s: float = 2.0
    stand_blend_s: float = 2.0
    stand_s: float | None = None
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
    :meth:`step` once per control period with the latest state and its age [s].

    ``robot``: the revision whose joint and torque limits apply (:mod:`genmimic.core.g1_revisions`).
    """

    def __init__(self, policy: OnnxPolicy, clip: G1Clip, config: ControllerConfig | None = None,
                 source: str = "clip", robot: G1Revision = G1_29DOF_REV_1_0) -> None:
        ok, why = clip_within_limits(clip.dof_pos, robot=robot)
        if not ok:
            raise DeployError(f"{source}: refused, the clip leaves the joint limits of {robot.name}: {why}")
        self.policy, self.config, self.robot = policy, config or ControllerConfig(), robot
        self.period = policy.control_period
        try:
            self.lead_in_s = resolve_lead_in(clip, self.config.lead_in_s)
        except ValueError as e:
            raise DeployError(f"{source}: {e}") from None
        if self.lead_in_s > 0:
            clip = with_standing_start(clip, self.lead_in_s)
        self.track_steps = reference_from_clip(clip, self.period, source).num_frames
        if self.config.then == EndMode.STAND:
            clip = with_standing_end(clip, self.config.stand_blend_s)
        self.reference = reference_from_clip(clip, self.period, source)
        self.builder: StudentObservationBuilder | None = None
        self.phase = Phase.WAIT
        self.fault: Fault | None = None
        self.damp_reason: str | None = None
        self._k = 0  # steps in the current phase
        self._move_steps = 1
        self._q_start = np.zeros(g1.NUM_DOF)
        self._last_action = np.zeros(g1.NUM_DOF)
        self.track_start_tick: int | None = None

    def _enter(self, phase: Phase) -> None:
        self.phase, self._k = phase, 0

    def _damp(self, reason: str, fault: Fault | None = None) -> None:
        self.fault, self.damp_reason = fault, reason
        self._enter(Phase.DAMP)

    def _damping(self, state: RobotState) -> Command:
        z = np.zeros(g1.NUM_DOF)
        return Command(state.q.copy(), z, z, z, np.full(g1.NUM_DOF, self.config.safety.damping_kd))

    def interrupt(self) -> None:
        """Ctrl-C or SIGTERM: damping from the next step on. While standing after the clip this is the
        operator's normal stop (no fault); before, it is the fault INTERRUPT."""
        if self.phase == Phase.STAND:
            self._damp("stopped by the operator")
        elif self.phase not in (Phase.DAMP, Phase.DONE):
            self._damp(Fault.INTERRUPT.value, Fault.INTERRUPT)

    @property
    def done(self) -> bool:
        return self.phase == Phase.DONE

    def step(self, state: RobotState | None, state_age: float) -> tuple[Command | None, StepInfo]:
        """The command for this control period (None: publish nothing), and what happened."""
        cfg = self.config
        none = StepInfo(self.phase, None, None, 0, 0, None)
        if self.phase == Phase.DONE or state is None:  # done, or never heard from the robot
            return None, none
        fault = None
        if self.phase in ACTIVE:
            if state_age > cfg.safety.stale_periods * self.period:
                fault = Fault.STALE_STATE
            elif fallen(state.imu_quat, cfg.safety):
                fault = Fault.FALL
        if fault is not None:
            self._damp(fault.value, fault)
        if self.phase == Phase.WAIT:
            self._q_start = state.q.copy()
            self._move_steps = self.move_steps(self._q_start)
            self._enter(Phase.PREPARE)
        if self.phase == Phase.PREPARE:
            command = self._prepare(state)
            if command is not None:
                return command, StepInfo(Phase.PREPARE, None, None, 0, 0, None)
        if self.phase in (Phase.TRACK, Phase.HOLD, Phase.STAND):
            return self._track(state)
        # DAMP
        self._k += 1
        if self._k >= max(1, round(cfg.damp_s / self.period)):
            self._enter(Phase.DONE)
        return self._damping(state), StepInfo(Phase.DAMP, None, None, 0, 0, self._new_fault())

    def _new_fault(self) -> Fault | None:
        return self.fault if self._k == 1 else None

    def move_steps(self, q_start: np.ndarray) -> int:
        """Control steps of the move from ``q_start`` (29,) [rad] to the first pose: at least ``prepare_s``,
        longer when the cosine profile's peak speed (pi/2 * distance / duration) would exceed
        ``prepare_max_speed``."""
        cfg = self.config
        distance = float(np.max(np.abs(self.reference.dof_pos[0] - q_start)))
        duration = max(cfg.prepare_s, 0.5 * np.pi * distance / cfg.prepare_max_speed)
        return max(1, int(np.ceil(duration / self.period - 1e-9)))

    def _prepare(self, state: RobotState) -> Command | None:
        """The move to the first pose, then settling there until converged (then tracking starts: None)."""
        cfg, first = self.config, self.reference.dof_pos[0]
        a = min(1.0, (self._k + 1) / self._move_steps)
        w = 0.5 * (1.0 - np.cos(np.pi * a))
        q_target = (1 - w) * self._q_start + w * first
        if self._k >= self._move_steps:  # settling: start tracking once every joint is close
            error = float(np.max(np.abs(state.q - first)))
            speed = max(float(np.max(np.abs(state.dq))), float(np.max(np.abs(state.gyro))))
            if error <= cfg.settle_tolerance and speed <= cfg.settle_max_speed:
                self._start_tracking(state)
                return None
            if self._k - self._move_steps >= round(cfg.settle_s / self.period):
                joint = g1.JOINT_NAMES[int(np.argmax(np.abs(state.q - first)))]
                self._damp(f"{Fault.NOT_CONVERGED.value}: {joint} {error:.3f} rad from it, moving at up to "
                           f"{speed:.2f} rad/s after {cfg.settle_s:g} s (tolerance {cfg.settle_tolerance:g} rad, "
                           f"{cfg.settle_max_speed:g} rad/s)", Fault.NOT_CONVERGED)
                return None
        self._k += 1
        kp, kd = np.asarray(cfg.prepare_gains.kp), np.asarray(cfg.prepare_gains.kd)
        z = np.zeros(g1.NUM_DOF)
        return Command(np.clip(q_target, self.robot.lower, self.robot.upper), z, z, kp, kd)

    def _start_tracking(self, state: RobotState) -> None:
        yaw = float(yaw_from_quat(state.imu_quat) - yaw_from_quat(self.reference.root_quat[0]))
        self.builder = StudentObservationBuilder.for_spec(rotate_reference(self.reference, yaw), self.policy.spec)
        self.builder.reset()
        # as in training and `genmimic-policy track`: the last action is the one that holds the first pose
        # (zeros here made the student of 2026-12-01 fall within 1.3 s over DDS while it stayed up in track)
        self._last_action = self.policy.spec.holding_action(self.reference.dof_pos[0])
        self.track_start_tick = state.tick
        self._enter(Phase.TRACK)

    def _track(self, state: RobotState) -> tuple[Command, StepInfo]:
        assert self.builder is not None
        cfg = self.config
        obs = self.builder.observe(self._k, state.q, state.dq, state.gyro, state.imu_quat, self._last_action)
        raw = self.policy.act(obs)
        if not np.all(np.isfinite(raw)):
            self._damp(Fault.NONFINITE_ACTION.value, Fault.NONFINITE_ACTION)
            self._k = 1
            return self._damping(state), StepInfo(Phase.DAMP, obs, raw, 0, 0, self.fault)
        action = self.policy.spec.clip_action(raw)  # as in training and `track`: +-ACTION_CLIP
        q_target, clamped = clamp_targets(self.policy.targets(action), self.robot)
        kp, kd = self.policy.kp, self.policy.kd
        q_target, limited = limit_torque(q_target, state.q, state.dq, kp, kd, cfg.safety, self.robot)
        self._last_action = action
        phase = self.phase
        self._k += 1
        if self._k >= self.track_steps and self.phase == Phase.TRACK:
            self.phase = Phase.STAND if cfg.then == EndMode.STAND else Phase.HOLD
        after = self._k - self.track_steps
        if self.phase == Phase.HOLD and after >= round(cfg.hold_s / self.period):
            self._damp("end of the clip and the hold (--then damp)")
        if self.phase == Phase.STAND and cfg.stand_s is not None and after >= round(cfg.stand_s / self.period):
            self._damp(f"stood for {cfg.stand_s:g} s after the clip (--stand-for)")
        z = np.zeros(g1.NUM_DOF)
        return Command(q_target, z, z, kp, kd), StepInfo(phase, obs, action, clamped, limited, None)
