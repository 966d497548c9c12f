"""Accuracy of a lifted motion against the truth: MPJPE, PA-MPJPE and root trajectory error, and the
closed loop that measures them on a rendered synthetic video.

All joint errors are over :data:`EVAL_JOINTS` (the joints a keypoint detector sees: hips, knees, ankles,
shoulders, elbows, wrists, head) and in metres.
"""

from __future__ import annotations

import os
import tempfile
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from genmimic.core import SmplClip, smpl

Array = NDArray[np.float64]
EVAL_JOINTS: tuple[int, ...] = tuple(smpl.JOINT_NAMES.index(n) for n in (
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "head"))


class Accuracy(NamedTuple):
    """Mean errors [m]: ``mpjpe`` (pelvis-aligned), ``pa_mpjpe`` (after a per-frame similarity Procrustes
    alignment), ``root`` (pelvis trajectory, both starting at the same point) and ``frames`` compared."""

    mpjpe: float
    pa_mpjpe: float
    root: float
    frames: int


def procrustes(pred: Array, truth: Array) -> Array:
    """``pred`` (J, 3) aligned to ``truth`` by the similarity transform (rotation, scale, translation) that
    minimises the squared distance (Umeyama)."""
    mp, mt = pred.mean(0), truth.mean(0)
    p, t = pred - mp, truth - mt
    u, s, vt = np.linalg.svd(p.T @ t)
    d = np.sign(np.linalg.det(u @ vt))
    D = np.diag([1.0, 1.0, d])
    R = (u @ D @ vt).T
    scale = np.trace(np.diag(s) @ D) / max(np.sum(p * p), 1e-12)
    return scale * p @ R.T + mt


def accuracy(pred: Array, truth: Array) -> Accuracy:
    """Errors of ``pred`` against ``truth``, both (T, 24, 3) world joints [m] in frames that agree on z up."""
    T = min(len(pred), len(truth))
    p, t = pred[:T], truth[:T]
    rel_p = p[:, EVAL_JOINTS] - p[:, :1]
    rel_t = t[:, EVAL_JOINTS] - t[:, :1]
    mpjpe = float(np.linalg.norm(rel_p - rel_t, axis=-1).mean())
    pa = float(np.mean([np.linalg.norm(procrustes(p[i, EVAL_JOINTS], t[i, EVAL_JOINTS]) - t[i, EVAL_JOINTS],
                                       axis=-1).mean() for i in range(T)]))
    root = float(np.linalg.norm((p[:, 0] - p[0, 0]) - (t[:, 0] - t[0, 0]), axis=-1).mean())
    return Accuracy(mpjpe, pa, root, T)


class ClosedLoop(NamedTuple):
    """One closed-loop run: the truth, the lift, its accuracy and how many frames had no person."""

    truth: SmplClip
    lifted: SmplClip
    accuracy: Accuracy
    frames_without_person: int
    render_fps: float
    timings: object


def closed_loop(kind: str = "wave", seed: int = 0, duration: float = 3.0, fps: float = 30.0,
                video_path: str | os.PathLike[str] | None = None) -> ClosedLoop:
    """Render the synthetic motion ``kind`` with the capsule figure, lift the video, compare with the truth.

    The render's camera and the lift's world agree: both have z up, and the figure starts at the origin
    facing +x, as the lift's world does (x the way the person faces first, pelvis above the origin). The
    camera is 3.4 m in front of the figure's start, or further back where it travels
    (:func:`genmimic.lift.figure.fit_distance`).
    """
    import time

    from .figure import RenderSetup, camera_of, fit_distance, render_frames
    from .lift_video import lift_video
    from .render import write_video
    from .synth import synthesize

    truth = synthesize(kind, seed=seed, duration=duration, fps=fps)
    setup = fit_distance(truth, RenderSetup())  # a travelling figure stays in view
    with tempfile.TemporaryDirectory() as tmp:
        path = str(video_path) if video_path is not None else os.path.join(tmp, f"{kind}.mp4")
        start = time.perf_counter()
        write_video(path, render_frames(truth, setup), fps)
        render_fps = truth.num_frames / (time.perf_counter() - start)
        lift = lift_video(path, focal=camera_of(setup).focal)
    acc = accuracy(lift.clip.joints, truth.joints)
    missing = len(lift.clip.meta["interpolated_frames"])
    return ClosedLoop(truth, lift.clip, acc, missing, render_fps, lift.timings)
