"""The student shipped in the package: loads, has the documented interface, and keeps the G1 up."""

import numpy as np
from typer.testing import CliRunner

from genmimic.core import g1_constants as g1
from genmimic.core import load_clip, save_clip
from genmimic.core.clips import Trajectory
from genmimic.core.runtime import observation as obs
from genmimic.policy.cli import app
from genmimic.policy.config import action_scale, default_config
from genmimic.policy.policy_file import load_policy


def test_shipped_policy_has_the_documented_interface():
    net, spec = load_policy()
    cfg = default_config().env
    # v0.4 takes a 10-frame proprioception history and past goal frames too (configs/student_past_goals.json;
    # README "Observation")
    goal_frames = (*cfg.future_frames, -2, -5, -10)
    assert spec.observation.history == 10 and tuple(spec.observation.future_frames) == goal_frames
    assert net.obs_size == obs.layout_size(obs.student_layout(10, goal_frames)) == 1329
    assert spec.observation.size == 1329 and spec.control_period_s == cfg.ctrl_dt
    assert net.weights[-1].shape[1] == 29 and spec.joint_names == g1.JOINT_NAMES
    assert spec.training["student"]["env_steps"] > 0 and spec.training["teacher"]["env_steps"] > 100e6


def test_the_shipped_policy_runs_at_the_tracking_gains():
    """v0.5 was trained at the tracking gains (g1_constants.TRACKING_GAINS) and the training's action scale."""
    _, spec = load_policy()
    np.testing.assert_allclose(spec.kp, g1.TRACKING_GAINS.kp)
    np.testing.assert_allclose(spec.kd, g1.TRACKING_GAINS.kd)
    np.testing.assert_allclose(spec.action_scale, action_scale())
    assert spec.training["name"] == "genmimic G1 student v0.5"


def test_track_uses_the_shipped_policy_and_keeps_the_robot_up(g1_clip, tmp_path):
    save_clip(g1_clip, tmp_path / "wave.npz")
    r = CliRunner().invoke(app, ["track", str(tmp_path / "wave.npz"), "-o", str(tmp_path / "t.npz")])
    assert r.exit_code == 0, r.output
    traj = load_clip(tmp_path / "t.npz", Trajectory)
    assert not traj.fell and float(np.mean(traj.tracking_error)) < 0.25


def test_export_shipped_policy(tmp_path):
    r = CliRunner().invoke(app, ["export", "--shipped", "-o", str(tmp_path / "policy.onnx")])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "policy.json").exists()
    r = CliRunner().invoke(app, ["export", "-o", str(tmp_path / "x.onnx")])
    assert r.exit_code == 1 and "exactly one of RUN" in r.output and not (tmp_path / "x.onnx").exists()
    r = CliRunner().invoke(app, ["export", "--shipped", "--average-with", str(tmp_path),
                                 "-o", str(tmp_path / "y.onnx")])
    assert r.exit_code == 1 and "--average-with needs RUN to be a run directory" in r.output
    assert not (tmp_path / "y.onnx").exists()
