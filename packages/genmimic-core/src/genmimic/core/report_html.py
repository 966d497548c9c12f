"""A one-file HTML report of tracked motions, with plots (matplotlib, PNGs embedded, no internet needed).

Plots: root-relative keypoint error over time by body group for each controller
(:func:`genmimic.core.frame_metrics.trajectory_errors`, the definitions of :mod:`genmimic.core.tracking`), the
root path of the reference and of each robot seen from above, foot contacts, and joint-limit margins; then
the numbers of a report dict (``report.json``) and links to the files. Needs matplotlib
(``pip install genmimic-core[report]``).
"""

from __future__ import annotations

import base64
import html
import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from . import g1_constants as g1
from .files import write_bytes_atomic
from .frame_metrics import fall_event, joint_limit_margins, trajectory_errors
from .tracking import STRICT_WINDOW_ERROR_M, describe_global, score_trajectory

_GROUPS = ("all", "hands", "feet", "head")


class Run(NamedTuple):
    """One controller's trajectory (:class:`~genmimic.core.clips.Trajectory`) under a display name."""

    name: str
    trajectory: Any


def _subplots(rows: int, figsize: tuple[float, float], **kw: Any):
    from matplotlib.figure import Figure  # no pyplot: no global backend or figure state

    fig = Figure(figsize=figsize)
    return fig, fig.subplots(rows, 1, **kw)


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode()


def error_plot(runs: Sequence[Run], reference: Any) -> str:
    """PNG (base64) of the root-relative keypoint error [cm] over time, one panel per keypoint group, one line
    per controller; a cross where a controller fell."""
    fig, axes = _subplots(len(_GROUPS), figsize=(9, 1.8 * len(_GROUPS)), sharex=True)
    for run in runs:
        traj = run.trajectory
        errors = trajectory_errors(traj, reference)
        t = np.arange(traj.num_frames) / traj.fps
        fall = fall_event(traj)
        for ax, group in zip(axes, _GROUPS, strict=True):
            (line,) = ax.plot(t, getattr(errors, group) * 100, lw=1.2, label=run.name)
            if fall:
                ax.plot(fall.time_s, getattr(errors, group)[fall.frame] * 100, "x", ms=9, color=line.get_color())
    for ax, group in zip(axes, _GROUPS, strict=True):
        ax.set_ylabel(f"{group} [cm]")
        ax.grid(alpha=0.3)
    axes[0].axhline(STRICT_WINDOW_ERROR_M * 100, color="grey", ls="--", lw=0.8, label="strict limit (1 s mean)")
    axes[0].legend(loc="upper left", fontsize=8)
    axes[-1].set_xlabel("time [s]")
    fig.suptitle("root-relative keypoint error by body group (x: fall)")
    return _png(fig)


