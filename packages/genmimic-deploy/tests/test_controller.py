"""The controller without DDS: phases, safety faults, refusals, message encoding and CRC."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from genmimic.core import g1_constants as g1
from genmimic.core.g1_revisions import G1_29DOF_REV_1_0
from genmimic.core.runtime.policy_spec import ACTION_CLIP
from genmimic.deploy.controller import PREPARE_GAINS, Controller, ControllerConfig, EndMode, Phase
from genmimic.deploy.errors import DeployError
from genmimic.deploy.messages import (
    Command,
    RobotState,
    command_from_msg,
    crc_ok,
    msg_from_command,
    msg_from_state,
    state_from_msg,
)
from genmimic.deploy.policy_runner import OnnxPolicy
from genmimic.deploy.safety import LOWER, SafetyConfig, clamp_targets, limit_torque, tilt

UPRIGHT = np.array([1.0, 0.0, 0.0, 0.0])
CONFIG = ControllerConfig(prepare_s=0.1, hold_s=0.1, damp_s=0.1, then=EndMode.DAMP)


def standing_state(tick: int = 0, quat=UPRIGHT, q=None) -> RobotState:
    q = np.asarray(g1.DEFAULT_DOF_POS if q is None else q, float)
    return RobotState(q, np.zeros(29), np.zeros(29), np.asarray(quat, float), np.zeros(3), np.zeros(3), tick, 5)


def run_steps(controller: Controller, n: int, state=None, age: float = 0.0):
    """``n`` steps against an ideal servo (the joints are where the last command put them), or a fixed state."""
    out, q = [], None
    for k in range(n):
        s = state or standing_state(20 * k, q=q)
        cmd, info = controller.step(s, age)
        if cmd is not None:
            q = cmd.q
        out.append((cmd, info))
    return out


def run_until(controller: Controller, phase: Phase, limit: int = 1000) -> list:
    """Steps against an ideal servo until ``controller`` is in ``phase``."""
    out, q = [], None
    for k in range(limit):
        cmd, info = controller.step(standing_state(20 * k, q=q), 0.0)
        q = cmd.q if cmd is not None else q
        out.append((cmd, info))
        if controller.phase == phase:
            return out
    raise AssertionError(f"never reached {phase}")


def test_phases_in_order_and_gains_per_phase(zero_policy, g1_clip):
    policy = OnnxPolicy(zero_policy)
    c = Controller(policy, g1_clip, CONFIG)
    assert c.step(None, float("inf"))[0] is None and c.phase == Phase.WAIT  # nothing until state arrives
    steps = run_steps(c, 400)
    phases = [info.phase for _, info in steps]
    order = [p for i, p in enumerate(phases) if i == 0 or p != phases[i - 1]]
    assert order == [Phase.PREPARE, Phase.TRACK, Phase.HOLD, Phase.DAMP, Phase.DONE]
    prepare = next(cmd for cmd, info in steps if info.phase == Phase.PREPARE)
    track = next(cmd for cmd, info in steps if info.phase == Phase.TRACK)
    damp = next(cmd for cmd, info in steps if info.phase == Phase.DAMP)
    np.testing.assert_allclose(prepare.kp, PREPARE_GAINS.kp)  # the prepare gains while moving to the first pose
    np.testing.assert_allclose(track.kp, policy.kp)
    np.testing.assert_allclose(track.q, g1.DEFAULT_DOF_POS)  # action 0 = default pose
    assert np.all(damp.kp == 0) and np.all(damp.kd > 0)
    assert c.fault is None
    n_track = sum(info.phase == Phase.TRACK for _, info in steps)
    assert n_track == pytest.approx(g1_clip.duration / policy.control_period + 1, abs=1)


def test_stale_state_damps_within_three_periods(zero_policy, g1_clip):
    c = Controller(OnnxPolicy(zero_policy), g1_clip, CONFIG)
    run_until(c, Phase.TRACK)
    period = c.period
    cmd, info = c.step(standing_state(), 2.5 * period)
    assert info.phase == Phase.TRACK
    cmd, info = c.step(standing_state(), 3.5 * period)
    assert c.fault is not None and c.fault.name == "STALE_STATE"
    assert np.all(cmd.kp == 0)


def test_a_fall_damps_at_once(zero_policy, g1_clip):
    c = Controller(OnnxPolicy(zero_policy), g1_clip, CONFIG)
    run_until(c, Phase.TRACK)
    tipped = [np.cos(0.6), np.sin(0.6), 0.0, 0.0]  # 69 deg of roll
    cmd, _ = c.step(standing_state(quat=tipped), 0.0)
    assert c.fault.name == "FALL" and np.all(cmd.kp == 0)


def test_a_nan_policy_is_caught_before_anything_is_sent(nan_policy, g1_clip):
    c = Controller(OnnxPolicy(nan_policy), g1_clip, CONFIG)
    steps = run_steps(c, 400)
    faulted = [(cmd, info) for cmd, info in steps if info.fault is not None]
    cmd, info = faulted[0]
    assert info.fault.name == "NONFINITE_ACTION"
    assert np.all(np.isfinite(cmd.q)) and np.all(cmd.kp == 0)
    for cmd, _ in steps:
        assert cmd is None or np.all(np.isfinite(cmd.q))


def test_a_clip_outside_the_joint_limits_is_refused(zero_policy, g1_clip):
    bad = g1_clip.dof_pos.copy()
    bad[10, g1.JOINT_NAMES.index("left_knee_joint")] = 3.5
    with pytest.raises(DeployError, match="refused, the clip leaves the joint limits of g1_29dof_rev_1_0: "
                                          "left_knee_joint is 3.500"):
        Controller(OnnxPolicy(zero_policy), g1_clip.replace(dof_pos=bad), CONFIG, source="bad.npz")


def test_interrupt_damps(zero_policy, g1_clip):
    c = Controller(OnnxPolicy(zero_policy), g1_clip, CONFIG)
    run_until(c, Phase.TRACK)
    c.interrupt()
    _, info = c.step(standing_state(), 0.0)
    assert info.phase == Phase.DAMP and c.fault.name == "INTERRUPT"


def test_targets_are_clamped_and_torque_limited():
    q = np.array([j.upper for j in g1.JOINTS]) + 0.5
    clamped, n = clamp_targets(q)
    assert n == 29 and np.all(clamped == [j.upper for j in g1.JOINTS])
    kp, kd = np.full(29, 100.0), np.ones(29)
    target, n = limit_torque(np.full(29, 2.0), np.zeros(29), np.zeros(29), kp, kd, SafetyConfig())
    effort = np.array([j.motor.effort for j in g1.JOINTS])
    np.testing.assert_allclose(kp * target, np.minimum(effort, 200.0))
    assert n == int(np.sum(effort < 200))
    assert tilt(UPRIGHT) == 0.0


def test_messages_round_trip_with_valid_crc():
    rng = np.random.default_rng(0)
    cmd = Command(*(rng.normal(size=29).astype(np.float32).astype(float) for _ in range(5)))
    msg = msg_from_command(cmd, 5)
    assert crc_ok(msg) and msg.mode_machine == 5
    back = command_from_msg(msg)
    for a, b in zip(cmd, back, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    msg.motor_cmd[3].q += 0.1  # tampered after the CRC was computed
    assert not crc_ok(msg)
    state = standing_state(1234)
    smsg = msg_from_state(state)
    assert crc_ok(smsg)
    again = state_from_msg(smsg)
    np.testing.assert_allclose(again.q, state.q, rtol=1e-6)
    assert again.tick == 1234


def test_policy_json_is_checked(zero_policy, tmp_path):
    import json
    import shutil

    bad = tmp_path / "p.onnx"
    shutil.copy(zero_policy, bad)
    meta = json.loads(zero_policy.with_suffix(".json").read_text())
    meta["joint_names"] = meta["joint_names"][::-1]
    bad.with_suffix(".json").write_text(json.dumps(meta))
    with pytest.raises(DeployError, match="not the G1 SDK order"):
        OnnxPolicy(bad)
    (tmp_path / "lonely.onnx").write_bytes(zero_policy.read_bytes())
    with pytest.raises(DeployError, match="no policy JSON beside it"):
        OnnxPolicy(tmp_path / "lonely.onnx")
    with pytest.raises(DeployError, match="no such policy file"):
        OnnxPolicy(tmp_path / "absent.onnx")
    with pytest.raises(DeployError, match="is a directory; give the policy's .onnx file"):
        OnnxPolicy(tmp_path)


def test_config_is_a_value(zero_policy, g1_clip):
    assert replace(CONFIG, hold_s=1.0).hold_s == 1.0 and CONFIG.hold_s == 0.1


def test_state_inbox_converts_only_the_latest_message_once():
    """The reader thread hands over raw messages at 500 Hz; the control loop converts the newest, once."""
    from genmimic.deploy.loop import StateInbox

    converted = []

    def convert(raw):
        converted.append(raw)
        return f"state {raw}"

    inbox = StateInbox(convert)
    assert inbox.get()[0] is None
    for i in range(10):
        inbox.put(i)
    state, at = inbox.get()
    assert state == "state 9" and at > 0
    assert inbox.get()[0] == "state 9" and converted == [9] and inbox.count == 10
    inbox.put(10)
    assert inbox.get()[0] == "state 10" and converted == [9, 10]


def test_limits_come_from_the_robot_revision(zero_policy, g1_clip):
    """The controller's limits are genmimic.core.g1_revisions' (a narrower revision narrows them)."""
    from genmimic.deploy import safety

    c = Controller(OnnxPolicy(zero_policy), g1_clip, CONFIG)
    assert c.robot is G1_29DOF_REV_1_0
    np.testing.assert_array_equal(safety.LOWER, G1_29DOF_REV_1_0.lower)
    np.testing.assert_array_equal(safety.EFFORT, G1_29DOF_REV_1_0.effort)
    elbow = g1.JOINT_NAMES.index("right_elbow_joint")
    upper = list(G1_29DOF_REV_1_0.upper)
    upper[elbow] = 0.1
    narrow = G1_29DOF_REV_1_0._replace(name="narrow", upper=tuple(upper))
    with pytest.raises(DeployError, match="joint limits of narrow: right_elbow_joint"):
        Controller(OnnxPolicy(zero_policy), g1_clip, CONFIG, robot=narrow)
    target, n = clamp_targets(np.asarray(g1.DEFAULT_DOF_POS), narrow)
    assert n == 1 and target[elbow] == 0.1


def test_the_move_to_the_first_pose_is_speed_limited_and_gentler_than_hold(zero_policy, g1_clip):
    c = Controller(OnnxPolicy(zero_policy), g1_clip, CONFIG)
    start = np.asarray(g1.DEFAULT_DOF_POS) + 0.9  # 0.9 rad from the default pose on every joint
    start = np.clip(start, LOWER, np.array(G1_29DOF_REV_1_0.upper))
    steps = run_steps(c, 400, state=standing_state(q=start))
    moves = np.array([cmd.q for cmd, info in steps if info.phase == Phase.PREPARE])
    speed = np.abs(np.diff(moves, axis=0)).max() / c.period
    assert speed <= c.config.prepare_max_speed * 1.01
    distance = np.abs(c.reference.dof_pos[0] - start).max()
    assert c.move_steps(start) * c.period >= 0.5 * np.pi * distance / c.config.prepare_max_speed - c.period
    knee, ankle = g1.JOINT_NAMES.index("left_knee_joint"), g1.JOINT_NAMES.index("left_ankle_pitch_joint")
    assert PREPARE_GAINS.kp[knee] == pytest.approx(200.0) and g1.HOLD_GAINS.kp[knee] == 300.0
    assert PREPARE_GAINS.kp[ankle] == g1.HOLD_GAINS.kp[ankle]  # standing free needs stiff ankles (README)
    arms = [i for i, n in enumerate(g1.JOINT_NAMES) if "shoulder" in n or "elbow" in n or "wrist" in n]
    assert all(PREPARE_GAINS.kp[i] <= g1.UNITREE_LOWLEVEL_GAINS.kp[i] for i in arms)


def test_a_move_that_does_not_converge_damps_before_tracking(zero_policy, g1_clip):
    """The joints never follow (a robot that is held, or a motor that is off): no tracking, damping."""
    c = Controller(OnnxPolicy(zero_policy), g1_clip, CONFIG)
    stuck = standing_state()  # stays at the default pose; the clip starts 0.6 rad away (right elbow)
    steps = run_steps(c, 400, state=stuck)
    phases = {info.phase for _, info in steps}
    assert Phase.TRACK not in phases and c.fault.name == "NOT_CONVERGED"
    assert "right_elbow_joint 0.600 rad from it" in c.damp_reason
    n_prepare = sum(info.phase == Phase.PREPARE for _, info in steps)
    assert n_prepare == c.move_steps(stuck.q) + round(c.config.settle_s / c.period)
    # at the first pose but still swinging: not converged either
    swinging = Controller(OnnxPolicy(zero_policy), g1_clip, CONFIG)
    at_first = standing_state(q=swinging.reference.dof_pos[0])._replace(gyro=np.array([0.0, 0.5, 0.0]))
    run_steps(swinging, 400, state=at_first)
    assert swinging.fault.name == "NOT_CONVERGED" and "moving at up to 0.50 rad/s" in swinging.damp_reason


def test_stand_after_the_clip_until_stopped_then_damp_without_fault(zero_policy, g1_clip):
    c = Controller(OnnxPolicy(zero_policy), g1_clip, replace(CONFIG, then=EndMode.STAND))
    run_until(c, Phase.STAND)
    steps = run_steps(c, 1000)  # 20 s: it keeps standing
    assert all(info.phase == Phase.STAND for _, info in steps)
    cmd = steps[-1][0]
    np.testing.assert_allclose(cmd.kp, c.policy.kp)  # the policy's gains: it keeps balancing
    c.interrupt()  # the operator's stop
    cmd, info = c.step(standing_state(), 0.0)
    assert info.phase == Phase.DAMP and np.all(cmd.kp == 0) and c.fault is None
    assert c.damp_reason == "stopped by the operator"
    timed = Controller(OnnxPolicy(zero_policy), g1_clip, replace(CONFIG, then=EndMode.STAND, stand_s=1.0))
    run_until(timed, Phase.STAND)
    n_stand = 1 + sum(info.phase == Phase.STAND for _, info in run_steps(timed, 100))
    assert n_stand == pytest.approx(1.0 / timed.period, abs=1) and timed.phase in (Phase.DAMP, Phase.DONE)


def test_deploy_fall_test_is_the_core_tilt_test_with_its_margin():
    from genmimic.core import tracking
    from genmimic.deploy.safety import FALL_TILT_MARGIN_RAD, fallen

    limit = tracking.FALL_TILT_RAD - FALL_TILT_MARGIN_RAD
    assert 0.0 < FALL_TILT_MARGIN_RAD < tracking.FALL_TILT_RAD
    for angle, down in ((limit - 0.01, False), (limit + 0.01, True), (tracking.FALL_TILT_RAD + 0.01, True)):
        quat = np.array([np.cos(angle / 2), np.sin(angle / 2), 0.0, 0.0])  # roll by ``angle``
        assert fallen(2.0 * quat, SafetyConfig()) is down  # the IMU quaternion is normalised first
    between = np.array([np.cos(0.49), np.sin(0.49), 0.0, 0.0])  # 0.98 rad: deploy damps, the env does not
    assert fallen(between, SafetyConfig()) and not tracking.tilted(np, between)
    assert not fallen(between, SafetyConfig(fall_tilt_margin=0.0))
    assert fallen(np.array([np.nan, 0.0, 0.0, 0.0]), SafetyConfig())  # a broken IMU reading damps


def test_the_first_tracking_step_sees_the_action_that_holds_the_first_pose(zero_policy, g1_clip):
    """As in training and `track` (reference state init): the last-action block of the first observation is the
    action whose targets are the clip's first pose, not zeros (the default pose)."""
    policy = OnnxPolicy(zero_policy)
    c = Controller(policy, g1_clip, CONFIG)
    c.step(None, float("inf"))
    first = next(info for _, info in run_steps(c, 400) if info.phase == Phase.TRACK)
    block = next(b for b in policy.spec.observation.blocks if b.name == "last_action[t]")
    last = first.obs[block.start:block.start + block.size]
    np.testing.assert_allclose(policy.spec.targets(last), c.reference.dof_pos[0], atol=1e-9)
    assert np.abs(last).max() > 0.1  # the clip's first pose is not the default one


