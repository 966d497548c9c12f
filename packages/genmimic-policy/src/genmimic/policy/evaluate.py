"""Tracking quality of a controller on a set of clips: success rates (legacy and strict), keypoint errors
per group, drift. The criteria are :mod:`genmimic.core.tracking`'s."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from genmimic.core.tracking import score_trajectory

from .controllers import Controller
from .corpus import load_clip_dir
from .track import track_clip


class Evaluation(NamedTuple):
    """Over ``clips`` clips: ``success_rate`` (legacy: no fall, mean keypoint error < 0.25 m),
    ``strict_success_rate`` (no fall, root-relative error <= 0.25 m in every 1 s window), ``fall_rate``;
    mean errors [m] over clips: global keypoints, root-relative, of strict successes, hands, feet, head;
    mean root error per metre travelled, mean heading error [rad]; ``per_clip`` rows."""

    clips: int
    success_rate: float
    strict_success_rate: float
    fall_rate: float
    mean_keypoint_error: float
    root_relative_error: float
    error_of_strict_successes: float
    hands_error: float
    feet_error: float
    head_error: float
    root_error_per_m: float
    heading_error: float
    per_clip: list[dict[str, Any]]


def evaluate_clips(clips: str | Path, controller: Controller) -> Evaluation:
    """Track every clip of ``clips`` (a directory or one file) with ``controller`` and score it."""
    rows = []
    for name, clip in load_clip_dir(clips):
        s = score_trajectory(track_clip(clip, controller, source=name), clip)
        groups = {f"{k}_error": v for k, v in s.groups._asdict().items()}
        rows.append({"clip": Path(name).name, "fell": s.fell, "success": s.success,
                     "strict_success": s.strict_success, "error": s.mean_keypoint_error,
                     "root_relative_error": s.root_relative_error, "worst_window_error": s.worst_window_error,
                     **groups, "root_error_per_m": s.root_error_per_m, "heading_error": s.heading_error})
    mean = lambda key, rs=rows: float(np.mean([r[key] for r in rs])) if rs else float("nan")  # noqa: E731
    ok = [r for r in rows if r["strict_success"]]
    return Evaluation(len(rows), mean("success"), mean("strict_success"), mean("fell"), mean("error"),
                      mean("root_relative_error"), mean("root_relative_error", ok), mean("hands_error"),
                      mean("feet_error"), mean("head_error"), mean("root_error_per_m"), mean("heading_error"), rows)
