"""``genmimic-bench``: build a GenMimicBench-style benchmark, run it, and run the pipeline on videos."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from genmimic.core.cli_support import progress, reports_errors, stage_app
from genmimic.core.errors import GenMimicError
from genmimic.core.files import check_output_folder

app = stage_app("genmimic-bench", "GenMimicBench-style evaluation: generated-video artefacts, metrics, baselines.")


@app.command()
@reports_errors
def make(
    output: Annotated[Path, typer.Option("-o", "--output", help="Benchmark folder to create.")],
    source: Annotated[Path | None, typer.Option("--from", help="Folder of SMPL clips (.npz) and/or BVH files "
                                                "(default: the project's procedural motions).")] = None,
    seeds: Annotated[int, typer.Option(min=1, max=20, help="Procedural motions per kind.")] = 2,
) -> None:
    """Write clean motions and their corrupted variants, and the manifest."""
    from .manifest import make_benchmark

    check_output_folder(output)
    sources = None
    if source is not None:
        if not source.is_dir():
            raise GenMimicError(f"{source}: not a folder")
        sources = sorted(p for p in source.iterdir() if p.suffix.lower() in (".npz", ".bvh"))
        if not sources:
            raise GenMimicError(f"{source}: no .npz or .bvh files")
    entries = make_benchmark(output, sources, seeds,
                             progress=lambda jobs: progress(jobs, "making clips", total=len(jobs)))
    typer.echo(f"{len(entries)} clips ({sum(e.corruption == 'none' for e in entries)} clean) in {output}", err=True)


@app.command()
@reports_errors
def run(
    bench: Annotated[Path, typer.Argument(help="Benchmark folder (from `genmimic-bench make`).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Folder for results and the report.")],
    policy: Annotated[str | None, typer.Option(help="Student policy file or run (default: the shipped policy).")]
    = None,
    method: Annotated[list[str] | None, typer.Option(
        "--method", help="A tracker registered in genmimic-policy (policy, twist2, replay, onnx, mpc, ...); repeat "
        "for several. Default: policy, twist2 (where its file is found) and replay.")] = None,
    baseline_dir: Annotated[Path | None, typer.Option(
        "--baseline-dir", help="Folder of TWIST2's ONNX file (default: ../shared/baselines/twist2).")] = None,
    spec: Annotated[Path | None, typer.Option("--spec", help="Tracker spec (JSON) for --method onnx.")] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="Worker processes (default: all cores).")] = None,
) -> None:
    """Retarget and track every clip with each method; results and a report side by side.

    Writes results (JSON, CSV) and a report (markdown, plots, HTML) with the methods side by side."""
    from .report import summary_table
    from .runner import TrackerOptions, default_methods, run_benchmark

    check_output_folder(output)
    options = TrackerOptions(policy, None if baseline_dir is None else str(baseline_dir),
                             None if spec is None else str(spec))
    methods = tuple(method) if method else default_methods(options)
    if not method and "twist2" not in methods:
        typer.echo("genmimic-bench: TWIST2 not found (pass --baseline-dir DIR holding twist2_1017_20k.onnx); "
                   "running without it", err=True)
    rows = run_benchmark(bench, output, methods, options, workers,
                         progress=lambda it, n: progress(it, "running", total=n))
    for r in summary_table(rows, "method"):
        typer.echo(f"{r['method']:8s} strict success {r['strict_%']:5.1f}%  success {r['success_%']:5.1f}%  "
                   f"falls {r['fall_%']:5.1f}%  root-relative {r['rel_mm']:6.1f} mm  MPKPE {r['mpkpe_mm']:6.1f} mm  "
                   f"over {r['clips']} clips", err=True)
    typer.echo(f"report: {output / 'report.html'}", err=True)


@app.command()
@reports_errors
def video(
    folder: Annotated[Path, typer.Argument(help="Folder of videos (.mp4, .mov, .avi, .webm).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Folder for clips and results.")],
    policy: Annotated[str | None, typer.Option(help="Policy file (default: the shipped policy).")] = None,
) -> None:
    """The whole pipeline on your videos (lift, retarget, track): per-video success and the stage that failed."""
    from .videos import run_videos

    check_output_folder(output)
    results = run_videos(folder, output, policy)
    for r in results:
        status = "success" if r["success"] else f"failed at {r['failed_stage']}" if r["failed_stage"] else "fell"
        typer.echo(f"{r['video']}: {status}" + (f" ({r['error']})" if r["error"] else ""), err=True)
    (output / "videos.json").write_text(json.dumps(results, indent=1))
    if any(r["failed_stage"] for r in results):
        raise typer.Exit(1)


@app.command()
@reports_errors
def batch(
    inputs: Annotated[list[Path], typer.Argument(help="Videos, BVH, AMASS/GVHMR files, SMPL or G1 clips (.npz), "
                                                 "or folders of them.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Folder for each input's outputs and the manifest.")],
    policy: Annotated[str | None, typer.Option(help="Student policy file or run (default: the shipped policy).")]
    = None,
    method: Annotated[str, typer.Option(help="Tracker registered in genmimic-policy (policy, replay, mpc, ...).")]
    = "policy",
    workers: Annotated[int | None, typer.Option(min=1, help="Worker processes (default: all cores, or every CPU "
                                                "of the Ray cluster).")] = None,
    timeout_s: Annotated[float | None, typer.Option("--timeout-s", min=0.1, help="Time limit per input [s]; "
                                                    "its worker is stopped and replaced.")] = None,
    memory_mb: Annotated[int | None, typer.Option("--memory-mb", min=256, help="Address-space limit of each worker "
                                                  "process [MiB] (RLIMIT_AS, set once it has started: ~1 GiB, "
                                                  "~1.7 GiB with videos).")]
    = None,
    backend: Annotated[str, typer.Option(help="auto (Ray where installed), ray or local.")] = "auto",
    address: Annotated[str | None, typer.Option(help="A Ray cluster to run on (ray://HOST:10001 or auto); default: "
                                                "a local Ray instance with all cores.")] = None,
) -> None:
    """lift -> retarget -> feasibility check -> track for every input, one task each.

    A rerun skips inputs already done. Writes `OUT/<name>/` per input and `OUT/manifest.jsonl`; exit code 1 if
    any input failed."""
    from genmimic.core.cli_support import counts_progress

    from .batch import BatchOptions, collect_inputs, is_video
    from .batch_pools import choose_backend, run_batch

    check_output_folder(output)
    tasks = collect_inputs(inputs)
    _, note = choose_backend(backend, address)
    if note:
        typer.echo(f"genmimic-bench: {note}", err=True)
    options = BatchOptions(method, policy, timeout_s, memory_mb, any(is_video(t.path) for t in tasks))
    with counts_progress("batch", len(tasks)) as update:
        summary = run_batch(tasks, output, options, workers=workers, backend=backend, address=address,
                            progress=update)
    for r in summary.failed:
        typer.echo(f"{r.input}: failed at {r.failed_stage}: {r.error}", err=True)
    done = len(summary.records) - len(summary.failed)
    rate = f", {done / summary.wall_s:.2f} inputs/s" if done else ""
    typer.echo(f"{done} done, {len(summary.failed)} failed, {len(summary.skipped)} already done; "
               f"{summary.wall_s:.1f} s on {summary.workers} {summary.backend} worker(s){rate}; "
               f"manifest: {output / 'manifest.jsonl'}", err=True)
    if summary.failed:
        raise typer.Exit(1)
