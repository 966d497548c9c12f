"""Per-clip tracking metrics from what the robot did (a Trajectory) against what it was asked to do."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from genmimic.core.clips import G1Clip, Trajectory

#: Mean keypoint error [m] under which a run that did not fall counts as a success (issue 5's figure).
SUCCESS_THRESHOLD = 0.25
END_EFFECTORS = ("head", "left_hand", "right_hand", "left_toe", "right_toe")
FEET = ("left_ankle", "right_ankle")


class ClipMetrics(NamedTuple):
    """fell: the robot fell. success: no fall and mean keypoint error < threshold.
    mpkpe_mm: mean per-keypoint position error [mm] against the reference it tracked.
    ee_error_mm: the same over end effectors (head, hands, toes) [mm].
    clean_mpkpe_mm: against the clean motion's retargeted reference (robustness to the corruption) [mm].
    joint_vel_error: mean |dq - dq_ref| [rad/s]; joint_acc_error: mean |ddq - ddq_ref| [rad/s^2].
    foot_slip: mean horizontal speed of feet in contact [m/s]. energy: mean mechanical power sum|tau dq| [W].
    """

    fell: bool
    success: bool
    mpkpe_mm: float
    ee_error_mm: float
    clean_mpkpe_mm: float
    joint_vel_error: float
    joint_acc_error: float
    foot_slip: float
    energy: float


def _on_frames(ref: G1Clip, n: int, fps: float) -> np.ndarray:
    """Indices (n,) of the reference frames at the trajectory's rate (held at the last frame past its end)."""
    idx = np.minimum(np.round(np.arange(n) * ref.fps / fps).astype(int), ref.num_frames - 1)
    return idx


def evaluate(traj: Trajectory, reference: G1Clip, clean: G1Clip | None = None,
             threshold: float = SUCCESS_THRESHOLD) -> ClipMetrics:
    """Metrics of ``traj`` tracking ``reference`` (and, if given, against the ``clean`` motion)."""
    idx = _on_frames(reference, traj.num_frames, traj.fps)
    err = np.linalg.norm(traj.keypoints - reference.keypoints[idx], axis=-1)  # (T, K)
    names = traj.keypoint_names.tolist()
    ee = [names.index(n) for n in END_EFFECTORS]
    dt = 1.0 / traj.fps
    ref_dq = np.gradient(reference.dof_pos, 1.0 / reference.fps, axis=0)[idx]
    ref_ddq = np.gradient(np.gradient(reference.dof_pos, 1.0 / reference.fps, axis=0), 1.0 / reference.fps,
                          axis=0)[idx]
    ddq = np.gradient(traj.dof_vel, dt, axis=0)
    feet = np.stack([traj.keypoints[:, names.index(n)] for n in FEET], axis=1)  # (T, 2, 3)
    speed = np.linalg.norm(np.gradient(feet[..., :2], dt, axis=0), axis=-1)
    slip = float(speed[traj.contacts].mean()) if traj.contacts.any() else 0.0
    clean_err = np.nan
    if clean is not None:
        cidx = _on_frames(clean, traj.num_frames, traj.fps)
        clean_err = float(np.linalg.norm(traj.keypoints - clean.keypoints[cidx], axis=-1).mean() * 1000)
    mean_err = float(err.mean())
    return ClipMetrics(
        fell=traj.fell, success=(not traj.fell) and mean_err < threshold, mpkpe_mm=mean_err * 1000,
        ee_error_mm=float(err[:, ee].mean() * 1000), clean_mpkpe_mm=clean_err,
        joint_vel_error=float(np.abs(traj.dof_vel - ref_dq).mean()),
        joint_acc_error=float(np.abs(ddq - ref_ddq).mean()), foot_slip=slip,
        energy=float(np.abs(traj.torque * traj.dof_vel).sum(axis=1).mean()),
    )
