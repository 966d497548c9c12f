"""Tracking quality of a controller on a set of clips: success rates (legacy and strict), keypoint errors
per group, drift. The criteria are :mod:`genmimic.core.tracking`'s."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from genmimic.core.frame_metrics import fall_event
from genmimic.core.tracking import global_following, score_trajectory

from .controllers import Controller
from .corpus import load_clip_dir
from .track import track_clip


class Evaluation(NamedTuple):
    """Over ``clips`` clips: ``success_rate`` (legacy: no fall, mean keypoint error < 0.25 m),
    ``strict_success_rate`` (no fall, root-relative error <= 0.25 m in every 1 s window), ``fall_rate``;
    mean errors [m] over clips: global keypoints, root-relative, of strict successes, hands, feet, head;
    ``joint_error`` [rad] the mean absolute joint-angle error (:class:`genmimic.core.tracking.TrackingScore`);
    mean root error per metre travelled, mean heading error [rad]; ``travelled_rate`` and ``turned_rate``: of
    the clips whose reference travels (turns), the share where the robot went where the reference went
    (:func:`genmimic.core.tracking.global_following`, beside success, not in it; NaN when no clip applies);
    ``per_clip`` rows (``travelled``/``turned`` None where they do not apply)."""

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
    joint_error: float
    root_error_per_m: float
    heading_error: float
    travelled_rate: float
    turned_rate: float
    per_clip: list[dict[str, Any]]


def evaluate_clips(clips: str | Path, controller: Controller, lead_in_s: float | None = None) -> Evaluation:
    """Track every clip of ``clips`` (a directory or one file) with ``controller`` and score it; ``lead_in_s`` as
    in :func:`~genmimic.policy.track.track_clip` (None: a lead-in for clips that start in motion)."""
    rows = []
    for name, clip in load_clip_dir(clips):
        traj = track_clip(clip, controller, source=name, lead_in_s=lead_in_s)
        s = score_trajectory(traj, clip)
        groups = {f"{k}_error": v for k, v in s.groups._asdict().items()}
        fall = fall_event(traj)
        fell_at = fall.time_s if fall else None
        rows.append({"clip": Path(name).name, "fell": s.fell, "fell_at_s": fell_at,
                     "lead_in_s": traj.meta["params"]["lead_in_s"], "success": s.success,
                     "strict_success": s.strict_success, "error": s.mean_keypoint_error,
                     "root_relative_error": s.root_relative_error, "worst_window_error": s.worst_window_error,
                     **groups, "joint_error": s.joint_error, "root_error_per_m": s.root_error_per_m,
                     "heading_error": s.heading_error,
                     "final_heading_error": s.final_heading_error, **global_following(s)._asdict()})
    def mean(key: str, rs: list[dict[str, Any]] = rows) -> float:
        values = [r[key] for r in rs if r[key] is not None]
        return float(np.mean(values)) if values else float("nan")

    ok = [r for r in rows if r["strict_success"]]
    return Evaluation(len(rows), mean("success"), mean("strict_success"), mean("fell"), mean("error"),
                      mean("root_relative_error"), mean("root_relative_error", ok), mean("hands_error"),
                      mean("feet_error"), mean("head_error"), mean("joint_error"), mean("root_error_per_m"),
                      mean("heading_error"),
                      mean("travelled"), mean("turned"), rows)


def summary_lines(ev: Evaluation) -> list[str]:
    """What a person reads of an :class:`Evaluation`: one line per clip (fell or up, strict success, worst 1 s
    root-relative error, legacy success, hands [cm], joint-angle error [deg], root drift per metre, whether it
    travelled and turned with the reference or "n/a", the lead-in when one was used), then the totals; the JSON
    has every figure."""
    cm = lambda x: f"{100 * x:5.1f} cm"  # noqa: E731
    verdict = lambda v: "n/a" if v is None else ("yes" if v else "no ")  # noqa: E731
    applies = lambda key: [r[key] for r in ev.per_clip if r[key] is not None]  # noqa: E731
    width = max([len(r["clip"]) for r in ev.per_clip] + [4])
    state = lambda r: f"FELL at {r['fell_at_s']:4.1f} s" if r["fell"] else "up"  # noqa: E731
    lines = [f"{r['clip']:<{width}}  {state(r):<14}  "
             f"strict {'yes' if r['strict_success'] else 'no '}  worst 1 s {cm(r['worst_window_error'])}"
             f"  legacy {'yes' if r['success'] else 'no '} (global {cm(r['error'])})"
             f"  hands {cm(r['hands_error'])}  joint angles {np.degrees(r['joint_error']):4.1f} deg"
             f"  root drift {r['root_error_per_m']:.2f} m/m"
             f"  travelled {verdict(r['travelled'])}  turned {verdict(r['turned'])}"
             + (f"  (started standing: {r['lead_in_s']:g} s lead-in)" if r["lead_in_s"] else "")
             for r in ev.per_clip]
    plural = "s" if ev.clips != 1 else ""
    lines.append(f"{ev.clips} clip{plural}: strict success {100 * ev.strict_success_rate:.1f} %, falls "
                 f"{round(ev.fall_rate * ev.clips)} ({100 * ev.fall_rate:.1f} %), legacy success "
                 f"{100 * ev.success_rate:.1f} %; root-relative error {100 * ev.root_relative_error:.1f} cm "
                 f"({100 * ev.error_of_strict_successes:.1f} cm on strict successes), "
                 f"hands {100 * ev.hands_error:.1f} cm, feet {100 * ev.feet_error:.1f} cm, "
                 f"head {100 * ev.head_error:.1f} cm, joint angles {np.degrees(ev.joint_error):.1f} deg; "
                 f"root drift {ev.root_error_per_m:.2f} m per m travelled, heading error "
                 f"{np.degrees(ev.heading_error):.0f} deg; travelled with the reference on "
                 f"{sum(applies('travelled'))} of {len(applies('travelled'))} clips where it travels, turned with it "
                 f"on {sum(applies('turned'))} of {len(applies('turned'))} where it turns (beside success, not in it)")
    return lines


def to_json(ev: Evaluation) -> str:
    """The evaluation as strict JSON (NaN, e.g. the error of strict successes when there are none, as null),
    with a ``units`` entry: errors and drift in m (drift per m travelled), heading and joint angles in rad."""
    def clean(x: Any) -> Any:
        if isinstance(x, float) and not np.isfinite(x):
            return None
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, list | tuple):
            return [clean(v) for v in x]
        return x.item() if isinstance(x, np.generic) else x

    units = {"errors": "m", "root_error_per_m": "m/m", "heading_error": "rad", "joint_error": "rad"}
    data = {**clean(ev._asdict()), "units": units}
    return json.dumps(data, allow_nan=False)
