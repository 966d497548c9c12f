"""``genmimic-deploy``: run an exported policy on a G1 over DDS, or be a simulated G1 on DDS."""

from __future__ import annotations

import signal
import threading
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from genmimic.core.cli_support import reports_errors, setup_logging, stage_app
from genmimic.core.clips import G1Clip, load_clip

from . import __version__

app = stage_app("genmimic-deploy", "Run an exported GenMimic policy on the Unitree G1 through unitree_sdk2py (DDS).")

NetOption = Annotated[str, typer.Option("--net", help="Network interface of the robot (lo: the simulator).")]
DomainOption = Annotated[int, typer.Option("--domain", min=0, max=232, help="DDS domain id (the robot: 0).")]


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


@app.command()
@reports_errors
def run(
    policy: Annotated[Path, typer.Option("--policy", help="policy.onnx from `genmimic-policy export` (JSON beside).")],
    clip: Annotated[str, typer.Option("--clip", help="G1 clip to perform (.npz, or - for stdin).")],
    net: NetOption = "lo",
    domain: DomainOption = 0,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Compute and log commands, publish nothing.")] = False,
    log_file: Annotated[Path | None, typer.Option("--log", help="Write every control step here (.npz).")] = None,
    prepare: Annotated[float, typer.Option(help="Seconds to move to the clip's first pose.")] = 3.0,
    hold: Annotated[float, typer.Option(help="Seconds to hold the last pose after the clip.")] = 2.0,
    wait: Annotated[float, typer.Option(help="Seconds to wait for the first LowState.")] = 5.0,
    verbose: Annotated[bool, typer.Option("-v", "--verbose")] = False,
) -> None:
    """Perform a clip: wait for state, move to the first pose, track, hold, damp. Safety is always on."""
    from unitree_sdk2py.idl.unitree_hg.msg.dds_ import LowCmd_, LowState_

    from .controller import Controller, ControllerConfig
    from .dds import connect, publisher, subscriber
    from .log import ControlLog
    from .loop import StateInbox, run_controller, wait_for_state
    from .messages import TOPIC_CMD, TOPIC_STATE, msg_from_command, state_from_msg
    from .policy_runner import OnnxPolicy

    setup_logging(verbose)
    runner = OnnxPolicy(policy)
    motion = load_clip(clip, G1Clip)
    controller = Controller(runner, motion, replace(ControllerConfig(), prepare_s=prepare, hold_s=hold),
                            source=clip)  # refuses a clip outside the limits before any DDS traffic
    connect(domain, net)
    inbox = StateInbox(state_from_msg)
    sub = subscriber(TOPIC_STATE, LowState_, inbox.put)
    pub = None if dry_run else publisher(TOPIC_CMD, LowCmd_)
    publish = None if pub is None else (lambda cmd, mode: pub.Write(msg_from_command(cmd, mode)))
    stop = _stop_on_signals()
    meta = {"tool": "genmimic-deploy", "version": __version__, "policy": str(policy), "clip": clip,
            "net": net, "domain": domain, "dry_run": dry_run}
    try:
        wait_for_state(inbox, wait, f"domain {domain} on {net}")
        typer.echo(f"state received; {'dry run: ' if dry_run else ''}moving to the first pose over {prepare:g} s",
                   err=True)
        control_log = run_controller(controller, inbox, publish, ControlLog(meta), stop)
    finally:
        sub.Close()
    control_log.meta["track_start_tick"] = controller.track_start_tick
    control_log.meta["fault"] = controller.fault.name if controller.fault else None
    if log_file is not None:
        control_log.save(log_file)
    arrays = control_log.arrays()
    compute = arrays["compute_s"] * 1000
    typer.echo(f"done: {len(compute)} steps, compute p50 {float(_pct(compute, 50)):.2f} ms, "
               f"p99 {float(_pct(compute, 99)):.2f} ms, missed deadlines {int(arrays['missed'].sum())}", err=True)
    if controller.fault is not None:
        typer.echo(f"error: stopped in damping mode: {controller.fault.value}", err=True)
        raise typer.Exit(2)


def _pct(values, q: float) -> float:
    import numpy as np

    return float(np.percentile(values, q)) if len(values) else 0.0


@app.command()
@reports_errors
def sim(
    net: NetOption = "lo",
    domain: DomainOption = 0,
    duration: Annotated[float | None, typer.Option(help="Stop after this many seconds (default: Ctrl-C).")] = None,
    record: Annotated[Path | None, typer.Option(help="Write what the robot did as a G1 clip (.npz).")] = None,
    model: Annotated[Path | None, typer.Option(help="An external G1 MJCF instead of the project's model.")] = None,
    verbose: Annotated[bool, typer.Option("-v", "--verbose")] = False,
) -> None:
    """A simulated G1 (MuJoCo) on DDS: publishes rt/lowstate at 500 Hz, applies rt/lowcmd."""
    from .dds import connect
    from .sim import G1Simulator, serve

    setup_logging(verbose)
    simulator = G1Simulator(str(model) if model else None)
    connect(domain, net)
    typer.echo(f"G1 simulator on domain {domain}, interface {net}: waiting for rt/lowcmd", err=True)
    serve(simulator, duration, _stop_on_signals(), record)
    typer.echo(f"simulator stopped: {simulator.commands} commands applied, {simulator.bad_crc} with a bad CRC",
               err=True)
