"""``genmimic-policy``: train the G1 tracker, track clips with it, export it to ONNX."""

from __future__ import annotations

import json
import logging
import math
import sys
from pathlib import Path
from typing import Annotated

import typer

from genmimic.core.cli_support import reports_errors, setup_logging, stage_app
from genmimic.core.lead_in import LEAD_IN_HELP

from . import __version__

app = stage_app(
    "genmimic-policy",
    "GenMimic policy: a keypoint-conditioned G1 tracker (teacher PPO + symmetry loss, student by DAgger), "
    "run in C MuJoCo to turn a G1 clip into a physically plausible trajectory, exported to ONNX.",
)
log = logging.getLogger("genmimic.policy")
POLICY_HELP = "policy.npz, policy.onnx or a run directory; default: the policy shipped in this package."
MULTIHOST_HELP = "Training over several hosts (mjx backend, one process per host, all three options): "



@app.command()
@reports_errors
def train(
    clips: Annotated[Path, typer.Option("--clips", help="Directory of G1 clips (.npz) to learn from; its goals/ "
                                                   "may hold corrupted versions of some, the student's goals for "
                                                   "them (scripts/make_goal_pairs.sh).")],
    out: Annotated[Path, typer.Option("--out", help="Run directory (created; an existing run is resumed).")],
    config: Annotated[Path | None, typer.Option(
        "--config", help="JSON config: overrides of the run's saved config when resuming, else of the "
        "defaults.")] = None,
    phase: Annotated[str, typer.Option(help="teacher, student or all.")] = "all",
    coordinator: Annotated[str | None, typer.Option(help=MULTIHOST_HELP + "process 0's HOST:PORT.")] = None,
    num_processes: Annotated[int | None, typer.Option(help=MULTIHOST_HELP + "how many processes.")] = None,
    process_id: Annotated[int | None, typer.Option(help=MULTIHOST_HELP + "this one's id, 0..N-1.")] = None,
    verbose: Annotated[bool, typer.Option("-v", "--verbose", help="Log progress and details on stderr.")] = False,
) -> None:
    """Train (or resume) the teacher with PPO, then distil the student with DAgger."""
    from .config import load_config
    from .errors import ConfigError
    from .run_dir import RunDir

    require_training_stack("train")
    setup_logging(verbose)
    phases = {"all": ("teacher", "student"), "teacher": ("teacher",), "student": ("student",)}
    if phase not in phases:
        raise ConfigError(f"--phase must be one of {', '.join(phases)}, got {phase!r}")
    run = RunDir(out)
    saved = run.read_config() if run.is_run() else None
    cfg = load_config(config, base=saved) if config is not None else None
    if (coordinator, num_processes, process_id) != (None, None, None):  # before any JAX computation
        from .config import default_config
        from .sharding import start_multihost

        run_cfg = cfg or saved or default_config()  # what training will use: --config, the run's own, defaults
        log.info(start_multihost(run_cfg.backend, coordinator, num_processes, process_id))
    from .train import train as run_training

    summary = run_training(clips, out, cfg, phases[phase])
    typer.echo(json.dumps(summary))


def require_training_stack(command: str) -> None:
    """One line, naming the extra to install, when the training stack (``genmimic-policy[train]``) is missing."""
    import importlib.util

    from .errors import PolicyError

    def installed(module: str) -> bool:
        try:
            return importlib.util.find_spec(module) is not None
        except ImportError:
            return False

    missing = [m for m in ("jax", "flax", "optax", "tensorboard") if not installed(m)]
    if missing:
        raise PolicyError(f"genmimic-policy {command} needs the training stack ({', '.join(missing)} not installed): "
                          "pip install 'genmimic-policy[train]'")


CONTROLLER_HELP = ("Tracker: policy (the learned student), mpc (the sampling MPC, no training; {mpc}), replay "
                   "(open-loop PD replay), twist2 (TWIST2's released tracker, --baseline-dir), onnx (--spec FILE) or "
                   "another registered one.")


