"""Can the G1 physically do this clip as given? A check of the kinematic clip alone, before any controller.

Per frame, on the project's MuJoCo model of the G1 (:func:`genmimic.core.g1_model.load_mujoco_model`):

- joint positions against the joint limits, joint velocities (central differences) against the motors'
  peak velocities;
- **inverse dynamics**: ``mj_inverse`` without contacts gives the generalised force ``qfrc`` (nv,) the
  motion needs; the contact forces of the feet the clip marks in contact (and that touch the floor) are
  then chosen to supply the floating base's six components as well as they can (non-negative
  combinations of friction-pyramid edges at each foot's contact spheres, ``scipy.optimize.nnls``). What
  is left on the base is the **residual wrench** ("hand of god": a push or hold on the pelvis that no
  contact can give); the joint torques are ``qfrc - J^T f`` on the joints, compared with the effort limits;
- foot slide (horizontal speed of a foot in contact) and penetration of the floor.

Each finding gets a level: ``adapt`` (a tracking controller has to deviate: slightly too fast or too
strong, sliding or sinking feet, brief wrench spikes) or ``infeasible`` (the motion as given is
physically impossible for the G1: beyond the joint limits, far beyond the motors, or a sustained
residual wrench on the base). The clip's verdict is the worst level found. Thresholds are in
:class:`FeasibilityConfig`. World z-up, ground z = 0, SI units.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import mujoco
import numpy as np
from scipy.optimize import nnls

from genmimic.core import g1_constants as g1
from genmimic.core.clips import G1Clip
from genmimic.core.g1_model import joint_dof_indices, joint_qpos_indices, load_mujoco_model

LEVELS = ("feasible", "adapt", "infeasible")  #: verdicts, by index (frame verdicts are these indices)
REASONS = ("joint_position", "joint_velocity", "torque", "base_wrench", "foot_slide", "penetration")


@dataclass(frozen=True)
class FeasibilityConfig:
    """Thresholds. Ratios are to the G1's limits (:data:`genmimic.core.g1_constants.JOINTS`).

    position_tolerance [rad]: beyond a joint limit by more is infeasible. velocity_infeasible /
    torque_infeasible: above 1x the limit is adapt, above these ratios infeasible. wrench_adapt: residual
    base force over this fraction of the robot's weight m g is adapt; wrench_infeasible: residual *force*
    over this fraction of m g (the root pushed or held) is infeasible. cop_adapt [m]: a residual base
    moment whose mean over ``moment_window`` [s] exceeds ``m g * cop_adapt`` (the centre of pressure that
    far outside the feet, on average) is adapt: a controller has to shift its balance. A shorter excursion
    tips the robot by little: ``m g * 0.015 m`` for 0.3 s gives the body (about ``m * (0.7 m)^2`` about the
    foot) ~0.09 rad/s and ~0.015 rad. wrench_window [s]: base force, torques and foot slide are judged on
    running medians over this window (spikes of differentiated noise do not count). moment_lever [m]: the
    contact forces are chosen to minimise ``|F|^2 + (|tau| / moment_lever)^2`` of the residual: a long lever
    supplies the base force first (what the floor can always give with a foot on it) and leaves the moment,
    the centre-of-pressure question, to ``cop_adapt``. contact_height [m]: a foot the clip marks in contact
    touches the floor when its lowest sphere is under this. friction: floor friction coefficient.
    slide_adapt [m/s]: foot-in-contact speed. penetration_adapt, penetration_infeasible [m]: depth.
    """

    position_tolerance: float = 0.02
    # a motor cannot exceed its peak velocity: 10 % over (numerical differentiation noise, a brief lag) is
    # adapt, more is infeasible (at 1.5 the bench's walk at x3 speed, 1.25x its limits, read as adapt)
    velocity_infeasible: float = 1.1
    torque_infeasible: float = 1.5
    wrench_adapt: float = 0.15
    wrench_infeasible: float = 0.5
    wrench_window: float = 0.1
    cop_adapt: float = 0.015
    moment_window: float = 0.3
    moment_lever: float = 10.0
    contact_height: float = 0.03
    friction: float = 0.8
    slide_adapt: float = 0.2
    penetration_adapt: float = 0.01
    penetration_infeasible: float = 0.05


class FrameChecks(NamedTuple):
    """Per-frame measurements (T frames, SDK joint order).

    joint_limit_excess (T, 29) [rad] beyond the nearer limit (0 inside); velocity_ratio (T, 29) |qdot| over
    the motor's peak velocity; torque (T, 29) [Nm] by inverse dynamics; torque_ratio (T, 29) |torque| over
    effort (running median); base_force (T,) [N] and base_torque (T,) [Nm] residual on the floating base
    (norms, running median of the force, running mean of the moment); contact (T, 2) feet that bear load
    (left, right); foot_slide (T, 2) [m/s] horizontal speed of the feet in contact (0 otherwise);
    penetration (T, 2) [m] depth of the lowest contact sphere under z = 0.
    """

    joint_limit_excess: np.ndarray
    velocity_ratio: np.ndarray
    torque: np.ndarray
    torque_ratio: np.ndarray
    base_force: np.ndarray
    base_torque: np.ndarray
    contact: np.ndarray
    foot_slide: np.ndarray
    penetration: np.ndarray


class Finding(NamedTuple):
    """A run of frames [first, last] (inclusive) with one problem: ``reason`` (one of :data:`REASONS`),
    ``level`` ("adapt" or "infeasible"), ``worst`` the largest value of its measure (unit in ``detail``),
    ``detail`` a sentence naming joints or feet."""

    reason: str
    level: str
    first: int
    last: int
    worst: float
    detail: str


class FeasibilityReport(NamedTuple):
    """verdict: "feasible", "adapt" or "infeasible"; frame_verdict (T,) int index into :data:`LEVELS`;
    findings: runs of problem frames, worst first; checks: the measurements; fps of the clip."""

    verdict: str
    frame_verdict: np.ndarray
    findings: tuple[Finding, ...]
    checks: FrameChecks
    fps: float

    def summary(self) -> str:
        """One line, then one line per finding (at most ``8``), for stderr."""
        n = len(self.frame_verdict)
        counts = ", ".join(f"{int((self.frame_verdict == i).sum())} {name}" for i, name in enumerate(LEVELS))
        lines = [f"{self.verdict.upper()}: {n} frames ({counts})"]
        for f in self.findings[:8]:
            when = (f"frame {f.first} ({f.first / self.fps:.2f} s)" if f.first == f.last else
                    f"frames {f.first}-{f.last} ({f.first / self.fps:.2f}-{f.last / self.fps:.2f} s)")
            lines.append(f"  {f.level}: {f.reason} {when}: {f.detail}")
        if len(self.findings) > 8:
            lines.append(f"  ... and {len(self.findings) - 8} more findings")
        return "\n".join(lines)

    def to_json(self) -> dict:
        """A JSON-ready dict: verdict, fps, frame verdicts as names' indices, findings, and per-frame
        maxima of the measurements."""
        c = self.checks
        return {
            "verdict": self.verdict, "fps": self.fps, "levels": list(LEVELS),
            "frame_verdict": self.frame_verdict.tolist(),
            "findings": [f._asdict() for f in self.findings],
            "frames": {"joint_limit_excess_rad": c.joint_limit_excess.max(1).round(4).tolist(),
                       "velocity_ratio": c.velocity_ratio.max(1).round(3).tolist(),
                       "torque_ratio": c.torque_ratio.max(1).round(3).tolist(),
                       "base_force_n": c.base_force.round(2).tolist(),
                       "base_torque_nm": c.base_torque.round(2).tolist(),
                       "foot_slide_m_s": c.foot_slide.max(1).round(3).tolist(),
                       "penetration_m": c.penetration.max(1).round(4).tolist()},
        }


def _limits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    lower = np.array([j.lower for j in g1.JOINTS])
    upper = np.array([j.upper for j in g1.JOINTS])
    return lower, upper, np.array([j.motor.velocity for j in g1.JOINTS]), np.array([j.motor.effort for j in g1.JOINTS])


def _qpos(model: mujoco.MjModel, clip: G1Clip) -> np.ndarray:
    q = np.zeros((clip.num_frames, model.nq))
    q[:, 0:3], q[:, 3:7] = clip.root_pos, clip.root_quat / np.linalg.norm(clip.root_quat, axis=1, keepdims=True)
    q[:, joint_qpos_indices(model)] = clip.dof_pos
    return q


def _velocities(model: mujoco.MjModel, qpos: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """qvel, qacc (T, nv) by central differences on the configuration manifold (one-sided at the ends)."""
    t = len(qpos)
    fwd = np.zeros((t - 1, model.nv))
    for i in range(t - 1):
        mujoco.mj_differentiatePos(model, fwd[i], dt, qpos[i], qpos[i + 1])
    qvel = np.empty((t, model.nv))
    qvel[0], qvel[-1] = fwd[0], fwd[-1]
    qvel[1:-1] = (fwd[:-1] + fwd[1:]) / 2
    return qvel, np.gradient(qvel, dt, axis=0)


def _running_median(x: np.ndarray, width: int) -> np.ndarray:
    if width <= 1:
        return x
    pad = width // 2
    xp = np.pad(x, (pad, width - 1 - pad), mode="edge")
    return np.median(np.lib.stride_tricks.sliding_window_view(xp, width), axis=-1)


def _running_mean(x: np.ndarray, width: int) -> np.ndarray:
    pad = width // 2
    xp = np.pad(x, (pad, width - 1 - pad), mode="edge")
    return np.convolve(xp, np.full(width, 1.0 / width), mode="valid")


class _Dynamics(NamedTuple):
    torque: np.ndarray  # (T, 29)
    base_force: np.ndarray  # (T,)
    base_torque: np.ndarray  # (T,)
    contact: np.ndarray  # (T, 2)
    sphere_height: np.ndarray  # (T, 2, P) bottom of each contact sphere [m]
    foot_pos: np.ndarray  # (T, 2, 3) foot body origins


def inverse_dynamics(clip: G1Clip, cfg: FeasibilityConfig = FeasibilityConfig(), model: mujoco.MjModel | None = None
                     ) -> _Dynamics:
    """Joint torques and the residual base wrench of ``clip`` (see the module docstring); ``model`` defaults to
    the project's G1. Residual force [N] in the world frame (norm, running median over ``cfg.wrench_window``),
    torque [Nm] about the pelvis in its frame (norm, running mean over ``cfg.moment_window``)."""
    model = model or load_mujoco_model()
    model.opt.disableflags |= int(mujoco.mjtDisableBit.mjDSBL_CONSTRAINT)
    data = mujoco.MjData(model)
    dt = 1.0 / clip.fps
    qpos = _qpos(model, clip)
    qvel, qacc = _velocities(model, qpos, dt)
    di = joint_dof_indices(model)
    feet = [model.body(b).id for b in g1.FOOT_BODIES]
    local = np.asarray(g1.FOOT_CONTACT_POINTS)
    mu = cfg.friction
    edges = np.array([[mu, 0, 1], [-mu, 0, 1], [0, mu, 1], [0, -mu, 1]]) / np.sqrt(1 + mu * mu)  # (4, 3) world
    n = clip.num_frames
    torque, force, moment = np.zeros((n, g1.NUM_DOF)), np.zeros(n), np.zeros(n)
    contact = np.zeros((n, 2), bool)
    heights = np.zeros((n, 2, len(local)))
    foot_pos = np.zeros((n, 2, 3))
    jac = np.zeros((3, model.nv))
    for t in range(n):
        data.qpos[:], data.qvel[:], data.qacc[:] = qpos[t], qvel[t], qacc[t]
        mujoco.mj_inverse(model, data)
        qfrc = data.qfrc_inverse.copy()
        columns = []
        for s, body in enumerate(feet):
            pts = data.xpos[body] + local @ data.xmat[body].reshape(3, 3).T
            heights[t, s] = pts[:, 2] - g1.FOOT_SPHERE_RADIUS
            foot_pos[t, s] = data.xpos[body]
            if not clip.contacts[t, s]:
                continue
            touching = heights[t, s] < heights[t, s].min() + 0.01
            if heights[t, s].min() > cfg.contact_height:
                continue
            contact[t, s] = True
            for p in pts[touching]:
                mujoco.mj_jac(model, data, jac, None, p, body)
                columns.append(jac.T @ edges.T)  # (nv, 4): generalised force of unit edge forces
        if columns:
            a = np.concatenate(columns, axis=1)
            reg = 1e-3 * np.eye(a.shape[1])  # small: spreads the load, keeps the solution unique
            rows = np.array([1.0, 1.0, 1.0] + [1.0 / cfg.moment_lever] * 3)[:, None]
            lam, _ = nnls(np.vstack([rows * a[:6], reg]), np.concatenate([rows[:, 0] * qfrc[:6], np.zeros(a.shape[1])]))
            qfrc = qfrc - a @ lam
        force[t], moment[t] = np.linalg.norm(qfrc[0:3]), np.linalg.norm(qfrc[3:6])
        torque[t] = qfrc[di]
    width = max(1, round(cfg.wrench_window * clip.fps))
    return _Dynamics(torque, _running_median(force, width),
                     _running_mean(moment, max(1, round(cfg.moment_window * clip.fps))), contact, heights, foot_pos)


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """[first, last] inclusive index ranges where ``flags`` (T,) is True."""
    d = np.diff(np.concatenate([[0], flags.astype(int), [0]]))
    return [(int(a), int(b) - 1) for a, b in zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1), strict=True)]


def _names(mask: np.ndarray, names: tuple[str, ...], limit: int = 3) -> str:
    chosen = [names[i] for i in np.flatnonzero(mask)]
    return ", ".join(chosen[:limit]) + (f" and {len(chosen) - limit} more" if len(chosen) > limit else "")


def _wrench_detail(force: float, moment: float, weight: float) -> str:
    """The residual wrench of a finding in words: the force [N] (and share of the body weight) where there
    is one, the moment [Nm] as the distance of the centre of pressure outside the feet."""
    parts = []
    if force >= 0.01 * weight:
        parts.append(f"a residual force up to {force:.0f} N ({100 * force / weight:.0f} % of the body weight)")
    parts.append(f"{'a ' if not parts else ''}moment up to {moment:.0f} Nm (the centre of pressure ~"
                 f"{100 * moment / weight:.0f} cm outside the feet)")
    return " and ".join(parts) + " on the pelvis, that no foot contact can supply"


def check_feasibility(clip: G1Clip, cfg: FeasibilityConfig = FeasibilityConfig()) -> FeasibilityReport:
    """The feasibility report of a G1 clip (module docstring); the clip must have at least 3 frames."""
    lower, upper, vmax, effort = _limits()
    dyn = inverse_dynamics(clip, cfg)
    dof_vel = np.gradient(clip.dof_pos, 1.0 / clip.fps, axis=0)
    excess = np.maximum(np.maximum(lower - clip.dof_pos, clip.dof_pos - upper), 0.0)
    vel_ratio = np.abs(dof_vel) / vmax
    torque_ratio = np.abs(dyn.torque) / effort
    width = max(1, round(cfg.wrench_window * clip.fps))
    torque_ratio = np.stack([_running_median(torque_ratio[:, j], width) for j in range(g1.NUM_DOF)], axis=1)
    foot_vel = np.gradient(dyn.foot_pos, 1.0 / clip.fps, axis=0)
    slide = np.where(dyn.contact, np.linalg.norm(foot_vel[..., :2], axis=-1), 0.0)
    slide = np.stack([_running_median(slide[:, s], width) for s in range(2)], axis=1)
    penetration = np.maximum(-dyn.sphere_height.min(-1), 0.0)
    weight = g1.TOTAL_MASS * 9.81
    checks = FrameChecks(excess, vel_ratio, dyn.torque, torque_ratio, dyn.base_force, dyn.base_torque, dyn.contact,
                         slide, penetration)
    joints, feet = g1.JOINT_NAMES, ("left foot", "right foot")
    base_force = dyn.base_force / weight
    base = np.maximum(base_force, dyn.base_torque / (cfg.cop_adapt * weight) * cfg.wrench_adapt)
    # reason, adapt measure (T,), infeasible measure (T,), per-item values (T, k) and their names, bars, unit
    tests = [
        ("joint_position", excess.max(1), None, excess, joints, cfg.position_tolerance, cfg.position_tolerance, "rad"),
        ("joint_velocity", vel_ratio.max(1), None, vel_ratio, joints, 1.0, cfg.velocity_infeasible, "x peak velocity"),
        ("torque", torque_ratio.max(1), None, torque_ratio, joints, 1.0, cfg.torque_infeasible, "x effort limit"),
        ("base_wrench", base, base_force, None, (), cfg.wrench_adapt, cfg.wrench_infeasible, ""),
        ("foot_slide", slide.max(1), None, slide, feet, cfg.slide_adapt, np.inf, "m/s"),
        ("penetration", penetration.max(1), None, penetration, feet, cfg.penetration_adapt,
         cfg.penetration_infeasible, "m"),
    ]
    frame = np.zeros(clip.num_frames, np.int8)
    findings: list[Finding] = []
    for reason, measure, hard, per_item, names, adapt, infeasible, unit in tests:
        hard = measure if hard is None else hard
        for level, bar in ((2, infeasible), (1, adapt)):
            flags = hard > bar if level == 2 else (measure > bar) & ~(hard > infeasible)
            frame[flags] = np.maximum(frame[flags], level)
            for a, b in _runs(flags):
                worst = float((hard if level == 2 else measure)[a:b + 1].max())
                if per_item is None:
                    what = _wrench_detail(dyn.base_force[a:b + 1].max(), dyn.base_torque[a:b + 1].max(), weight)
                else:
                    what = _names(per_item[a:b + 1].max(0) > bar if level == 2 else per_item[a:b + 1].max(0) > adapt,
                                  names) + f" (worst {worst:.3g} {unit})"
                findings.append(Finding(reason, LEVELS[level], a, b, round(worst, 4), what))
    findings.sort(key=lambda f: (-LEVELS.index(f.level), f.first))
    return FeasibilityReport(LEVELS[int(frame.max())], frame, tuple(findings), checks, float(clip.fps))
