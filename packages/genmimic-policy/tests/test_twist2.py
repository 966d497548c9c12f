"""Peers' ONNX trackers: the TWIST2 observation layout on hand-made states (as its README describes it),
the action mapping, spec files and their errors, and TWIST2 closed loop (skipped without its file)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from genmimic.core import g1_constants as g1
from genmimic.core.clips import load_clip, save_clip
from genmimic.core.rotations import quat_from_rpy
from genmimic.core.testing import waving_g1_clip
from genmimic.core.tracking import score_trajectory
from genmimic.policy.controllers import RobotState, make_controller
from genmimic.policy.onnx_tracker import (
    TWIST2_ONNX,
    TWIST2_SPEC,
    OnnxTracker,
    SpecError,
    load_spec,
    roll_pitch_from_quat,
)
from genmimic.policy.reference import ReferenceMotion
from genmimic.policy.track import track_clip

ANKLES = [g1.JOINT_NAMES.index(n) for n in ("left_ankle_pitch_joint", "left_ankle_roll_joint",
                                            "right_ankle_pitch_joint", "right_ankle_roll_joint")]
README_DEFAULT = np.array([-0.2, 0, 0, 0.4, -0.2, 0] * 2 + [0, 0, 0] + [0, 0.4, 0, 1.2, 0, 0, 0]
                          + [0, -0.4, 0, 1.2, 0, 0, 0])


@pytest.fixture(scope="module")
def twist2_dir(shared_data):
    d = shared_data.parent / "baselines" / "twist2"
    if not (d / TWIST2_ONNX).is_file():
        pytest.skip(f"TWIST2's model not found at {d / TWIST2_ONNX}")
    return d


class Recorder:
    """A stand-in network: records observations, answers with ``actions`` in turn."""

    def __init__(self, actions):
        self.actions, self.obs = list(actions), []

    def __call__(self, obs):
        self.obs.append(obs[0].astype(float))
        return self.actions[min(len(self.obs) - 1, len(self.actions) - 1)][None].astype(np.float32)


def moving_reference(T: int = 6, dt: float = 0.02) -> ReferenceMotion:
    """Root at 1 m/s along world x while facing world +y (yaw 90 deg), rolled 0.1 rad, pitched -0.2 rad,
    turning at 0.5 rad/s about its own z; joint t of frame t at 0.01 * (t + 1) rad."""
    t = np.arange(T)
    quat = np.repeat(quat_from_rpy([0.1, -0.2, np.pi / 2])[None], T, 0)
    lin = np.tile([1.0, 0.0, 0.0], (T, 1))
    dof = np.zeros((T, 29))
    dof[t, t] = 0.01 * (t + 1)
    return ReferenceMotion(root_pos=np.c_[t * dt, np.zeros(T), np.full(T, 0.75)], root_quat=quat, dof_pos=dof,
                           keypoints=np.zeros((T, 19, 3)), dof_vel=np.zeros((T, 29)), root_lin_vel=lin,
                           root_ang_vel=np.tile([0.0, 0.0, 0.5], (T, 1)), dt=dt)


def robot_state(t: int, offset: float) -> RobotState:
    return RobotState(t, dof_pos=README_DEFAULT + offset, dof_vel=np.arange(29.0) + 1.0,
                      imu_quat=quat_from_rpy([0.05, 0.03, 1.0]), imu_gyro=np.array([0.4, -0.8, 1.2]),
                      qpos=np.zeros(36), qvel=np.zeros(35))


def test_roll_pitch_round_trip_with_urdf_rpy():
    rpy = np.array([[0.3, -0.4, 2.0], [-1.0, 0.2, -3.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(roll_pitch_from_quat(quat_from_rpy(rpy)), rpy[:, :2], atol=1e-12)


def test_twist2_spec_is_the_readme_interface():
    spec = load_spec(TWIST2_SPEC, "/nonexistent")
    assert spec.obs_size == 1432 and spec.history_row_size == 127 and spec.control_period_s == 0.02
    np.testing.assert_allclose(spec.default_dof_pos, README_DEFAULT)
    kp = dict(zip(g1.JOINT_NAMES, spec.gains.kp, strict=True))
    kd = dict(zip(g1.JOINT_NAMES, spec.gains.kd, strict=True))
    assert (kp["left_hip_roll_joint"], kp["right_knee_joint"], kp["left_ankle_roll_joint"], kp["waist_pitch_joint"],
            kp["right_wrist_yaw_joint"]) == (100, 150, 40, 150, 40)
    assert (kd["left_hip_yaw_joint"], kd["left_knee_joint"], kd["right_ankle_pitch_joint"], kd["waist_yaw_joint"],
            kd["left_elbow_joint"]) == (2, 4, 2, 4, 5)


def test_twist2_observation_layout_on_hand_made_states():
    spec = load_spec(TWIST2_SPEC, "/nonexistent")
    raw = [np.full(29, 0.3), np.full(29, -20.0), np.full(29, 0.1)]
    net = Recorder(raw)
    tracker = OnnxTracker(spec, policy=net)
    ref = moving_reference()
    tracker.reset(ref)
    targets = [tracker.act(robot_state(t, 0.1 * (t + 1))) for t in range(3)]
    obs = np.stack(net.obs)
    assert obs.shape == (3, 1432)
    # reference features at t+1 first, at t last: vx, vy in the root frame (facing +y, so world +x is -y),
    # height, roll, pitch, yaw rate, joint angles
    for t in range(3):
        for block, frame in ((obs[t, :35], t + 1), (obs[t, -35:], t)):
            np.testing.assert_allclose(block[5], 0.5, atol=1e-9)
            np.testing.assert_allclose(block[2:5], [0.75, 0.1, -0.2], atol=1e-9)
            np.testing.assert_allclose(block[6:], ref.dof_pos[frame], atol=1e-12)
        # world +x in the root frame R = Rz(90 deg) Ry(-0.2) Rx(0.1): (0, -cos 0.1, sin 0.1)
        np.testing.assert_allclose(obs[t, :2], [0.0, -np.cos(0.1)], atol=1e-7)
    # proprioception: gyro x 0.25, IMU roll and pitch, joints minus default, velocities x 0.05 with the
    # ankles zeroed, the last raw action (zeros at the start)
    p = obs[:, 35:127]
    np.testing.assert_allclose(p[0, :3], [0.1, -0.2, 0.3])
    np.testing.assert_allclose(p[0, 3:5], [0.05, 0.03], atol=1e-12)
    np.testing.assert_allclose(p[1, 5:34], np.full(29, 0.2), atol=1e-12)
    vel = 0.05 * (np.arange(29.0) + 1.0)
    vel[ANKLES] = 0.0
    np.testing.assert_allclose(p[0, 34:63], vel)
    np.testing.assert_allclose(p[0, 63:92], 0.0)
    np.testing.assert_allclose(p[1, 63:92], raw[0], rtol=1e-6)
    np.testing.assert_allclose(p[2, 63:92], raw[1], rtol=1e-6)  # raw: before clipping
    # history: the previous 10 rows of the first 127 values, oldest first, filled with the first row
    hist = obs[:, 127:1397].reshape(3, 10, 127)
    np.testing.assert_array_equal(hist[0], np.repeat(obs[0, None, :127], 10, 0))
    np.testing.assert_array_equal(hist[1], np.repeat(obs[0, None, :127], 10, 0))
    np.testing.assert_array_equal(hist[2, -1], obs[1, :127])
    np.testing.assert_array_equal(hist[2, :-1], np.repeat(obs[0, None, :127], 9, 0))
    # action: clip(a, -10, 10) x 0.5 + default pose
    np.testing.assert_allclose(targets[0], README_DEFAULT + 0.15, rtol=1e-6)
    np.testing.assert_allclose(targets[1], README_DEFAULT - 5.0, rtol=1e-6)


def test_reset_starts_a_fresh_history():
    net = Recorder([np.zeros(29)])
    tracker = OnnxTracker(load_spec(TWIST2_SPEC, "/nonexistent"), policy=net)
    for _ in range(2):
        tracker.reset(moving_reference())
        for t in range(3):
            tracker.act(robot_state(t, 0.1 * t))
    hist = net.obs[3][127:1397].reshape(10, 127)
    np.testing.assert_array_equal(hist, np.repeat(net.obs[3][None, :127], 10, 0))


def _write(path, data):
    path.write_text(json.dumps(data))
    return path


def test_bad_specs_are_one_line_errors(tmp_path):
    base = json.loads(TWIST2_SPEC.read_text())
    (tmp_path / "a.json").write_text("{")
    with pytest.raises(SpecError, match="not JSON"):
        load_spec(tmp_path / "a.json")
    with pytest.raises(SpecError, match="not a tracker spec"):
        load_spec(_write(tmp_path / "b.json", {**base, "format": "x"}))
    with pytest.raises(SpecError, match="missing kp"):
        load_spec(_write(tmp_path / "c.json", {k: v for k, v in base.items() if k != "kp"}))
    with pytest.raises(SpecError, match="left_hip_pitch_joint matches"):
        load_spec(_write(tmp_path / "d.json", {**base, "kp": {**base["kp"], "left_hip": 1}}))
    with pytest.raises(SpecError, match="not one of"):
        load_spec(_write(tmp_path / "e.json", {**base, "observation": [{"block": "vision"}]}))
    with pytest.raises(SpecError, match="multiple of the 0.005 s"):
        load_spec(_write(tmp_path / "f.json", {**base, "control_period_s": 0.013}))
    with pytest.raises(SpecError, match="cannot read"):
        load_spec(tmp_path / "missing.json")


def test_twist2_without_its_file_says_where_to_put_it(tmp_path):
    with pytest.raises(SpecError, match=f"{TWIST2_ONNX}: twist2 model not found .*--baseline-dir"):
        make_controller("twist2", baseline_dir=tmp_path)
    with pytest.raises(SpecError, match="needs a spec file"):
        make_controller("onnx")


def _linear_onnx(path, inputs: int, outputs: int = 29) -> None:
    """A model that answers zeros (a MatMul by a zero matrix) to (n, inputs) observations."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.full((inputs, outputs), 0.0, np.float32), "w")
    graph = helper.make_graph([helper.make_node("MatMul", ["obs", "w"], ["act"])], "lin",
                              [helper.make_tensor_value_info("obs", TensorProto.FLOAT, ["n", inputs])],
                              [helper.make_tensor_value_info("act", TensorProto.FLOAT, ["n", outputs])], [w])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def test_cli_tracks_with_an_onnx_spec_and_refuses_a_mismatched_model(tmp_path):
    from typer.testing import CliRunner

    from genmimic.policy.cli import app

    spec = {**json.loads(TWIST2_SPEC.read_text()), "name": "zero", "onnx": "zero.onnx", "input": "obs",
            "output": "act", "observation": [{"block": "reference", "frame_offset": 1},
                                             {"block": "proprioception"}, {"block": "history", "frames": 2}]}
    _write(tmp_path / "spec.json", spec)
    _linear_onnx(tmp_path / "zero.onnx", 35 + 92 + 2 * 127)
    clip = waving_g1_clip(num_frames=20, fps=50.0)
    save_clip(clip, tmp_path / "g1.npz")
    args = ["track", str(tmp_path / "g1.npz"), "-o", str(tmp_path / "r.npz"), "--controller", "onnx",
            "--spec", str(tmp_path / "spec.json")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    traj = load_clip(tmp_path / "r.npz")
    assert traj.meta["params"]["controller"] == "zero" and traj.num_frames == 20
    _linear_onnx(tmp_path / "zero.onnx", 100)
    result = CliRunner().invoke(app, args[:3] + [str(tmp_path / "r2.npz")] + args[4:])
    assert result.exit_code != 0 and "takes 100 observations" in result.output
    assert not (tmp_path / "r2.npz").exists()


def test_twist2_stands_and_follows_a_waving_clip(twist2_dir):
    """Closed loop in the project's simulator: TWIST2 keeps the G1 up on a standing clip with waving arms."""
    clip = waving_g1_clip(num_frames=250, fps=50.0)
    traj = track_clip(clip, make_controller("twist2", baseline_dir=twist2_dir), source="wave")
    s = score_trajectory(traj, clip)
    assert traj.meta["params"]["controller"] == "twist2"
    assert not s.fell and s.strict_success and s.root_relative_error < 0.05
