"""Safety checks of the control loop: pure functions of the state and the command about to be sent.

Joint and torque limits come from the robot's revision (:mod:`genmimic.core.g1_revisions`); the
default is the G1 29-DoF rev 1.0, the robot the project models.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from genmimic.core import tracking
from genmimic.core.g1_revisions import G1_29DOF_REV_1_0, G1Revision

#: [rad] how much sooner than the project's fall test (:data:`genmimic.core.tracking.FALL_TILT_RAD`, 1.0 rad)
#: the robot is put in damping: at 0.9 rad (52 deg) of pelvis tilt. On the robot there is no pelvis height to
#: compare with the reference, so deploy's fall test is the tilt half of :func:`genmimic.core.tracking.fallen`,
#: made stricter by this margin (a G1 this far over does not recover; limp motors before it lands are safer).
FALL_TILT_MARGIN_RAD = 0.1

#: Limits of the default revision (SDK order): position [rad], peak torque [Nm].
LOWER = np.array(G1_29DOF_REV_1_0.lower)
UPPER = np.array(G1_29DOF_REV_1_0.upper)
EFFORT = np.array(G1_29DOF_REV_1_0.effort)


class Fault(enum.Enum):
    """Why the controller put the robot in damping mode."""

    STALE_STATE = "no LowState for too long"
    FALL = "fall detected (pelvis tilt)"
    NONFINITE_ACTION = "policy produced NaN or Inf"
    INTERRUPT = "interrupted (Ctrl-C)"
    NOT_CONVERGED = "the move to the first pose did not converge"


@dataclass(frozen=True)
class SafetyConfig:
    """stale_periods: control periods without a new state before damping.
    fall_tilt_margin: [rad] taken off :data:`genmimic.core.tracking.FALL_TILT_RAD` for the fall test
    (:func:`fallen`); default :data:`FALL_TILT_MARGIN_RAD`.
    damping_kd: joint damping in damping mode [Nm s/rad] (kp = 0).
    torque_margin: PD torque estimates are kept within this fraction of each motor's peak effort.
    """

    stale_periods: int = 3
    fall_tilt_margin: float = FALL_TILT_MARGIN_RAD
    damping_kd: float = 3.0
    torque_margin: float = 1.0


def tilt(imu_quat_wxyz: np.ndarray) -> float:
    """Angle [rad] between the pelvis z axis and the world's up."""
    _w, x, y, _z = imu_quat_wxyz / max(np.linalg.norm(imu_quat_wxyz), 1e-9)
    return float(np.arccos(np.clip(1.0 - 2.0 * (x * x + y * y), -1.0, 1.0)))


def fallen(imu_quat_wxyz: np.ndarray, config: SafetyConfig) -> bool:
    """Whether the robot has fallen: :func:`genmimic.core.tracking.tilted` past ``FALL_TILT_RAD -
    config.fall_tilt_margin`` [rad], for the IMU orientation (4,) wxyz (normalised here). A non-finite
    quaternion counts as a fall."""
    q = np.asarray(imu_quat_wxyz, dtype=float)
    if not np.all(np.isfinite(q)):
        return True
    q = q / max(float(np.linalg.norm(q)), 1e-9)
    return bool(tracking.tilted(np, q, tracking.FALL_TILT_RAD - config.fall_tilt_margin))


def clamp_targets(q_target: np.ndarray, robot: G1Revision = G1_29DOF_REV_1_0) -> tuple[np.ndarray, int]:
    """Targets (29,) [rad] clamped to ``robot``'s joint limits, and how many were clamped."""
    clamped = np.clip(q_target, robot.lower, robot.upper)
    return clamped, int(np.count_nonzero(clamped != q_target))


def limit_torque(q_target: np.ndarray, q: np.ndarray, dq: np.ndarray, kp: np.ndarray, kd: np.ndarray,
                 config: SafetyConfig, robot: G1Revision = G1_29DOF_REV_1_0) -> tuple[np.ndarray, int]:
    """Targets moved so the PD torque estimate ``kp (q* - q) - kd dq`` [Nm] stays within ``robot``'s
    peak motor torques (times ``config.torque_margin``); and how many were moved."""
    limit = np.asarray(robot.effort) * config.torque_margin
    tau = kp * (q_target - q) - kd * dq
    over = np.abs(tau) > limit
    if not over.any():
        return q_target, 0
    safe_kp = np.where(kp > 1e-9, kp, 1.0)
    capped = q + (np.clip(tau, -limit, limit) + kd * dq) / safe_kp
    return np.where(over & (kp > 1e-9), capped, q_target), int(over.sum())


def clip_within_limits(dof_pos: np.ndarray, tolerance: float = 1e-3,
                       robot: G1Revision = G1_29DOF_REV_1_0) -> tuple[bool, str]:
    """Whether a joint trajectory (T, 29) [rad] stays within ``robot``'s limits (give or take
    ``tolerance`` [rad]); else the first offence, in words."""
    lower, upper = np.asarray(robot.lower), np.asarray(robot.upper)
    bad = (dof_pos < lower - tolerance) | (dof_pos > upper + tolerance)
    if not bad.any():
        return True, ""
    t, j = np.argwhere(bad)[0]
    return False, (f"{robot.joint_names[j]} is {dof_pos[t, j]:.3f} rad at frame {t}, outside "
                   f"[{lower[j]:.3f}, {upper[j]:.3f}]")
