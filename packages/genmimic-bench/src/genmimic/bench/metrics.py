"""Per-clip tracking metrics from what the robot did (a Trajectory) against what it was asked to do.

One definition for every method: the fall test and both success criteria are
:mod:`genmimic.core.tracking`'s (:func:`~genmimic.core.tracking.score_trajectory`), the same that
``genmimic-policy track``/``evaluate`` print; this module adds what only the benchmark reports (error
against the clean motion, end effectors, joint velocity and acceleration error, foot slip, energy).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from genmimic.core.clips import G1Clip, Trajectory
from genmimic.core.tracking import reference_on_frames, score_trajectory

END_EFFECTORS = ("head", "left_hand", "right_hand", "left_toe", "right_toe")
FEET = ("left_ankle", "right_ankle")


class ClipMetrics(NamedTuple):
    """One clip tracked by one method. Distances [mm] unless named otherwise.

    fell: fell at any frame (core fall test). success: legacy criterion (no fall, mean global keypoint error
    < 0.25 m). strict_success: strict criterion (no fall, root-relative error <= 0.25 m in every 1 s window).
    mpkpe_mm: mean global per-keypoint position error against the reference it tracked.
    root_relative_mm: the same, each set of keypoints relative to its own pelvis in its heading frame;
    worst_window_mm: its worst 1 s window mean. hands_mm, feet_mm, head_mm: root-relative, per group.
    root_error_per_m: horizontal root error at the end / reference path length (>= 1 m) [m/m];
    heading_error_deg: mean absolute yaw error [deg]. joint_error_deg: mean absolute joint-angle error [deg]
    (core ``TrackingScore.joint_error``: a posture reaching near the right keypoints with limbs turned about
    their own axes shows here). ee_error_mm: global error of head, hands, toes.
    clean_mpkpe_mm: global error against the clean motion's retargeted reference (robustness).
    joint_vel_error: mean |dq - dq_ref| [rad/s]; joint_acc_error: mean |ddq - ddq_ref| [rad/s^2].
    foot_slip: mean horizontal speed of feet in contact [m/s]. energy: mean mechanical power sum|tau dq| [W].
    """

    fell: bool
    success: bool
    strict_success: bool
    mpkpe_mm: float
    root_relative_mm: float
    worst_window_mm: float
    hands_mm: float
    feet_mm: float
    head_mm: float
    root_error_per_m: float
    heading_error_deg: float
    joint_error_deg: float
    ee_error_mm: float
    clean_mpkpe_mm: float
    joint_vel_error: float
    joint_acc_error: float
    foot_slip: float
    energy: float


def evaluate(traj: Trajectory, reference: G1Clip, clean: G1Clip | None = None) -> ClipMetrics:
    """Metrics of ``traj`` tracking ``reference`` (and, if given, against the ``clean`` motion); any frame
    rates (references are sampled at the trajectory's frame times)."""
    s = score_trajectory(traj, reference)
    idx = reference_on_frames(reference.fps, reference.num_frames, traj.num_frames, traj.fps)
    err = np.linalg.norm(traj.keypoints - reference.keypoints[idx], axis=-1)  # (T, K)
    names = traj.keypoint_names.tolist()
    ee = [names.index(n) for n in END_EFFECTORS]
    dt = 1.0 / traj.fps
    ref_dq = np.gradient(reference.dof_pos, 1.0 / reference.fps, axis=0)
    ref_ddq = np.gradient(ref_dq, 1.0 / reference.fps, axis=0)
    ddq = np.gradient(traj.dof_vel, dt, axis=0)
    feet = np.stack([traj.keypoints[:, names.index(n)] for n in FEET], axis=1)  # (T, 2, 3)
    speed = np.linalg.norm(np.gradient(feet[..., :2], dt, axis=0), axis=-1)
    slip = float(speed[traj.contacts].mean()) if traj.contacts.any() else 0.0
    clean_err = np.nan
    if clean is not None:
        cidx = reference_on_frames(clean.fps, clean.num_frames, traj.num_frames, traj.fps)
        clean_err = float(np.linalg.norm(traj.keypoints - clean.keypoints[cidx], axis=-1).mean() * 1000)
    return ClipMetrics(
        fell=s.fell, success=s.success, strict_success=s.strict_success, mpkpe_mm=s.mean_keypoint_error * 1000,
        root_relative_mm=s.root_relative_error * 1000, worst_window_mm=s.worst_window_error * 1000,
        hands_mm=s.groups.hands * 1000, feet_mm=s.groups.feet * 1000, head_mm=s.groups.head * 1000,
        root_error_per_m=s.root_error_per_m, heading_error_deg=float(np.degrees(s.heading_error)),
        joint_error_deg=float(np.degrees(s.joint_error)),
        ee_error_mm=float(err[:, ee].mean() * 1000), clean_mpkpe_mm=clean_err,
        joint_vel_error=float(np.abs(traj.dof_vel - ref_dq[idx]).mean()),
        joint_acc_error=float(np.abs(ddq - ref_ddq[idx]).mean()), foot_slip=slip,
        energy=float(np.abs(traj.torque * traj.dof_vel).sum(axis=1).mean()),
    )


#: The row a method gets on a clip it could not be run on (the reference failed to retarget).
FAILED = ClipMetrics(True, False, False, *([np.nan] * (len(ClipMetrics._fields) - 3)))