def root_path_plot(runs: Sequence[Run], reference: Any) -> str:
    """PNG (base64) of the root's (x, y) path [m], reference and robots, seen from above (z-up world)."""
    fig, ax = _subplots(1, figsize=(5.5, 5.5))
    ax.plot(reference.root_pos[:, 0], reference.root_pos[:, 1], "k--", lw=1.5, label="reference (human)")
    ax.plot(*reference.root_pos[0, :2], "ko", ms=5)
    for run in runs:
        p = run.trajectory.root_pos
        (line,) = ax.plot(p[:, 0], p[:, 1], lw=1.2, label=run.name)
        fall = fall_event(run.trajectory)
        if fall:
            ax.plot(*p[fall.frame, :2], "x", ms=10, color=line.get_color())
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel("x [m] (forward)")
    ax.set_ylabel("y [m] (left)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("root path from above (o: start, x: fall)")
    return _png(fig)


def contacts_plot(runs: Sequence[Run], reference: Any) -> str:
    """PNG (base64) of foot contacts over time: the reference's and each robot's, left and right foot."""
    rows = [("reference", reference.contacts, reference.fps)]
    rows += [(run.name, run.trajectory.contacts, run.trajectory.fps) for run in runs]
    fig, ax = _subplots(1, figsize=(9, 0.5 + 0.55 * 2 * len(rows)))
    labels = []
    for k, (name, contacts, fps) in enumerate(rows):
        t = np.arange(len(contacts)) / fps
        for side in (0, 1):
            y = 2 * k + side
            on = np.asarray(contacts[:, side], bool)
            ax.fill_between(t, y - 0.35, y + 0.35, where=on, step="mid", color=("C0", "C3")[side], alpha=0.8)
            labels.append(f"{name} {'left' if side == 0 else 'right'}")
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("time [s]")
    ax.set_title("foot contacts (filled: in contact)")
    return _png(fig)


def limits_plot(runs: Sequence[Run], reference: Any) -> str:
    """PNG (base64) of the smallest joint-limit margin [deg] over the 29 joints per frame (reference and
    robots), with the joint that comes closest named."""
    fig, ax = _subplots(1, figsize=(9, 2.8))
    for name, dof, fps, style in [("reference", reference.dof_pos, reference.fps, "k--")] + [
            (run.name, run.trajectory.dof_pos, run.trajectory.fps, "-") for run in runs]:
        margins = np.degrees(joint_limit_margins(dof))
        worst = np.unravel_index(np.argmin(margins), margins.shape)
        ax.plot(np.arange(len(dof)) / fps, margins.min(axis=1), style, lw=1.2,
                label=f"{name} (closest: {g1.JOINT_NAMES[worst[1]].removesuffix('_joint')}, "
                      f"{margins[worst]:.1f} deg)")
    ax.axhline(0, color="red", lw=0.8)
    ax.set_xlabel("time [s]")
    ax.set_ylabel("min margin [deg]")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("distance of the nearest joint to its position limit (below 0: past it)")
    return _png(fig)


def _rows(data: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(data, Mapping):
        out = []
        for k, v in data.items():
            out += _rows(v, f"{prefix}.{k}" if prefix else str(k))
        return out
    if isinstance(data, float):
        return [(prefix, f"{data:.4g}")]
    if isinstance(data, list) and data and isinstance(data[0], Mapping):
        return [(f"{prefix}[{i}]", ", ".join(f"{k}: {v}" for k, v in d.items())) for i, d in enumerate(data)]
    return [(prefix, str(data))]


def report_html(title: str, runs: Sequence[Run], reference: Any, numbers: Mapping[str, Any] | None = None,
                files: Sequence[str] = ()) -> str:
    """The HTML text of a report on ``runs`` (trajectories) tracking ``reference`` (a G1 clip): the four plots,
    the ``numbers`` (e.g. report.json, nested keys flattened to ``a.b``) and links to ``files`` (relative
    paths, linked as given)."""
    e = html.escape
    summary = []
    for run in runs:
        traj, fall = run.trajectory, fall_event(run.trajectory)
        score = score_trajectory(traj, reference)
        summary.append(f"<li><b>{e(run.name)}</b>: {traj.duration:.1f} s, {e(fall.label()) if fall else 'no fall'}; "
                       f"mean keypoint error {score.mean_keypoint_error * 100:.1f} cm (root-relative "
                       f"{score.root_relative_error * 100:.1f} cm); {e(describe_global(score))}</li>")
    plots = [error_plot(runs, reference), root_path_plot(runs, reference), contacts_plot(runs, reference),
             limits_plot(runs, reference)]
    table = "".join(f"<tr><td>{e(k)}</td><td>{e(v)}</td></tr>" for k, v in _rows(dict(numbers or {})))
    links = "".join(f'<li><a href="{e(f)}">{e(f)}</a></li>' for f in files)
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>{e(title)}</title><style>
body{{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}} img{{max-width:100%}}
table{{border-collapse:collapse;font-size:13px}} td{{border:1px solid #ccc;padding:2px 8px}}</style></head><body>
<h1>{e(title)}</h1><ul>{''.join(summary)}</ul>
{''.join(f'<p><img alt="plot" src="data:image/png;base64,{p}"></p>' for p in plots)}
<h2>Numbers (report.json)</h2><table>{table}</table>
<h2>Files</h2><ul>{links}</ul></body></html>
"""


def write_report_html(dest: str | os.PathLike[str], title: str, runs: Sequence[Run], reference: Any,
                      numbers: Mapping[str, Any] | None = None, files: Sequence[str] = ()) -> Path:
    """Write :func:`report_html` to ``dest`` atomically (a failure leaves no partial file); returns the path."""
    text = report_html(title, runs, reference, numbers, files)
    write_bytes_atomic(dest, text.encode())
    return Path(dest)
