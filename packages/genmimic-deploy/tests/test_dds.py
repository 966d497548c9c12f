"""Real DDS on loopback: the simulator and the controller in separate processes, on a test-only domain.

Every process here has a time bound; the tests stop by themselves.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import pytest

from genmimic.core import save_clip

CLI = "from genmimic.deploy.cli import app; app()"


def _domain() -> int:
    return 100 + os.getpid() % 100  # keep parallel runs apart


def _spawn(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


@pytest.fixture
def clip_file(g1_clip, tmp_path):
    path = tmp_path / "wave.npz"
    save_clip(g1_clip, path)
    return path


def test_losing_the_state_stream_damps_within_three_periods(zero_policy, clip_file, tmp_path):
    domain = str(_domain())
    sim = _spawn("sim", "--domain", domain, "--duration", "30")
    log = tmp_path / "run.npz"
    try:
        time.sleep(1.0)
        run = _spawn("run", "--policy", str(zero_policy), "--clip", str(clip_file), "--domain", domain,
                     "--prepare", "1.0", "--hold", "5", "--log", str(log), "--wait", "10")
        time.sleep(2.0)  # state flowing, the controller is preparing / tracking
        sim.kill()
        _, err = run.communicate(timeout=30)
    finally:
        sim.kill()
    assert run.returncode == 2, err
    data = np.load(log)
    assert "STALE_STATE" in set(data["fault"].tolist()), err
    ticks = data["tick"]
    last_fresh = int(np.flatnonzero(np.diff(ticks) != 0)[-1]) + 1  # the last step that saw a new state
    first_damp = int(np.flatnonzero(data["phase"] == 4)[0])
    assert first_damp - last_fresh <= 3 + 1  # stale after 3 periods, damping in that same step
    assert np.all(data["cmd_kp"][first_damp:][data["published"][first_damp:]] == 0)


def test_controller_and_simulator_over_dds(zero_policy, clip_file, tmp_path):
    """The zero policy cannot balance: the simulated robot falls during tracking and the controller
    notices over DDS, damps, and stops; every command it sent had a valid CRC."""
    domain = str(_domain() + 1)
    record = tmp_path / "sim.npz"
    sim = _spawn("sim", "--domain", domain, "--duration", "12", "--record", str(record))
    log = tmp_path / "run.npz"
    try:
        time.sleep(1.0)
        run = subprocess.run([sys.executable, "-c", CLI, "run", "--policy", str(zero_policy), "--clip",
                              str(clip_file), "--domain", domain, "--prepare", "1.0", "--hold", "4",
                              "--log", str(log), "--wait", "10"], capture_output=True, text=True, timeout=40)
        _, sim_err = sim.communicate(timeout=30)
    finally:
        sim.kill()
    data = np.load(log)
    phases = set(data["phase"].tolist())
    assert {1, 2, 4}.issubset(phases), run.stderr  # prepared, tracked, damped
    assert run.returncode == 2 and "fall detected" in run.stderr
    assert "0 with a bad CRC" in sim_err
    assert record.exists()
