"""Start-up checks (pure functions), the simulator's PD-on-command mode and start poses, the command repeater."""

from __future__ import annotations

import time

import numpy as np
import pytest

from genmimic.core import g1_constants as g1
from genmimic.deploy.messages import Command, msg_from_command
from genmimic.deploy.startup import StartupConfig, StartupRefused, check_revision, startup_checks

from .test_controller import standing_state

PERIOD = 0.02
CFG = StartupConfig()
FRESH = (0.001, 250)  # age [s], messages in the 0.5 s window (500 Hz)


def test_a_standing_rev_1_0_robot_passes():
    assert startup_checks(standing_state(), *FRESH, PERIOD).name == "g1_29dof_rev_1_0"


@pytest.mark.parametrize(("state", "age", "received", "check", "text"), [
    (standing_state(), 0.001, 5, "fresh state", "LowState arrives at 10 Hz over 0.5 s, need 50 Hz"),
    (standing_state(), 0.2, 250, "fresh state", "newest LowState is 200 ms old, limit 60 ms"),
    (standing_state()._replace(mode_machine=4), *FRESH, "robot revision",
     "robot reports mode_machine 4 (g1_23dof_rev_1_0), which the project has no limits for; supported: "
     "g1_29dof_rev_1_0 (mode_machine 5); or state the revision with --robot-rev"),
    (standing_state()._replace(mode_machine=0), *FRESH, "robot revision", "mode_machine 0 (not a known G1)"),
    (standing_state(quat=[np.cos(np.deg2rad(23.5)), 0.0, np.sin(np.deg2rad(23.5)), 0.0]), *FRESH, "upright",
     "pelvis tilt 47.0 deg, limit 20 deg"),
    (standing_state(quat=[np.nan, 0, 0, 0]), *FRESH, "upright", "pelvis tilt nan deg"),
    (standing_state(q=np.where(np.arange(29) == 3, 2.95, g1.DEFAULT_DOF_POS)), *FRESH, "joint limits",
     "left_knee_joint reads 2.950 rad, limits [-0.087, 2.880] for g1_29dof_rev_1_0"),
])
def test_each_refusal_names_the_check_and_the_value(state, age, received, check, text):
    with pytest.raises(StartupRefused) as err:
        startup_checks(state, age, received, PERIOD)
    message = str(err.value)
    assert err.value.check == check and text in message and "\n" not in message
    assert message.startswith(f"refused before any command, start-up check '{check}': ")


def test_a_stated_revision_covers_an_unknown_mode_machine_but_not_another_robot():
    assert check_revision(0, "g1_29dof_rev_1_0").name == "g1_29dof_rev_1_0"  # e.g. a simulator that leaves it 0
    assert check_revision(5, "g1_29dof_rev_1_0").mode_machine == 5
    with pytest.raises(StartupRefused, match=r"--robot-rev g1_29dof_rev_1_0 \(mode_machine 5\) but the robot "
                                             r"reports mode_machine 4 \(g1_23dof_rev_1_0\)"):
        check_revision(4, "g1_29dof_rev_1_0")
    with pytest.raises(StartupRefused, match="unknown G1 revision 'g1_12dof'"):
        check_revision(5, "g1_12dof")


def _command(kp: float) -> Command:
    q = np.asarray(g1.DEFAULT_DOF_POS) + 0.1
    z = np.zeros(29)
    return Command(q, z, z, np.full(29, kp), np.ones(29))


def test_pd_on_command_holds_the_torque_of_the_arrival_until_the_next_command():
    from genmimic.deploy.sim import G1Simulator

    sim = G1Simulator(pd_on_command=True)
    sim.apply(msg_from_command(_command(20.0), 5))
    q0, dq0 = sim.data.qpos[sim.qadr].copy(), sim.data.qvel[sim.vadr].copy()
    expected = np.clip(20.0 * (np.asarray(g1.DEFAULT_DOF_POS) + 0.1 - q0) - dq0, -sim.effort, sim.effort)
    held = sim.data.qfrc_applied[sim.vadr].copy()
    np.testing.assert_allclose(held, expected, rtol=1e-5, atol=1e-5)
    for _ in range(10):  # 20 ms: the joints move, the torque does not
        sim.step()
    np.testing.assert_array_equal(sim.data.qfrc_applied[sim.vadr], held)
    assert np.abs(sim.data.qpos[sim.qadr] - q0).max() > 1e-4
    assert np.all(sim.model.actuator_gainprm[sim.act, 0] == 0)  # no per-step PD behind it
    per_step = G1Simulator()
    per_step.apply(msg_from_command(_command(20.0), 5))
    assert np.all(per_step.model.actuator_gainprm[per_step.act, 0] == 20.0)


def test_the_simulator_reports_its_start_tilt_and_mode_machine():
    from genmimic.deploy.safety import tilt
    from genmimic.deploy.sim import G1Simulator

    state = G1Simulator(start_tilt_deg=47.0, mode_machine=4).state()
    assert np.degrees(tilt(state.imu_quat)) == pytest.approx(47.0, abs=0.1)
    assert state.mode_machine == 4
    assert G1Simulator().state().mode_machine == 5


