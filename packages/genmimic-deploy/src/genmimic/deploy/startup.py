"""Start-up checks: run on the robot's state before the first command is published.

Each check is a pure function of what ``rt/lowstate`` said; a failed check raises :class:`StartupRefused`
with one line naming the check, the value found, the limit and what to do. Nothing is published.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from genmimic.core.g1_revisions import (
    KNOWN_MODE_MACHINES,
    G1Revision,
    RevisionError,
    describe_mode_machine,
    revision_by_name,
    revision_for_mode_machine,
)

from .errors import DeployError
from .messages import RobotState
from .safety import tilt

log = logging.getLogger("genmimic.deploy")


class StartupRefused(DeployError):
    """A start-up check failed; nothing was published. ``check`` names it, ``value`` is what was found."""

    def __init__(self, check: str, value: object, message: str) -> None:
        self.check, self.value = check, value
        super().__init__(f"refused before any command, start-up check '{check}': {message}")


@dataclass(frozen=True)
class StartupConfig:
    """window_s: how long the state stream is watched before the checks [s].
    min_rate_periods: the stream must bring at least one LowState_ per control period over the window
    times this factor (the robot publishes at 500 Hz, ten per 50 Hz period; a slower stream means
    the controller would act on old state).
    max_age_periods: the newest LowState_ must be younger than this many control periods.
    max_tilt_deg: pelvis tilt from upright [deg] above which the robot is taken as not standing (a robot
    lying down, or leaning on something, is not driven; the fall limit while running is 60 deg).
    joint_tolerance: how far [rad] a measured joint may be outside its limits (encoder and calibration
    slack) before the state is taken as wrong.
    """

    window_s: float = 0.5
    min_rate_periods: float = 1.0
    max_age_periods: float = 3.0
    max_tilt_deg: float = 20.0
    joint_tolerance: float = 0.05


def check_stream(received: int, age_s: float, period_s: float, config: StartupConfig) -> None:
    """``received`` messages in the sampling window (``config.window_s``), the newest ``age_s`` [s] old."""
    rate, need = received / config.window_s, config.min_rate_periods / period_s
    if rate < need:
        raise StartupRefused("fresh state", rate, f"LowState arrives at {rate:.0f} Hz over {config.window_s:g} s, "
                             f"need {need:.0f} Hz; check the network interface and that the robot (or the "
                             "simulator) is running and not starved of CPU")
    if age_s > config.max_age_periods * period_s:
        raise StartupRefused("fresh state", age_s, f"newest LowState is {age_s * 1000:.0f} ms old, limit "
                             f"{config.max_age_periods * period_s * 1000:.0f} ms; the stream stalled")


def check_revision(mode_machine: int, stated: str | None = None) -> G1Revision:
    """The robot's revision from its ``mode_machine``, or the one the operator ``stated`` (``--robot-rev``).

    A stated revision is used when the robot reports a ``mode_machine`` that is no known G1 (simulators
    that leave it 0); a robot that reports another known revision is refused either way.
    """
    try:
        if stated is None:
            return revision_for_mode_machine(mode_machine)
        rev = revision_by_name(stated)
    except RevisionError as err:
        raise StartupRefused("robot revision", mode_machine, f"{err}; or state the revision with --robot-rev"
                             if stated is None else str(err)) from None
    if mode_machine == rev.mode_machine:
        return rev
    if mode_machine in KNOWN_MODE_MACHINES:
        raise StartupRefused("robot revision", mode_machine, f"--robot-rev {stated} (mode_machine "
                             f"{rev.mode_machine}) but the robot reports {describe_mode_machine(mode_machine)}")
    log.warning("robot reports %s; using %s as stated by --robot-rev", describe_mode_machine(mode_machine), stated)
    return rev


def check_upright(imu_quat_wxyz: np.ndarray, config: StartupConfig) -> None:
    deg = float(np.degrees(tilt(np.asarray(imu_quat_wxyz, float))))
    if not np.isfinite(deg) or deg > config.max_tilt_deg:
        raise StartupRefused("upright", deg, f"pelvis tilt {deg:.1f} deg, limit {config.max_tilt_deg:g} deg; "
                             "stand the robot up (or hang it on its gantry) first")


def check_joints(q: np.ndarray, robot: G1Revision, config: StartupConfig) -> None:
    q = np.asarray(q, float)
    lower, upper = np.asarray(robot.lower), np.asarray(robot.upper)
    bad = ~np.isfinite(q) | (q < lower - config.joint_tolerance) | (q > upper + config.joint_tolerance)
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        raise StartupRefused("joint limits", float(q[j]), f"{robot.joint_names[j]} reads {q[j]:.3f} rad, limits "
                             f"[{lower[j]:.3f}, {upper[j]:.3f}] for {robot.name}; check the joint's "
                             "calibration or the robot revision")


def startup_checks(state: RobotState, age_s: float, received: int, period_s: float, stated: str | None = None,
                   config: StartupConfig | None = None) -> G1Revision:
    """All start-up checks in order (fresh state, revision, upright, joints); the robot's revision.

    Raises:
        StartupRefused: the first check that failed.
    """
    config = config or StartupConfig()
    check_stream(received, age_s, period_s, config)
    robot = check_revision(state.mode_machine, stated)
    check_upright(state.imu_quat, config)
    check_joints(state.q, robot, config)
    return robot
