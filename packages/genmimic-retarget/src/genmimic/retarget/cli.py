"""``genmimic-retarget``: SMPL clip -> G1 clip, batches, and CSV/GMR import and export."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from genmimic.core.cli_support import error_line, progress, reports_errors, stage_app
from genmimic.core.clips import G1Clip, SmplClip, load_clip, save_clip
from genmimic.core.errors import GenMimicError
from genmimic.core.files import display_name, write_bytes_atomic

from .batch import retarget_folder
from .interop import CSV_FPS, FORMATS, ImportOptions, export_clip, import_clip
from .pipeline import RetargetConfig, RetargetReport, default_config, retarget

app = stage_app("genmimic-retarget", "SMPL clip -> G1 joints and 3D keypoints (Pink IK), feet cleaned up.",
                default_command="run")

FpsOption = Annotated[float, typer.Option("--fps", help="Output frame rate [1/s].")]
SmoothOption = Annotated[float | None, typer.Option(
    "--smooth", help="Low-pass cutoff [Hz]; 0: none; default: when the input shakes (by > 8 mm above 6 Hz, as "
    "noisy pose estimates do), the cutoff of 1.5-6 Hz that its estimated noise calls for (the noisier, the "
    "lower; the report says which), else none.")]
IterOption = Annotated[int, typer.Option("--iterations", min=1, max=50, help="IK iterations per frame.")]


def _config(fps: float, smooth: float | None, iterations: int) -> RetargetConfig:
    if fps <= 0:
        raise GenMimicError(f"--fps must be positive, got {fps}")
    if smooth is not None and not 0 <= smooth < min(fps, 1e9) / 2:
        raise GenMimicError(f"--smooth {smooth} Hz must be 0 (none) or below half the output rate ({fps / 2:g} Hz)")
    cfg = default_config()
    return replace(cfg, fps=fps, smooth_hz=smooth, ik=replace(cfg.ik, iterations=iterations))


def _report_json(report: RetargetReport) -> dict:
    return report._asdict()


@app.command()
@reports_errors
def run(
    source: Annotated[str, typer.Argument(help="SMPL clip (.npz) or - for stdin.")],
    output: Annotated[str, typer.Option("-o", "--output", help="G1 clip to write, or - for stdout.")],
    fps: FpsOption = 50.0,
    smooth: SmoothOption = None,
    iterations: IterOption = 2,
    report: Annotated[Path | None, typer.Option("--report", help="Also write the report as JSON here.")] = None,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="No report on stderr.")] = False,
) -> None:
    """Retarget one SMPL clip to the G1 (the default command: `genmimic-retarget IN -o OUT`)."""
    cfg = _config(fps, smooth, iterations)
    clip = load_clip(source, SmplClip)
    result = retarget(clip, cfg, source=source,
                      progress=lambda it: progress(it, "retargeting", total=len(it)))
    save_clip(result.clip, output)
    if report is not None:
        write_bytes_atomic(report, json.dumps(_report_json(result.report), indent=2).encode())
    if not quiet:
        typer.echo(f"genmimic-retarget: {display_name(source)}: {result.report.summary()}", err=True)


@app.command()
@reports_errors
def batch(
    folder: Annotated[Path, typer.Argument(help="Folder of SMPL clips (*.npz).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Folder for the G1 clips (same names).")],
    workers: Annotated[int | None, typer.Option(min=1, help="Worker processes (default: all cores).")] = None,
    fps: FpsOption = 50.0,
    smooth: SmoothOption = None,
    iterations: IterOption = 2,
    report: Annotated[Path | None, typer.Option("--report", help="Write all reports as JSON here.")] = None,
) -> None:
    """Retarget every clip of a folder, in parallel; a bad clip is reported and skipped."""
    cfg = _config(fps, smooth, iterations)
    items, failed = [], 0
    for item in retarget_folder(folder, output, cfg, workers):
        if item.error:
            failed += 1
            typer.echo(error_line(item.error), err=True)
        else:
            typer.echo(f"{item.source.name}: {item.report.summary()}", err=True)
        items.append({"source": str(item.source), "output": str(item.output), "error": item.error,
                      "report": _report_json(item.report) if item.report else None})
    if report is not None:
        write_bytes_atomic(report, json.dumps(items, indent=2).encode())
    typer.echo(f"{len(items) - failed} of {len(items)} clips retargeted into {output}", err=True)
    if failed:
        raise typer.Exit(1)


@app.command("export")
@reports_errors
def export_(
    source: Annotated[str, typer.Argument(help="G1 clip (.npz) or - for stdin.")],
    output: Annotated[str, typer.Option("-o", "--output", help="File to write, or - for stdout.")],
    fmt: Annotated[str, typer.Option("--format", help=f"One of: {', '.join(FORMATS)}.")] = "csv",
    fps: Annotated[float, typer.Option("--fps", help="CSV frame rate [1/s].")] = CSV_FPS,
) -> None:
    """Write a G1 clip as BeyondMimic/Unitree CSV or a GMR pickle."""
    if fps <= 0:
        raise GenMimicError(f"--fps must be positive, got {fps}")
    export_clip(load_clip(source, G1Clip), output, fmt, fps)


@app.command("import")
@reports_errors
def import_(
    source: Annotated[str, typer.Argument(help="BeyondMimic CSV (.csv) or GMR pickle (.pkl), or - for stdin "
                                          "(told apart by content).")],
    output: Annotated[str, typer.Option("-o", "--output", help="G1 clip to write, or - for stdout.")],
    fps: Annotated[float | None, typer.Option("--fps", help="Frame rate of a CSV [1/s] (CSV files do not say; "
                                              f"{CSV_FPS:g} when not given).")] = None,
    quat_order: Annotated[str | None, typer.Option("--quat-order", help="Order of the root quaternion in the file: "
                                                   "xyzw (both formats' convention) or wxyz.")] = None,
    scale: Annotated[float, typer.Option("--scale", help="Metres per unit of root_pos (0.01 for cm).")] = 1.0,
    degrees: Annotated[bool, typer.Option("--degrees", help="The joint angles are in degrees.")] = False,
    ground: Annotated[bool, typer.Option("--ground", help="Shift the root so the feet are on z = 0.")] = False,
    no_checks: Annotated[bool, typer.Option("--no-checks", help="Import even if the root starts lying or upside "
                                            "down, the feet are off the ground or joints pass their limits.")] = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Do not print the line saying what was read.")] = False,
) -> None:
    """Read a G1 motion from CSV or GMR into a G1 clip (keypoints by forward kinematics).

    The root must start upright, the feet be near the ground and the joints within the G1's limits;
    otherwise the error names the likely cause and the option that fixes it. One line on stderr says what
    was read (format, frames, rate and whether it was assumed, quaternion order)."""
    if fps is not None and fps <= 0:
        raise GenMimicError(f"--fps must be positive, got {fps}")
    options = ImportOptions(quat_order=quat_order, scale=scale, degrees=degrees, ground=ground, check=not no_checks)
    clip = import_clip(source, CSV_FPS if fps is None else fps, options)
    save_clip(clip, output)
    if not quiet:
        params = clip.meta.get("params", {})
        fmt = str(params.get("format", "")).upper()
        rate = f"{clip.fps:g} fps" + (" (assumed: CSV files do not say; --fps sets it)"
                                      if fmt == "CSV" and fps is None else "")
        typer.echo(f"genmimic-retarget: {display_name(source)}: {fmt}, {clip.num_frames} frames at {rate}, "
                   f"{clip.duration:.2f} s; root quaternion read as {params.get('quat_order', '?')}", err=True)


@app.command()
@reports_errors
def check(
    source: Annotated[str, typer.Argument(help="G1 clip (.npz) or - for stdin.")],
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the full report as JSON here.")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 2 unless the verdict is feasible.")] = False,
) -> None:
    """Feasibility of a G1 clip for the robot, before any controller.

    Joint limits, torques by inverse dynamics, the residual base wrench no contact can supply, foot slide
    and penetration; per-frame verdicts and a summary on stderr (feasible / adapt: a controller must
    deviate / infeasible)."""
    from .feasibility import check_feasibility

    clip = load_clip(source, G1Clip)
    if clip.num_frames < 3:
        raise GenMimicError(f"{display_name(source)}: {clip.num_frames} frames; the check needs at least 3 "
                            "(velocities, accelerations)")
    report = check_feasibility(clip)
    if json_out is not None:
        write_bytes_atomic(json_out, json.dumps(report.to_json()).encode())
    typer.echo(f"genmimic-retarget: {display_name(source)}: {report.summary()}", err=True)
    if strict and report.verdict != "feasible":
        raise typer.Exit(2)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