def test_the_command_repeater_resends_the_latest_message_at_its_rate():
    from genmimic.deploy.loop import CommandRepeater

    written: list = []
    repeater = CommandRepeater(written.append, 200.0)
    time.sleep(0.05)
    assert written == []  # nothing before the first command
    repeater.send("a")
    time.sleep(0.1)
    repeater.send("b")
    time.sleep(0.1)
    repeater.close()
    n = len(written)
    time.sleep(0.05)
    assert len(written) == n  # stopped
    assert written[0] == "a" and written[-1] == "b" and set(written) == {"a", "b"}
    assert 5 <= written.count("a") <= 25 and 5 <= written.count("b") <= 25  # ~200 Hz for 0.1 s each


def test_the_simulators_fast_state_crc_is_the_sdks():
    """msg_from_state packs the CRC from arrays; the SDK's own routine must agree on every field it covers."""
    from genmimic.deploy.messages import crc_ok, msg_from_state

    rng = np.random.default_rng(1)
    for k in range(10):
        state = standing_state(tick=k * 7919 + 2**31, q=rng.normal(size=29))._replace(
            dq=rng.normal(size=29), tau=10 * rng.normal(size=29), imu_quat=rng.normal(size=4),
            gyro=rng.normal(size=3), acc=rng.normal(size=3), mode_machine=k)
        msg = msg_from_state(state)
        assert crc_ok(msg)
        msg.motor_state[k].q += 0.5
        assert not crc_ok(msg)


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    """The shipped policy: NumPy (for `genmimic-policy track`) and exported to ONNX (for the controller)."""
    from genmimic.deploy.policy_runner import OnnxPolicy
    from genmimic.policy.export import export_onnx
    from genmimic.policy.policy_file import load_policy

    policy, meta = load_policy()
    onnx_path, _ = export_onnx(policy, meta, tmp_path_factory.mktemp("shipped") / "policy.onnx")
    return policy, meta, OnnxPolicy(onnx_path)


def _lockstep_error(sim, controller, clip, pose_error, command_every=None) -> float | None:
    """Mean root-relative keypoint error [m] of the simulated robot over the clip (None: it faulted)."""
    from genmimic.deploy.controller import Phase
    from genmimic.deploy.sim import run_lockstep

    steps = run_lockstep(sim, controller, 30.0, command_every)
    if controller.fault is not None:
        return None
    start = next(s.tick for s, _, info in steps if info.phase == Phase.TRACK)
    robot = sim.recorded_clip()
    return pose_error(robot, round(start / 1000 * robot.fps), clip)


def test_lockstep_sim_to_sim_agrees_with_policy_track(shipped, pose_error):
    """Controller and simulator in one process, no wall clock (load-independent): 10 s of a wave end as
    `genmimic-policy track` does, root-relative keypoint errors within 20 %."""
    from genmimic.core.testing import waving_g1_clip
    from genmimic.deploy.controller import Controller, ControllerConfig, EndMode
    from genmimic.deploy.sim import G1Simulator
    from genmimic.policy.track import track_clip

    policy, meta, onnx = shipped
    clip = waving_g1_clip(500, 50.0)
    reference = track_clip(clip, policy, meta)
    config = ControllerConfig(prepare_s=2.0, then=EndMode.DAMP, hold_s=0.5)
    error = _lockstep_error(G1Simulator(), Controller(onnx, clip, config), clip, pose_error)
    track_error = pose_error(reference, 0, clip)
    assert error is not None and not reference.fell
    assert abs(error - track_error) <= 0.2 * track_error, (error, track_error)


def test_pd_on_command_falls_at_50_hz_and_tracks_with_500_hz_commands(shipped, g1_clip, pose_error):
    """Unitree's Python simulator computes PD only when a command arrives: with the policy's 50 Hz the G1
    falls (already while moving to the first pose); re-sending commands at 500 Hz tracks as per-step PD."""
    from genmimic.deploy.controller import Controller, ControllerConfig, EndMode, Phase
    from genmimic.deploy.sim import G1Simulator, run_lockstep

    *_, onnx = shipped
    config = ControllerConfig(prepare_s=2.0, then=EndMode.DAMP, hold_s=0.5)
    slow = Controller(onnx, g1_clip, config)
    steps = run_lockstep(G1Simulator(pd_on_command=True), slow, 10.0)
    assert slow.fault is not None and slow.fault.name == "FALL"
    assert Phase.TRACK not in {info.phase for *_, info in steps}
    fast = _lockstep_error(G1Simulator(pd_on_command=True), Controller(onnx, g1_clip, config), g1_clip, pose_error, 1)
    per_step = _lockstep_error(G1Simulator(), Controller(onnx, g1_clip, config), g1_clip, pose_error)
    assert fast is not None and per_step is not None
    assert fast == pytest.approx(per_step, rel=0.1)


def test_the_command_line_refuses_an_unknown_revision_before_joining_dds(zero_policy, g1_clip, tmp_path):
    from typer.testing import CliRunner

    from genmimic.core import save_clip
    from genmimic.deploy.cli import app

    clip = tmp_path / "wave.npz"
    save_clip(g1_clip, clip)
    result = CliRunner().invoke(app, ["run", "--policy", str(zero_policy), "--clip", str(clip), "--robot-rev",
                                      "g1_99dof", "--log", str(tmp_path / "run.npz")])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "error: unknown G1 revision 'g1_99dof'; supported: g1_29dof_rev_1_0 (mode_machine 5)"]
    assert not (tmp_path / "run.npz").exists()
    bad = CliRunner().invoke(app, ["run", "--policy", str(zero_policy), "--clip", str(clip), "--then", "sit"])
    assert bad.exit_code == 2  # a usage error: --then is stand or damp
