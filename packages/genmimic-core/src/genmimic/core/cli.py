"""``genmimic-core``: inspect and validate clips, and write the G1 model files."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from . import __version__
from .cli_support import reports_errors, stage_app
from .clips import load_clip
from .errors import GenMimicError
from .files import write_bytes_atomic
from .g1_constants import GAINS
from .g1_model import g1_mjcf, g1_urdf

app = stage_app("genmimic-core", "GenMimic core: clip inspection and the G1 model files.")


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
        typer.echo("  meta (--json prints all of it):")
        for key, value in c.meta.items():
            typer.echo(f"    {key:20s} {_meta_value(value)}")


def _meta_value(value: object, width: int = 90) -> str:
    """One meta entry on one line: a nested dict by its keys, anything else as JSON, cut at a word with "..."."""
    text = "{" + ", ".join(map(str, value)) + "}" if isinstance(value, dict) else json.dumps(value)
    if len(text) <= width:
        return text
    cut = text[:width].rsplit(" ", 1)[0] if " " in text[:width] else text[:width]
    return cut.rstrip(",") + " ..."


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
@reports_errors
def view(
    clips: Annotated[list[str], typer.Argument(help="Clip files (.npz): SMPL, G1 clips, trajectories.")],
    port: Annotated[int, typer.Option(help="Port of the page (the next free one if taken; 0: any).")] = 8080,
    host: Annotated[str, typer.Option(help="Address to listen on; anything but 127.0.0.1 shows the clips to "
                                           "whoever can reach the port.")] = "127.0.0.1",
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Only print the URL.")] = False,
    spacing: Annotated[float, typer.Option(help="Distance [m] between the clips, side by side.")] = 1.0,
) -> None:
    """Show clips in an interactive 3D viewer in the browser (viser); Ctrl-C stops it."""
    import webbrowser

    from .stopping import stop_on_signals
    from .view import Viewer, load_view_clips, start_server

    start = time.perf_counter()
    shown = load_view_clips(clips, spacing)
    if host not in ("127.0.0.1", "localhost", "::1"):
        typer.echo(f"warning: listening on {host}: anyone who can reach port {port} sees these clips", err=True)
    server = start_server(host, port)
    try:
        viewer = Viewer(server, shown)
        url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{server.get_port()}"
        typer.echo(f"viewer of {len(shown)} clip(s), {viewer.duration:.1f} s, ready in "
                   f"{time.perf_counter() - start:.1f} s at {url} (Ctrl-C stops it)", err=True)
        typer.echo(url)
        if not no_browser:
            webbrowser.open(url)
        # Ctrl-C ends the play loop between two frames (a KeyboardInterrupt raised inside viser's calls could
        # leave its server unable to stop: seen once under load, the process never exiting)
        with stop_on_signals("genmimic-core view", "closing the viewer") as stop:
            viewer.run(stop.event)
    finally:
        server.stop()


@app.command()
def version() -> None:
    """Print the version of genmimic-core."""
    typer.echo(__version__)
