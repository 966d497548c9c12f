"""``genmimic-core``: inspect and validate clips, and write the G1 model files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from . import __version__
from .cli_support import reports_errors
from .clips import load_clip
from .errors import GenMimicError
from .files import write_bytes_atomic
from .g1_constants import GAINS
from .g1_model import g1_mjcf, g1_urdf

app = typer.Typer(help="GenMimic core: clip inspection and the G1 model files.", no_args_is_help=True,
                  add_completion=False)


@app.command()
@reports_errors
def info(clip: Annotated[str, typer.Argument(help="Clip file (.npz) or - for stdin.")],
         as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False) -> None:
    """Validate a clip and print its format, length and arrays."""
    c = load_clip(clip)
    summary = {
        "file": clip,
        "format": c.format_id(),
        "fps": c.fps,
        "frames": c.num_frames,
        "duration_s": round(c.duration, 4),
        "arrays": {f.name: list(np.shape(getattr(c, f.name))) for f in c.array_fields()},
        "meta": c.meta,
    }
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    typer.echo(f"{clip}: {summary['format']}, {c.num_frames} frames at {c.fps:g} fps ({c.duration:.2f} s)")
    for name, shape in summary["arrays"].items():
        typer.echo(f"  {name:22s} {tuple(shape)}")
    if c.meta:
        typer.echo(f"  meta: {json.dumps(c.meta)[:200]}")


@app.command("g1-model")
@reports_errors
def g1_model(
    mjcf: Annotated[Path | None, typer.Option(help="Write the MJCF (MuJoCo) here.")] = None,
    urdf: Annotated[Path | None, typer.Option(help="Write the URDF (Pinocchio) here.")] = None,
    gains: Annotated[str, typer.Option(help=f"PD gains of the MJCF actuators: {', '.join(GAINS)}.")] = "tracking",
) -> None:
    """Write the project's G1 model files, generated from its G1 table."""
    if gains not in GAINS:
        raise GenMimicError(f"unknown gains {gains!r}; choose one of {', '.join(GAINS)}")
    if mjcf is None and urdf is None:
        raise GenMimicError("nothing to do: pass --mjcf FILE and/or --urdf FILE")
    if mjcf is not None:
        write_bytes_atomic(mjcf, g1_mjcf(GAINS[gains]).encode())
        typer.echo(f"wrote {mjcf}", err=True)
    if urdf is not None:
        write_bytes_atomic(urdf, g1_urdf().encode())
        typer.echo(f"wrote {urdf}", err=True)


@app.command()
def version() -> None:
    """Print the version of genmimic-core."""
    typer.echo(__version__)