BASELINE_HELP = "Folder holding a peer's ONNX file (twist2: twist2_1017_20k.onnx; default ../shared/baselines/twist2)."
SPEC_HELP = "Tracker spec (JSON, genmimic.tracker_spec/1) for --controller onnx."


def _controller(name: str, policy: str | None, baseline_dir: Path | None = None, spec: Path | None = None,
                **mpc_options):
    from .controllers import make_controller

    extra = {k: v for k, v in (("baseline_dir", baseline_dir), ("spec", spec)) if v is not None}
    return make_controller(name, policy=policy, **extra, **mpc_options)


MPC_HELP = "--controller mpc: "


def _first_seconds(clip, seconds: float, source: str):
    """The first ``seconds`` [s] of a G1 clip (at least 2 frames); PolicyError when ``seconds`` <= 0."""
    from .errors import PolicyError

    if not seconds > 0:
        raise PolicyError(f"--seconds must be positive, got {seconds} (for {source})")
    return _first_frames(clip, max(2, int(seconds * clip.fps) + 1))


def _first_frames(clip, n: int):
    """The first ``n`` frames of a clip (all of it when shorter)."""
    n = min(clip.num_frames, n)
    return clip.replace(**{f.name: getattr(clip, f.name)[:n] for f in clip.array_fields()
                           if f.metadata["shape"][:1] == ("T",)})