def test_actions_are_clipped_as_in_training_before_targets_and_feedback(saturating_policy, g1_clip):
    """A policy answering 9 everywhere: targets and the next observation's last action are those of +-5 (the
    clip of training and `track`), not of 9."""
    policy = OnnxPolicy(saturating_policy)
    c = Controller(policy, g1_clip, CONFIG)
    c.step(None, float("inf"))
    steps = [(cmd, info) for cmd, info in run_steps(c, 400) if info.phase == Phase.TRACK]
    block = next(b for b in policy.spec.observation.blocks if b.name == "last_action[t]")
    np.testing.assert_allclose(steps[0][1].action, ACTION_CLIP)
    np.testing.assert_allclose(steps[1][1].obs[block.start:block.start + block.size], ACTION_CLIP)
    clipped, _ = clamp_targets(policy.targets(np.full(29, ACTION_CLIP)))
    raw, _ = clamp_targets(policy.targets(np.full(29, 9.0)))
    assert not np.allclose(raw, clipped)  # within the joint limits, 9 and 5 ask for different targets
    first = steps[0][0].q  # the targets sent: those of 5 (some then torque-limited), never those of 9 alone
    assert np.all(np.abs(first - raw)[raw != clipped] > 1e-6)


@pytest.mark.parametrize("lead_in_s", [None, 0.0])
def test_a_clip_that_starts_in_motion_starts_from_standing(zero_policy, moving_g1_clip, lead_in_s):
    """A clip whose pelvis starts at 0.67 m/s: by default the move goes to the standing pose and the policy
    tracks a 1.5 s blend into the clip (genmimic.core.standing) before it; ``lead_in_s=0``: to its first pose."""
    moving = moving_g1_clip
    policy = OnnxPolicy(zero_policy)
    c = Controller(policy, moving, replace(CONFIG, lead_in_s=lead_in_s))
    expected = 1.5 if lead_in_s is None else 0.0
    assert c.lead_in_s == expected
    first = g1.DEFAULT_DOF_POS if expected else moving.dof_pos[0]
    np.testing.assert_allclose(c.reference.dof_pos[0], first, atol=1e-9)
    steps = run_steps(c, 400)
    last_prepare = [cmd for cmd, info in steps if info.phase == Phase.PREPARE][-1]
    np.testing.assert_allclose(last_prepare.q, first, atol=1e-9)
    n_track = sum(info.phase == Phase.TRACK for _, info in steps)
    assert n_track == pytest.approx((moving.duration + expected) / policy.control_period + 1, abs=1)


def test_a_negative_lead_in_is_refused_before_anything_runs(zero_policy, g1_clip):
    with pytest.raises(DeployError, match="clip.npz: lead-in must be 0 or more seconds.*fix:"):
        Controller(OnnxPolicy(zero_policy), g1_clip, replace(CONFIG, lead_in_s=-1.0), source="clip.npz")
