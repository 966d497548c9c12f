"""``genmimic-deploy``: run an exported policy on a G1 over DDS, or be a simulated G1 on DDS."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from genmimic.core.cli_support import error_line, reports_errors, setup_logging, stage_app
from genmimic.core.clips import G1Clip, load_clip
from genmimic.core.lead_in import LEAD_IN_HELP
from genmimic.core.stopping import stop_on_signals

from . import __version__
from .phases import EndMode

app = stage_app("genmimic-deploy", "Run an exported GenMimic policy on the Unitree G1 through unitree_sdk2py (DDS).")

NetOption = Annotated[str, typer.Option("--net", help="Network interface of the robot (lo: the simulator).")]
DomainOption = Annotated[int, typer.Option("--domain", min=0, max=232, help="DDS domain id (the robot: 0).")]


@app.command()
@reports_errors
def run(
    policy: Annotated[Path, typer.Option("--policy", help="policy.onnx from `genmimic-policy export` (JSON beside).")],
    clip: Annotated[str, typer.Option("--clip", help="G1 clip to perform (.npz, or - for stdin).")],
    net: NetOption = "lo",
    domain: DomainOption = 0,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Compute and log commands, publish nothing.")] = False,
    log_file: Annotated[Path | None, typer.Option("--log", help="Write every control step here (.npz).")] = None,
    prepare: Annotated[float, typer.Option(help="Shortest move to the clip's first pose [s] (slower when a joint "
                                                "would pass 0.5 rad/s).")] = 3.0,
    lead_in: Annotated[float | None, typer.Option("--lead-in", min=0.0, help=LEAD_IN_HELP)] = None,
    then: Annotated[EndMode, typer.Option("--then", help="After the clip: stand (keep balancing on the standing "
                                                         "pose until Ctrl-C) or damp (hold, then damp).")]
    = EndMode.STAND,
    stand_for: Annotated[float | None, typer.Option("--stand-for", min=0.0, help="With --then stand: stop after "
                                                    "this many seconds of standing (default: Ctrl-C).")] = None,
    hold: Annotated[float, typer.Option(help="With --then damp: seconds to hold the last pose.")] = 2.0,
    robot_rev: Annotated[str | None, typer.Option("--robot-rev", help="State the G1 revision (e.g. "
                                                  "g1_29dof_rev_1_0) when the robot's mode_machine does not say.")]
    = None,
    command_hz: Annotated[float | None, typer.Option("--command-hz", min=1.0, max=1000.0, help="Send the latest "
                                                     "command this often [Hz] (default: the policy's rate).")]
    = None,
    wait: Annotated[float, typer.Option(help="Seconds to wait for the first LowState.")] = 5.0,
    stale_periods: Annotated[int, typer.Option("--stale-periods", min=1, max=25, help="Control periods without a "
                                               "new LowState before damping (3 = 60 ms; raise only for a simulator "
                                               "on a loaded machine).")] = 3,
    verbose: Annotated[bool, typer.Option("-v", "--verbose", help="Log progress and details on stderr.")] = False,
) -> None:
    """Perform a clip: start-up checks, move to the first pose, track, stand (or hold), damp.

    Safety is always on; nothing is published before the start-up checks pass."""
    from unitree_sdk2py.idl.unitree_hg.msg.dds_ import LowCmd_, LowState_

    from genmimic.core.g1_revisions import G1_29DOF_REV_1_0, revision_by_name
    from genmimic.core.standing import lead_in_note

    from .controller import Controller, ControllerConfig
    from .dds import connect, publisher, subscriber
    from .log import ControlLog
    from .loop import CommandRepeater, StateInbox, run_controller, sample_stream, wait_for_state
    from .messages import TOPIC_CMD, TOPIC_STATE, msg_from_command, state_from_msg
    from .policy_runner import OnnxPolicy
    from .startup import StartupConfig, startup_checks

    setup_logging(verbose)
    runner = OnnxPolicy(policy)
    motion = load_clip(clip, G1Clip)
    config = replace(ControllerConfig(), prepare_s=prepare, hold_s=hold, then=then, stand_s=stand_for,
                     lead_in_s=lead_in)
    config = replace(config, safety=replace(config.safety, stale_periods=stale_periods))
    stated = revision_by_name(robot_rev) if robot_rev is not None else G1_29DOF_REV_1_0
    controller = Controller(runner, motion, config, source=clip, robot=stated)  # a bad clip: refused before DDS
    if controller.lead_in_s > 0:
        print(f"genmimic-deploy: {lead_in_note(motion, controller.lead_in_s, lead_in is None)}", file=sys.stderr)
    connect(domain, net)
    inbox = StateInbox(state_from_msg)
    sub = subscriber(TOPIC_STATE, LowState_, inbox.put)
    pub = repeater = None
    # Ctrl-C or kill: damping at once, never an abandoned robot (a second signal is a request too)
    with stop_on_signals("genmimic-deploy run", "damping the robot, then exiting", second_aborts=False) as request:
        stop = request.event
        meta = {"tool": "genmimic-deploy", "version": __version__, "policy": str(policy), "clip": clip,
                "net": net, "domain": domain, "dry_run": dry_run, "then": then.value, "command_hz": command_hz}
        try:
            where = f"domain {domain} on {net}"
            wait_for_state(inbox, wait, where)
            state, age, received = sample_stream(inbox, StartupConfig().window_s)
            robot = startup_checks(state, age, received, runner.control_period, robot_rev,
                                   StartupConfig(max_age_periods=stale_periods))
            if robot != controller.robot:
                controller = Controller(runner, motion, config, source=clip, robot=robot)
            meta["robot"] = robot.name
            if not dry_run:
                pub = publisher(TOPIC_CMD, LowCmd_)
            publish = None
            if pub is not None and command_hz is not None and command_hz > 1.0 / runner.control_period:
                repeater = CommandRepeater(pub.Write, command_hz)
                publish = lambda cmd, mode: repeater.send(msg_from_command(cmd, mode))  # noqa: E731
            elif pub is not None:
                publish = lambda cmd, mode: pub.Write(msg_from_command(cmd, mode))  # noqa: E731
            target = "the standing pose (the lead-in's first)" if controller.lead_in_s else "the clip's first pose"
            typer.echo(f"state received, start-up checks passed ({robot.name}); {'dry run: ' if dry_run else ''}"
                       f"moving to {target} over {controller.move_steps(state.q) * controller.period:.1f} s",
                       err=True)
            control_log = run_controller(controller, inbox, publish, ControlLog(meta), stop)
        finally:
            if repeater is not None:
                repeater.close()
            sub.Close()
    control_log.meta["track_start_tick"] = controller.track_start_tick
    control_log.meta["fault"] = controller.fault.name if controller.fault else None
    control_log.meta["damp_reason"] = controller.damp_reason
    if log_file is not None:
        control_log.save(log_file)
    arrays = control_log.arrays()
    compute = arrays["compute_s"] * 1000
    typer.echo(f"done: {len(compute)} steps, compute p50 {float(_pct(compute, 50)):.2f} ms, "
               f"p99 {float(_pct(compute, 99)):.2f} ms, missed deadlines {int(arrays['missed'].sum())}", err=True)
    if controller.fault is not None:
        typer.echo(error_line(f"stopped in damping mode: {controller.damp_reason}"), err=True)
        raise typer.Exit(2)


def _pct(values, q: float) -> float:
    import numpy as np

    return float(np.percentile(values, q)) if len(values) else 0.0


@app.command()
@reports_errors
def sim(
    net: NetOption = "lo",
    domain: DomainOption = 0,
    duration: Annotated[float | None, typer.Option(min=0.0, help="Stop after this many seconds (default: "
                                                                 "Ctrl-C).")] = None,
    record: Annotated[Path | None, typer.Option(help="Write what the robot did as a G1 clip (.npz).")] = None,
    model: Annotated[Path | None, typer.Option(help="An external G1 MJCF instead of the project's model.")] = None,
    pd_on_command: Annotated[bool, typer.Option("--pd-on-command", help="Compute the PD torque only when a "
                                                "command arrives and hold it (as Unitree's Python simulator).")]
    = False,
    mode_machine: Annotated[int, typer.Option("--mode-machine", min=0, max=255, help="The mode_machine to report "
                                              "(5: G1 29-DoF rev 1.0).")] = 5,
    start_tilt: Annotated[float, typer.Option("--start-tilt", min=0.0, max=180.0, help="Start tipped forward by "
                                              "this angle [deg] (a robot that is down).")] = 0.0,
    verbose: Annotated[bool, typer.Option("-v", "--verbose", help="Log progress and details on stderr.")] = False,
) -> None:
    """A simulated G1 (MuJoCo) on DDS: publishes rt/lowstate at 500 Hz, applies rt/lowcmd."""
    from .dds import connect
    from .sim import G1Simulator, serve

    setup_logging(verbose)
    simulator = G1Simulator(str(model) if model else None, pd_on_command=pd_on_command, mode_machine=mode_machine,
                            start_tilt_deg=start_tilt)
    connect(domain, net)
    typer.echo(f"G1 simulator on domain {domain}, interface {net}{' (PD on command)' if pd_on_command else ''}: "
               "waiting for rt/lowcmd", err=True)
    with stop_on_signals("genmimic-deploy sim", "stopping the simulator", second_aborts=False) as request:
        serve(simulator, duration, request.event, record)
    typer.echo(f"simulator stopped: {simulator.commands} commands applied, {simulator.bad_crc} with a bad CRC",
               err=True)
