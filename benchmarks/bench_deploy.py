"""genmimic-deploy: control-loop timing against the DDS simulator on loopback, and whether the robot stays
up when the simulator computes PD only when a command arrives (as Unitree's Python simulator does).

The simulator and the controller run in separate processes on a private DDS domain, as in use.
The loop runs ``GENMIMIC_BENCH_DEPLOY_S`` seconds of tracking (default 60): the clip is looped.
The PD-on-command rows track a 6 s clip at the policy's 50 Hz commands and re-sent at 500 Hz, in lock step.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import Result

from genmimic.core import save_clip
from genmimic.core.testing import waving_g1_clip

CLI = "from genmimic.deploy.cli import app; app()"


def _policy(tmp: Path) -> Path:
    out = tmp / "policy.onnx"
    subprocess.run([sys.executable, "-c", "from genmimic.policy.cli import app; app()", "export", "--shipped",
                    "-o", str(out)], check=True, capture_output=True)
    return out


def run() -> list[Result]:
    seconds = float(os.environ.get("GENMIMIC_BENCH_DEPLOY_S", "60"))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        policy = _policy(tmp)
        clip = tmp / "clip.npz"
        save_clip(waving_g1_clip(round(seconds * 50), 50.0), clip)
        domain = str(150 + os.getpid() % 50)
        sim = subprocess.Popen([sys.executable, "-c", CLI, "sim", "--domain", domain, "--duration",
                                str(seconds + 20)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(1.0)
            log = tmp / "run.npz"
            subprocess.run([sys.executable, "-c", CLI, "run", "--policy", str(policy), "--clip", str(clip),
                            "--domain", domain, "--prepare", "2", "--then", "damp", "--hold", "1", "--log",
                            str(log)], capture_output=True, text=True, timeout=seconds + 60)
        finally:
            sim.kill()
        data = np.load(log)
        pd_rows = [_pd_on_command(tmp, policy, hz, str(151 + os.getpid() % 50 + i))
                   for i, hz in enumerate((None, 500))]
    tracking = np.isin(data["phase"], (2, 3))
    compute = data["compute_s"][tracking] * 1000
    fault = ",".join(sorted(set(data["fault"].tolist()) - {""})) or "none"
    return [
        Result("deploy loop compute per step, p50", float(np.percentile(compute, 50)), "ms",
               f"{tracking.sum()} tracking steps at 50 Hz", None),
        Result("deploy loop compute per step, p99", float(np.percentile(compute, 99)), "ms", "", "< 2"),
        Result("deploy loop missed deadlines", int(data["missed"][tracking].sum()), "steps",
               f"fault: {fault}", "0"),
        *pd_rows,
    ]


def _pd_on_command(tmp: Path, policy: Path, command_hz: float | None, domain: str) -> Result:
    """Keypoint error over a 6 s wave with the simulator's PD computed only when a command arrives, in lock
    step (controller and simulator in one process, no wall clock: the figure does not depend on the load).
    ``domain`` is unused (kept for the row's signature)."""
    from genmimic.deploy.controller import Controller, ControllerConfig, EndMode, Phase
    from genmimic.deploy.policy_runner import OnnxPolicy
    from genmimic.deploy.sim import G1Simulator, run_lockstep

    clip = waving_g1_clip(300, 50.0)
    controller = Controller(OnnxPolicy(policy), clip, ControllerConfig(prepare_s=2.0, then=EndMode.DAMP, hold_s=0.5))
    sim = G1Simulator(pd_on_command=True)
    every = None if command_hz is None else max(1, round(1.0 / (command_hz * sim.model.opt.timestep)))
    steps = run_lockstep(sim, controller, 20.0, every)
    label = f"sim --pd-on-command, commands at {command_hz or 50:g} Hz (lock step)"
    if controller.fault is not None:
        fell_at = len(steps) * controller.period
        tracked = any(info.phase == Phase.TRACK for *_, info in steps)
        return Result(f"{label}: time until the fault", fell_at, "s",
                      f"{controller.fault.name}, {'while tracking' if tracked else 'before tracking'}")
    start = next(s.tick for s, _, info in steps if info.phase == Phase.TRACK)
    robot = sim.recorded_clip()
    first = round(start / 1000 * robot.fps)
    n = min(clip.num_frames, robot.num_frames - first)
    ref = clip.keypoints[:n].copy()
    ref[..., :2] += robot.root_pos[first, :2] - clip.root_pos[0, :2]
    error = float(np.linalg.norm(robot.keypoints[first: first + n] - ref, axis=-1).mean())
    return Result(f"{label}: keypoint error", 100 * error, "cm", "stayed up", None)