@app.command()
@reports_errors
def track(
    clip: Annotated[str, typer.Argument(help="G1 clip (.npz) or - for stdin.")],
    output: Annotated[str, typer.Option("-o", "--output", help="Trajectory clip to write (.npz) or - for stdout.")],
    policy: Annotated[str | None, typer.Option("--policy", help=POLICY_HELP)] = None,
    controller: Annotated[str, typer.Option("--controller", help=CONTROLLER_HELP.format(
        mpc="--horizon, --samples, --seed"))] = "policy",
    baseline_dir: Annotated[Path | None, typer.Option("--baseline-dir", help=BASELINE_HELP)] = None,
    spec: Annotated[Path | None, typer.Option("--spec", help=SPEC_HELP)] = None,
    render: Annotated[Path | None, typer.Option("--render", help="Also write an MP4 of the simulated robot.")] = None,
    seconds: Annotated[float | None, typer.Option("--seconds", help="Track only the first this-many seconds.")] = None,
    lead_in: Annotated[float | None, typer.Option("--lead-in", min=0.0, help=LEAD_IN_HELP)] = None,
    horizon: Annotated[float | None, typer.Option("--horizon", help=MPC_HELP + "planning horizon [s] (0.8).")] = None,
    samples: Annotated[int | None, typer.Option("--samples", help=MPC_HELP + "rollouts per round (32 x 2).")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help=MPC_HELP + "sampling seed (0).")] = None,
    verbose: Annotated[bool, typer.Option("-v", "--verbose", help="Log progress and details on stderr.")] = False,
) -> None:
    """Make the simulated G1 perform CLIP with a tracker; write what it physically did, and print its scores.

    The exit code is 0 whenever the trajectory is written, also when the robot falls (a result, not an
    error: the report says when and why it fell, and the trajectory's 'fallen' flags mark it); 1 on bad input."""
    from genmimic.core.clips import G1Clip, Trajectory, load_clip, save_clip
    from genmimic.core.files import check_output_path, display_name
    from genmimic.core.frame_metrics import fall_event
    from genmimic.core.runtime.reference import check_joint_angles, check_keypoints_match_joints
    from genmimic.core.standing import lead_in_note, resolve_lead_in
    from genmimic.core.tracking import STRICT_WINDOW_ERROR_M, describe_global, score_trajectory

    from .errors import PolicyError
    from .track import track_clip

    setup_logging(verbose)
    check_output_path(output)  # before the simulation (minutes for the MPC)
    g1clip = load_clip(clip, G1Clip)
    if isinstance(g1clip, Trajectory):
        print(f"genmimic-policy: note: {display_name(clip)} is a tracked trajectory ({Trajectory.format_id()}), "
              "not a retargeted reference; tracking its keypoints (its arms' joint angles are a policy's own, "
              "up to 2 rad from a retargeted pose's)", file=sys.stderr)
    check_joint_angles(g1clip, display_name(clip))  # before the header line: a clip in degrees is refused
    check_keypoints_match_joints(g1clip, display_name(clip))
    if seconds is not None:
        g1clip = _first_seconds(g1clip, seconds, display_name(clip))
    try:
        lead = resolve_lead_in(g1clip, lead_in)
    except ValueError as e:
        raise PolicyError(f"{display_name(clip)}: {e}") from None
    ctrl = _controller(controller, policy, baseline_dir, spec, horizon_s=horizon, num_samples=samples, seed=seed,
                       progress=True)
    print(f"genmimic-policy: tracking {g1clip.num_frames} frames ({g1clip.duration:.1f} s) with "
          f"{getattr(ctrl, 'description', ctrl.name)}",
          file=sys.stderr)
    if lead > 0:
        print(f"genmimic-policy: {lead_in_note(g1clip, lead, lead_in is None)}", file=sys.stderr)
    traj = track_clip(g1clip, ctrl, source=display_name(clip), render=render, version=__version__, lead_in_s=lead)
    save_clip(traj, output)
    s = score_trajectory(traj, g1clip)
    cm = lambda x: f"{100 * x:.1f}"  # noqa: E731  [m] -> [cm], as the demo and the policy README report them
    # Three short lines: the verdict, the pose errors, the drift (reported beside success, not inside it)
    fall = fall_event(traj)
    verdict = fall.label() if fall else "stayed up"
    print(f"genmimic-policy: wrote {display_name(output, output=True)}; {verdict}; strict success "
          f"{'yes' if s.strict_success else 'no'} "
          f"(worst 1 s root-relative error {cm(s.worst_window_error)} cm, at most "
          f"{100 * STRICT_WINDOW_ERROR_M:.0f} cm to pass)", file=sys.stderr)
    before = ""
    if fall and fall.frame >= 2:  # after a fall the errors are mostly the robot lying on the floor
        up = score_trajectory(_first_frames(traj, fall.frame), g1clip)
        before = f"; before the fall: {cm(up.mean_keypoint_error)} cm, root-relative {cm(up.root_relative_error)} cm"
    print(f"genmimic-policy: mean keypoint error {cm(s.mean_keypoint_error)} cm, root-relative "
          f"{cm(s.root_relative_error)} cm (hands {cm(s.groups.hands)}, feet {cm(s.groups.feet)}, "
          f"head {cm(s.groups.head)} cm), joint angles {math.degrees(s.joint_error):.1f} deg off{before}",
          file=sys.stderr)
    lay = f"it fell at {fall.time_s:.2f} s, so this is where it lay: " if fall else ""
    print(f"genmimic-policy: {lay}{describe_global(s)} (beside success, not in it)", file=sys.stderr)


