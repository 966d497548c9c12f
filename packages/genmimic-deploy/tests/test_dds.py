"""Real DDS on loopback: the simulator and the controller in separate processes, on a test-only domain.

Every process here has a time bound; the tests stop by themselves.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from genmimic.core import save_clip
from genmimic.deploy.safety import tilt

CLI = "from genmimic.deploy.cli import app; app()"
#: Tests that are not about the stale-state limit allow 500 ms without state: on the shared 2-core machine
#: (load average 10-15) the simulator process is sometimes not scheduled for 60-100 ms, and a fresh-clone
#: `make test` beside a training run once went 200 ms without a state (2026-12-01).
STARVED = ("--stale-periods", "25")


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


@pytest.fixture(scope="module")
def shipped_onnx(tmp_path_factory) -> Path:
    """The shipped policy exported to ONNX (it balances; the zero policy does not)."""
    from genmimic.policy.export import export_onnx
    from genmimic.policy.policy_file import load_policy

    policy, meta = load_policy()
    return export_onnx(policy, meta, tmp_path_factory.mktemp("shipped") / "policy.onnx")[0]


def _tilt_deg(imu_quat: np.ndarray) -> np.ndarray:
    return np.degrees([tilt(q) for q in imu_quat])


def _skip_if_the_machine_broke_real_time(data, stderr: str) -> None:
    """Skip (saying what was measured) when a run failed after the machine broke real time: the controller
    missed deadlines, or the simulator stalled (its state's tick, simulated time in ms, advanced by more than
    two 20 ms control periods between two control steps: it ran catch-up steps under a stale command).
    Both processes run at wall-clock rate, so on a loaded shared machine (a fresh-clone `make test` beside
    other jobs on 2 cores, 2026-12-01: 3 missed deadlines, then a fall) the outcome is the scheduler's, not the
    policy's. A failure without either still fails."""
    ticks = data["tick"][data["tick"] >= 0]
    stalls = int(np.count_nonzero(np.diff(ticks) > 40))
    missed = int(np.count_nonzero(data["missed"]))
    if missed or stalls:
        pytest.skip(f"real time broken by the machine's load ({missed} missed deadlines, {stalls} simulator "
                    f"stalls), so the run's failure says nothing about the policy: {stderr.strip()[-200:]}")


@pytest.mark.parametrize(("sim_args", "refusal"), [
    (("--start-tilt", "47"), "start-up check 'upright': pelvis tilt 47.0 deg, limit 20 deg"),
    (("--mode-machine", "4"), "start-up check 'robot revision': robot reports mode_machine 4 (g1_23dof_rev_1_0)"),
])
def test_a_robot_down_or_of_another_revision_is_refused_before_any_command(zero_policy, clip_file, sim_args,
                                                                           refusal, tmp_path):
    domain = str(_domain() + 3)
    sim = _spawn("sim", "--domain", domain, "--duration", "6", *sim_args)
    log = tmp_path / "run.npz"
    try:
        time.sleep(1.0)
        run = subprocess.run([sys.executable, "-c", CLI, "run", "--policy", str(zero_policy), "--clip",
                              str(clip_file), "--domain", domain, "--log", str(log)],
                             capture_output=True, text=True, timeout=30)
        sim.send_signal(signal.SIGINT)  # the simulator stops and reports what it applied
        _, sim_err = sim.communicate(timeout=20)
    finally:
        sim.kill()
    assert run.returncode != 0
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and refusal in lines[0], run.stderr
    assert "supported: g1_29dof_rev_1_0" in lines[0] or "upright" in lines[0]
    assert "0 commands applied" in sim_err  # nothing was published
    assert not log.exists()  # no partial output


def test_the_robot_stays_up_standing_after_the_clip(shipped_onnx, g1_clip, tmp_path):
    """--then stand: after a 1 s clip the policy balances on the standing reference for 10 s; then the run
    damps (with the warning) and ends cleanly."""
    clip = tmp_path / "wave1.npz"
    save_clip(g1_clip.replace(**{k: getattr(g1_clip, k)[:50] for k in ("root_pos", "root_quat", "dof_pos",
                                                                         "keypoints", "contacts")}), clip)
    domain = str(_domain() + 5)
    sim = _spawn("sim", "--domain", domain, "--duration", "22")
    log = tmp_path / "run.npz"
    try:
        time.sleep(1.0)
        run = subprocess.run([sys.executable, "-c", CLI, "run", "--policy", str(shipped_onnx), "--clip", str(clip),
                              "--domain", domain, "--prepare", "1", "--stand-for", "10", "--log", str(log), *STARVED],
                             capture_output=True, text=True, timeout=40)
    finally:
        sim.kill()
    data = np.load(log) if log.exists() else None
    if data is not None and run.returncode != 0:
        _skip_if_the_machine_broke_real_time(data, run.stderr)
    assert run.returncode == 0, run.stderr
    assert "the robot will fall unless it is supported" in run.stderr
    standing = data["phase"] == 6
    assert standing.sum() >= 500, "10 s on the standing reference"
    tilt = _tilt_deg(data["imu_quat"][standing]).max()
    if tilt >= 20.0:  # a run that ends cleanly can still have swayed on commands late under load
        _skip_if_the_machine_broke_real_time(data, f"the pelvis tilted {tilt:.0f} deg")
    assert tilt < 20.0, f"tilted {tilt:.1f} deg while standing, with real time kept"  # up all along
    assert np.all(data["published"][standing]) and set(data["fault"].tolist()) == {""}
    assert data["phase"][-1] == 4


