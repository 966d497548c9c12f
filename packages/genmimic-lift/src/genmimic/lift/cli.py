"""Commands: ``genmimic-lift INPUT -o OUT.npz`` (a video or a mocap file to an SMPL clip) and
``genmimic-synth KIND -o OUT.npz`` (a procedural motion). Thin: parse, call the library, save."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from genmimic.core import save_clip
from genmimic.core.cli_support import HelpTyper, progress, reports_errors, setup_logging, version_option
from genmimic.core.files import check_output_path, display_name

from .errors import LiftError

log = logging.getLogger("genmimic.lift")

lift_app = HelpTyper(add_completion=False)
synth_app = HelpTyper(add_completion=False)

Output = Annotated[str, typer.Option("-o", "--output", help="Output SMPL clip (.npz); '-' writes to stdout.")]
Version = Annotated[bool | None, typer.Option("--version", callback=version_option("genmimic-lift"),
                                              is_eager=True, help="Print the version and exit.")]


@lift_app.command()
@reports_errors
def lift(
    input: Annotated[str, typer.Argument(help="A video (.mp4 .mov .avi .webm .mkv .m4v), BVH mocap (.bvh), an "
                                         "AMASS-style .npz or GVHMR's hmr4d_results.pt.")],
    output: Output,
    focal: Annotated[float | None, typer.Option(help="Focal length [pixels] of the video's camera; default "
                                                "the larger image side (about 53 degrees field of view).")] = None,
    body_model: Annotated[Path | None, typer.Option("--body-model", help="SMPL model file or folder (read with "
                                                    "smplx): fit its shape and use its joint regressor.")] = None,
    render: Annotated[Path | None, typer.Option(help="Also write a video of the lifted skeleton drawn over "
                                                "the input (videos only).")] = None,
    fps: Annotated[float | None, typer.Option(help="Frame rate [1/s] of the clip. Videos: the uniform rate "
                                              "the frames are resampled to; default from the video's "
                                              "timestamps (29.97 stays 29.97). Mocap without a stored rate "
                                              "(GVHMR results, some AMASS files): their rate.")] = None,
    allow_partial: Annotated[bool, typer.Option("--allow-partial", help="Videos: lift the frames of a stream "
                                                "that breaks or ends before its declared frame count, with a "
                                                "warning, instead of refusing it.")] = False,
    up: Annotated[str | None, typer.Option("--up", help="Mocap: the file's up axis, y or z (default: BVH from "
                                           "the skeleton, AMASS z, GVHMR y).")] = None,
    scale: Annotated[float | None, typer.Option("--scale", help="BVH: metres per file unit (default: from the "
                                                "skeleton's size: m, cm, mm, inch or CMU).")] = None,
    no_checks: Annotated[bool, typer.Option("--no-checks", help="Mocap: import even if the body starts lying or "
                                            "upside down or is not human-sized.")] = False,
    refine: Annotated[bool, typer.Option("--refine", help="BVH: fit SMPL's rotations to the joints by "
                                         "optimisation (slow) instead of converting them in closed form.")] = False,
    verbose: Annotated[bool, typer.Option("-v", "--verbose", help="Log steps and timings to stderr (and "
                                          "MediaPipe's start-up messages).")] = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Do not print the line saying the detected up "
                                        "axis, unit, rate and frame count (mocap) or the video's timing.")] = False,
    version: Version = None,
) -> None:
    """Lift a video, or import mocap, into an SMPL clip (genmimic.smpl/1: z up, feet on z = 0).

    INPUT '-' reads standard input. One line on stderr says what was detected (mocap) or how the video's
    frames became the clip's (rate, a variable frame rate resampled, rotation)."""
    setup_logging(verbose)
    check_output_path(output)  # before minutes of work
    from .importers import import_summary, lift_any
    from .video import is_video_input

    bar = lambda frames, total: progress(frames, "detecting", total=total)  # noqa: E731
    if is_video_input(input):
        from .lift_video import lift_video

        mocap_only = [name for name, given in (("--up", up is not None), ("--scale", scale is not None),
                                               ("--no-checks", no_checks), ("--refine", refine)) if given]
        if mocap_only:
            files = "mocap files (BVH, AMASS, GVHMR)" if {"--up", "--no-checks"} & set(mocap_only) else "BVH files"
            why = " (a video's world is z up from the person's vertical)" if "--up" in mocap_only else ""
            raise LiftError(display_name(input), f"{', '.join(mocap_only)} "
                            f"{'is' if len(mocap_only) == 1 else 'are'} for {files}; this input is a video: "
                            f"drop {'it' if len(mocap_only) == 1 else 'them'}{why}")

        clip = lift_video(input, focal=focal, body_model=body_model, render=render, progress=bar, fps=fps,
                          allow_partial=allow_partial).clip
    elif allow_partial:
        raise LiftError(display_name(input), "--allow-partial is for videos; this input is mocap: drop it")
    else:
        clip = lift_any(input, focal=focal, body_model=body_model, render=render, progress=bar, fps=fps, up=up,
                        scale=scale, check=not no_checks, refine=refine)
    save_clip(clip, output)
    summary = None if quiet else import_summary(clip.meta.get("source") or input, clip)
    if summary:
        typer.echo(f"genmimic-lift: {summary}", err=True)
    log.info("wrote %s: %d frames at %g fps", output, clip.num_frames, clip.fps)


def _list_kinds(value: bool) -> None:
    if value:
        from .synth import BUILDERS

        for name, fn in BUILDERS.items():
            doc = " ".join((fn.__doc__ or "").strip().split("\n\n")[0].split())  # the first paragraph, joined
            typer.echo(f"{name:18s} {doc}")
        raise typer.Exit()


@synth_app.command()
@reports_errors
def synth(
    kind: Annotated[str, typer.Argument(help="Motion kind; --list prints them.")],
    output: Output,
    seed: Annotated[int, typer.Option(help="Random seed: the same arguments give the same clip.")] = 0,
    duration: Annotated[float | None, typer.Option(help="Length [s]; default the motion's natural length.")] = None,
    fps: Annotated[float, typer.Option(help="Frames per second.")] = 30.0,
    list_kinds: Annotated[bool | None, typer.Option("--list", callback=_list_kinds, is_eager=True,
                                                    help="List the motion kinds and exit.")] = None,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Do not print the line saying what was written.")
                     ] = False,
    version: Version = None,
) -> None:
    """Write a procedural human motion (the project's own library) as an SMPL clip."""
    from .synth import synthesize

    clip = synthesize(kind, seed=seed, duration=duration, fps=fps)
    save_clip(clip, output)
    where = "stdout" if str(output) == "-" else str(output)
    if not quiet:
        typer.echo(f"genmimic-synth: {kind} seed {seed}: {clip.num_frames} frames at {clip.fps:g} fps "
                   f"({clip.duration:.2f} s) -> {where}", err=True)