@app.command()
@reports_errors
def export(
    output: Annotated[Path, typer.Option("-o", "--output", help="ONNX file to write (the JSON goes beside it).")],
    run: Annotated[str | None, typer.Argument(help="Run directory or policy.npz.")] = None,
    shipped: Annotated[bool, typer.Option("--shipped", help="Export the policy shipped in this package.")] = False,
    average_with: Annotated[list[Path] | None, typer.Option(
        "--average-with", help="Another run directory (e.g. a copy of RUN's checkpoint at another iteration) whose "
        "student's weights are averaged with RUN's (checkpoint averaging); repeat for more.")] = None,
) -> None:
    """Export a student (RUN, or --shipped) to ONNX, its spec as JSON beside it.

    The normalisation is inside the model, its spec also in the model's metadata."""
    from .errors import PolicyError
    from .export import export_onnx

    if (run is None) == (not shipped):
        raise PolicyError("export needs exactly one of RUN (a run directory or policy.npz) and --shipped")
    from .run_dir import RunDir, load_policy_or_run

    if average_with:
        if run is None or not RunDir(Path(run)).checkpoint("student").is_file():
            raise PolicyError(f"{run or 'the shipped policy'}: --average-with needs RUN to be a run directory with "
                              "a student checkpoint (student.msgpack)")
        source = RunDir(Path(run))
        kept = {}  # what RUN's own export recorded beside the checkpoints (e.g. the number of clips)
        if source.policy_path.is_file():
            kept = {k: v for k, v in source.read_policy()[1].training.items()
                    if k not in ("teacher", "student", "averaged")}
        net, spec = source.student_policy(kept, average_with=tuple(RunDir(p) for p in average_with))
    else:
        net, spec = load_policy_or_run(run)
    onnx_path, json_path = export_onnx(net, spec, output)
    typer.echo(f"{onnx_path}\n{json_path}")


@app.command()
@reports_errors
def corpus(
    out: Annotated[Path, typer.Argument(help="New (or empty) folder to write the G1 clips into.")],
    count: Annotated[int, typer.Option(help="Number of clips (at least 1).")] = 50,
    seed: Annotated[int, typer.Option(help="First random seed; clip i uses seed + i (held-out sets: >= 9000).")] = 0,
    duration: Annotated[float, typer.Option(help="Clip length [s], 0.5-600.")] = 8.0,
    source: Annotated[str, typer.Option(help=(
        "synth: genmimic-synth's procedural human motions (every kind in turn) retargeted to the G1; joints: "
        "G1 motions made in joint space (arm gestures, squats, weight shifts, torso twists); auto: synth when "
        "genmimic-lift and genmimic-retarget are installed, else joints."))] = "auto",
    arm_variety: Annotated[bool, typer.Option("--arm-variety", help=(
        "Give each clip another arm posture, held from the first frame on (upper arms and wrists turned, "
        "elbows bent or straight), as lifted videos and mocap have."))] = False,
    kinds: Annotated[str, typer.Option(help=(
        "Comma-separated kinds to make, in turn (e.g. jump,crouch); all of the source's by default "
        "(genmimic-synth --list names the synth kinds)."))] = "",
) -> None:
    """Make a training corpus of G1 clips the project generates itself."""
    from .corpus import make_corpus

    chosen = tuple(k.strip() for k in kinds.split(",") if k.strip())
    paths = make_corpus(out, count, seed, duration, source, arm_variety, chosen)
    typer.echo(f"wrote {len(paths)} clip{'s' if len(paths) != 1 else ''} to {out}")


@app.command()
@reports_errors
def evaluate(
    clips: Annotated[Path, typer.Argument(help="Directory of G1 clips (or one clip).")],
    policy: Annotated[str | None, typer.Option("--policy", help=POLICY_HELP)] = None,
    controller: Annotated[str, typer.Option("--controller", help=CONTROLLER_HELP.format(
        mpc="with its defaults; `track` sets its horizon and samples"))] = "policy",
    baseline_dir: Annotated[Path | None, typer.Option("--baseline-dir", help=BASELINE_HELP)] = None,
    spec: Annotated[Path | None, typer.Option("--spec", help=SPEC_HELP)] = None,
    lead_in: Annotated[float | None, typer.Option("--lead-in", min=0.0, help=LEAD_IN_HELP)] = None,
) -> None:
    """Track every clip; print success rates (legacy and strict), errors per group and drift.

    A table for people goes to stderr (one line per clip, then the totals, in cm); the JSON (every figure, in
    m and rad) goes to stdout for scripts."""
    from .evaluate import evaluate_clips, summary_lines, to_json

    result = evaluate_clips(clips, _controller(controller, policy, baseline_dir, spec), lead_in)
    for line in summary_lines(result):
        typer.echo(line, err=True)
    typer.echo(to_json(result))
