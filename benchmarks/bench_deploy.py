"""genmimic-deploy: control-loop timing against the DDS simulator on loopback, and whether the robot stays
up when the simulator computes PD only when a command arrives (as Unitree's Python simulator does).

The simulator and the controller run in separate processes on a private DDS domain, as in use.
The loop runs ``GENMIMIC_BENCH_DEPLOY_S`` seconds of tracking (default 60): the clip is looped.
The PD-on-command rows track a 6 s clip at the policy's 50 Hz commands and with ``--command-hz 500``.
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
    """Seconds the robot tracked a 6 s clip before a fault, against `sim --pd-on-command`."""
    clip = tmp / "clip6.npz"
    save_clip(waving_g1_clip(300, 50.0), clip)
    log = tmp / f"pd_{command_hz}.npz"
    sim = subprocess.Popen([sys.executable, "-c", CLI, "sim", "--domain", domain, "--duration", "30",
                            "--pd-on-command"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rate = [] if command_hz is None else ["--command-hz", str(command_hz)]
    try:
        time.sleep(1.0)
        subprocess.run([sys.executable, "-c", CLI, "run", "--policy", str(policy), "--clip", str(clip), "--domain",
                        domain, "--prepare", "2", "--then", "damp", "--hold", "0.5", "--log", str(log), *rate],
                       capture_output=True, text=True, timeout=60)
    finally:
        sim.kill()
    data = np.load(log)
    fault = ",".join(sorted(set(data["fault"].tolist()) - {""})) or "none"
    tracked = np.isin(data["phase"], (2, 3)).sum() * 0.02
    prepared = bool((data["phase"] == 2).any())
    outcome = "stayed up" if fault == "none" else f"{fault} {'while tracking' if prepared else 'before tracking'}"
    return Result(f"sim --pd-on-command, commands at {command_hz or 50:g} Hz: time tracked", float(tracked), "s",
                  f"of 6.5 s; {outcome}", None)
