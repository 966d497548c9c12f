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


def test_sim_to_sim_matches_policy_track(g1_clip, tmp_path):
    """10 s of the shipped policy over DDS (simulator and controller in separate processes) end as
    `genmimic-policy track` does on the same clip: both stay up, keypoint errors within 20 %."""
    from genmimic.core import load_clip
    from genmimic.core.testing import waving_g1_clip
    from genmimic.policy.export import export_onnx
    from genmimic.policy.policy_file import load_policy
    from genmimic.policy.track import track_clip

    clip = waving_g1_clip(500, 50.0)  # 10 s
    path = tmp_path / "wave10.npz"
    save_clip(clip, path)
    policy, meta = load_policy()
    onnx_path, _ = export_onnx(policy, meta, tmp_path / "policy.onnx")
    reference = track_clip(clip, policy, meta)

    domain = str(_domain() + 2)
    record, log = tmp_path / "sim.npz", tmp_path / "run.npz"
    sim = _spawn("sim", "--domain", domain, "--duration", "22", "--record", str(record))
    try:
        time.sleep(1.0)
        run = subprocess.run([sys.executable, "-c", CLI, "run", "--policy", str(onnx_path), "--clip", str(path),
                              "--domain", domain, "--prepare", "2.0", "--hold", "0.5", "--log", str(log)],
                             capture_output=True, text=True, timeout=60)
        sim.communicate(timeout=40)
    finally:
        sim.kill()
    assert run.returncode == 0, run.stderr
    data = np.load(log, allow_pickle=False)
    import json

    start_tick = json.loads(str(data["meta"]))["track_start_tick"]
    robot = load_clip(record)
    first = round(start_tick / 1000 * robot.fps)
    n = min(clip.num_frames, robot.num_frames - first)
    assert n >= 450, "10 s of tracking were recorded"
    kp = robot.keypoints[first: first + n]
    ref = clip.keypoints[:n].copy()
    ref[..., :2] += robot.root_pos[first, :2] - clip.root_pos[0, :2]  # the robot starts where it stands
    sim_error = float(np.linalg.norm(kp - ref, axis=-1).mean())
    upright = robot.keypoints[first: first + n, robot.keypoint_index("head"), 2] > 0.9
    assert upright.all() and not reference.fell  # both stay up
    track_error = float(reference.tracking_error[:n].mean())
    assert abs(sim_error - track_error) <= 0.2 * track_error, (sim_error, track_error)