def test_ctrl_c_during_tracking_damps_within_one_period(shipped_onnx, tmp_path):
    from genmimic.core.testing import waving_g1_clip

    clip = tmp_path / "wave6.npz"
    save_clip(waving_g1_clip(300, 50.0), clip)
    domain = str(_domain() + 6)
    sim = _spawn("sim", "--domain", domain, "--duration", "15")
    log = tmp_path / "run.npz"
    try:
        time.sleep(1.0)
        run = _spawn("run", "--policy", str(shipped_onnx), "--clip", str(clip), "--domain", domain,
                     "--prepare", "1", "--log", str(log), *STARVED)
        line = run.stderr.readline()  # "state received, ...; moving to the clip's first pose over X s"
        move_s = float(line.rsplit("over", 1)[1].split()[0])
        time.sleep(move_s + 1.5)  # tracking by now
        signalled = time.perf_counter()  # CLOCK_MONOTONIC: the same clock as the log's "t"
        run.send_signal(signal.SIGINT)
        _, err = run.communicate(timeout=20)
    finally:
        sim.kill()
    assert run.returncode == 2 and "interrupted (Ctrl-C)" in err, line + err
    data = np.load(log)
    t, phase = data["t"], data["phase"]
    before = phase[t < signalled]
    assert before[-1] in (2, 3), "it was tracking"
    first_damp = int(np.flatnonzero(phase == 4)[0])
    after = t[first_damp] - signalled
    # within one control period: at most the step already under way when the signal came is not damping
    # (the loop wakes on the signal); 50 ms bounds the OS's delay in running the handler on a loaded machine
    assert np.count_nonzero(np.isin(phase[t > signalled], (2, 3))) <= 1, after
    assert after <= 0.05, after
    assert np.all(data["cmd_kp"][first_damp] == 0) and data["published"][first_damp]


def test_losing_the_state_stream_damps_within_three_periods(zero_policy, clip_file, tmp_path):
    domain = str(_domain())
    sim = _spawn("sim", "--domain", domain, "--duration", "30")
    log = tmp_path / "run.npz"
    try:
        time.sleep(1.0)
        run = _spawn("run", "--policy", str(zero_policy), "--clip", str(clip_file), "--domain", domain,
                     "--prepare", "1.0", "--hold", "5", "--log", str(log), "--wait", "10")
        line = run.stderr.readline()  # "state received, ..." once the state flows
        time.sleep(1.0)  # the controller is preparing
        sim.kill()
        _, err = run.communicate(timeout=30)
    finally:
        sim.kill()
    assert run.returncode == 2, line + err
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
                              str(clip_file), "--domain", domain, "--prepare", "1.0", "--then", "damp", "--hold", "4",
                              "--log", str(log), "--wait", "10", *STARVED], capture_output=True, text=True, timeout=40)
        _, sim_err = sim.communicate(timeout=30)
    finally:
        sim.kill()
    data = np.load(log)
    phases = set(data["phase"].tolist())
    assert {1, 2, 4}.issubset(phases), run.stderr  # prepared, tracked, damped
    assert run.returncode == 2 and "fall detected" in run.stderr
    assert "0 with a bad CRC" in sim_err
    assert record.exists()


def test_sim_to_sim_matches_policy_track(g1_clip, tmp_path, pose_error):
    """10 s of the shipped policy over DDS (simulator and controller in separate processes) end as
    `genmimic-policy track` does on the same clip: both stay up, root-relative keypoint errors within 20 %."""
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
                              "--domain", domain, "--prepare", "2.0", "--then", "damp", "--hold", "0.5",
                              "--log", str(log), *STARVED],
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
    sim_error = pose_error(robot, first, clip)
    upright = robot.keypoints[first: first + n, robot.keypoint_index("head"), 2] > 0.9
    assert upright.all() and not reference.fell  # both stay up
    track_error = pose_error(reference, 0, clip)
    assert abs(sim_error - track_error) <= 0.2 * track_error, (sim_error, track_error)
