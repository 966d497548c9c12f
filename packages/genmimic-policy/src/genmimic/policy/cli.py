"""``genmimic-policy``: train the G1 tracker, track clips with it, export it to ONNX."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from genmimic.core.cli_support import reports_errors, setup_logging, stage_app

from . import __version__

app = stage_app(
    "genmimic-policy",
    "GenMimic policy: a keypoint-conditioned G1 tracker (teacher PPO + symmetry loss, student by DAgger), "
    "run in C MuJoCo to turn a G1 clip into a physically plausible trajectory, exported to ONNX.",
)
log = logging.getLogger("genmimic.policy")
POLICY_HELP = "policy.npz or a run directory; default: the policy shipped in this package."


def _policy(policy: str | None):
    from .policy_file import load_policy, policy_from_run

    if policy is not None and Path(policy).is_dir():
        return policy_from_run(policy)
    return load_policy(policy)


@app.command()
@reports_errors
def train(
    clips: Annotated[Path, typer.Option("--clips", help="Directory of G1 clips (.npz) to learn from.")],
    out: Annotated[Path, typer.Option("--out", help="Run directory (created; an existing run is resumed).")],
    config: Annotated[Path | None, typer.Option("--config", help="JSON config overriding the defaults.")] = None,
    phase: Annotated[str, typer.Option(help="teacher, student or all.")] = "all",
    verbose: Annotated[bool, typer.Option("-v", "--verbose")] = False,
) -> None:
    """Train (or resume) the teacher with PPO, then distil the student with DAgger."""
    from .config import load_config
    from .errors import ConfigError
    from .train import train as run_training

    setup_logging(verbose)
    phases = {"all": ("teacher", "student"), "teacher": ("teacher",), "student": ("student",)}
    if phase not in phases:
        raise ConfigError(f"--phase must be one of {', '.join(phases)}, got {phase!r}")
    cfg = load_config(config) if config is not None else None
    summary = run_training(clips, out, cfg, phases[phase])
    typer.echo(json.dumps(summary))


@app.command()
@reports_errors
def track(
    clip: Annotated[str, typer.Argument(help="G1 clip (.npz) or - for stdin.")],
    output: Annotated[str, typer.Option("-o", "--output", help="Trajectory clip to write (.npz) or - for stdout.")],
    policy: Annotated[str | None, typer.Option("--policy", help=POLICY_HELP)] = None,
    render: Annotated[Path | None, typer.Option("--render", help="Also write an MP4 of the simulated robot.")] = None,
    verbose: Annotated[bool, typer.Option("-v", "--verbose")] = False,
) -> None:
    """Make the simulated G1 perform CLIP with the policy; write what it physically did."""
    from genmimic.core.clips import G1Clip, load_clip, save_clip
    from genmimic.core.files import display_name

    from .track import track_clip

    setup_logging(verbose)
    g1clip = load_clip(clip, G1Clip)
    net, meta = _policy(policy)
    print(f"genmimic-policy: tracking {g1clip.num_frames} frames ({g1clip.duration:.1f} s)", file=sys.stderr)
    traj = track_clip(g1clip, net, meta, source=display_name(clip), render=render, version=__version__)
    save_clip(traj, output)
    print(f"genmimic-policy: {'FELL' if traj.fell else 'stayed up'}, mean keypoint error "
          f"{traj.tracking_error.mean():.3f} m", file=sys.stderr)


@app.command()
@reports_errors
def export(
    output: Annotated[Path, typer.Option("-o", "--output", help="ONNX file to write (the JSON goes beside it).")],
    run: Annotated[str | None, typer.Argument(help="Run directory or policy.npz.")] = None,
    shipped: Annotated[bool, typer.Option("--shipped", help="Export the policy shipped in this package.")] = False,
) -> None:
    """Export a student (RUN, or --shipped) to ONNX (normalisation inside) plus a JSON of its interface."""
    from .errors import PolicyError
    from .export import export_onnx

    if (run is None) == (not shipped):
        raise PolicyError("export needs exactly one of RUN (a run directory or policy.npz) and --shipped")
    net, meta = _policy(run)
    onnx_path, json_path = export_onnx(net, meta, output)
    typer.echo(f"{onnx_path}\n{json_path}")


@app.command()
@reports_errors
def corpus(
    out: Annotated[Path, typer.Argument(help="Directory to write G1 clips into.")],
    count: Annotated[int, typer.Option(help="Number of clips.")] = 50,
    seed: Annotated[int, typer.Option()] = 0,
    duration: Annotated[float, typer.Option(help="Clip length [s].")] = 8.0,
    source: Annotated[str, typer.Option(help="auto, synth (genmimic-lift synth + retarget) or joints.")] = "auto",
) -> None:
    """Make a training corpus of G1 clips the project generates itself."""
    from .corpus import make_corpus

    paths = make_corpus(out, count, seed, duration, source)
    typer.echo(f"wrote {len(paths)} clips to {out}")


@app.command()
@reports_errors
def evaluate(
    clips: Annotated[Path, typer.Argument(help="Directory of G1 clips (or one clip).")],
    policy: Annotated[str | None, typer.Option("--policy", help=POLICY_HELP)] = None,
) -> None:
    """Track every clip; print the success rate (no fall, mean keypoint error < 0.25 m) and errors as JSON."""
    from .evaluate import evaluate_clips

    net, meta = _policy(policy)
    typer.echo(json.dumps(evaluate_clips(clips, net, meta)._asdict()))
