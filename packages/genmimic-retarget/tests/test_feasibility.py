"""The feasibility check: known answers of inverse dynamics, clips made infeasible on purpose, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from genmimic.core import g1_constants as g1
from genmimic.core import save_clip
from genmimic.core.g1_kinematics import g1_clip_from_joints
from genmimic.core.g1_model import standing_pelvis_height
from genmimic.retarget.cli import app
from genmimic.retarget.feasibility import check_feasibility, inverse_dynamics

WEIGHT = g1.TOTAL_MASS * 9.81
runner = CliRunner()


def _clip(seconds: float = 1.0, fps: float = 50.0, lift: float = 0.0, contacts=None, wrist_hz: float = 0.0,
          root_z=None):
    n = round(seconds * fps)
    t = np.arange(n) / fps
    dof = np.tile(np.asarray(g1.DEFAULT_DOF_POS), (n, 1))
    if wrist_hz:  # peak speed 0.6x the wrist motor's: 0.6 * 22 rad/s
        amp = 0.6 * g1.JOINTS[g1.JOINT_NAMES.index("left_wrist_pitch_joint")].motor.velocity / (2 * np.pi * wrist_hz)
        dof[:, g1.JOINT_NAMES.index("left_wrist_pitch_joint")] = amp * np.sin(2 * np.pi * wrist_hz * t)
    z = standing_pelvis_height(g1.DEFAULT_DOF_POS) + lift if root_z is None else root_z
    root = np.zeros((n, 3))
    root[:, 2] = z
    quat = np.tile([1.0, 0.0, 0.0, 0.0], (n, 1))
    return g1_clip_from_joints(root, quat, dof, fps, contacts=contacts)


@pytest.fixture(scope="module")
def standing():
    return _clip()


def test_standing_still_needs_no_base_wrench_and_the_torques_to_hold_it(standing):
    dyn = inverse_dynamics(standing)
    assert dyn.contact.all()
    assert dyn.base_force.max() < 1.0 and dyn.base_torque.max() < 1.0  # [N], [Nm]
    knee = g1.JOINT_NAMES.index("left_knee_joint")
    assert np.all(np.abs(dyn.torque[:, knee]) > 1.0)  # the bent knees carry the body
    np.testing.assert_allclose(dyn.torque[:, knee], dyn.torque[0, knee], atol=1e-6)  # static: constant
    report = check_feasibility(standing)
    assert report.verdict == "feasible" and not report.findings and (report.frame_verdict == 0).all()


@pytest.mark.parametrize("claims_contact", [False, True])
def test_a_clip_floating_20_cm_up_needs_the_weight_pushed_on_the_pelvis(claims_contact):
    n = 50
    clip = _clip(lift=0.2, contacts=np.full((n, 2), claims_contact))
    dyn = inverse_dynamics(clip)
    assert not dyn.contact.any()  # feet 20 cm up touch nothing, whatever the clip claims
    np.testing.assert_allclose(dyn.base_force, WEIGHT, rtol=0.01)
    report = check_feasibility(clip)
    assert report.verdict == "infeasible"
    assert report.findings[0].reason == "base_wrench" and (report.findings[0].first, report.findings[0].last) == (0, 49)
    assert "no foot contact can supply" in report.summary()


def test_joint_velocities_three_times_too_fast_are_named():
    clip = _clip(seconds=1.0, fps=100.0, wrist_hz=2.0)
    assert check_feasibility(clip).verdict == "feasible"
    fast = check_feasibility(clip.replace(fps=300.0))  # the same frames three times faster
    assert fast.verdict == "infeasible"
    vel = [f for f in fast.findings if f.reason == "joint_velocity" and f.level == "infeasible"]
    assert vel and "left_wrist_pitch_joint" in vel[0].detail and 1.7 < max(f.worst for f in vel) < 1.9


def test_a_jump_of_1_5_m_is_infeasible_at_the_jump():
    fps, n = 50.0, 150
    z0 = standing_pelvis_height(g1.DEFAULT_DOF_POS)
    t = np.arange(n) / fps
    bump = np.where((t >= 1.0) & (t < 2.0), np.sin(np.pi * (t - 1.0)) ** 2, 0.0)
    clip = _clip(seconds=3.0, fps=fps, root_z=z0 + 1.5 * bump)
    report = check_feasibility(clip)
    assert report.verdict == "infeasible"
    bad = np.flatnonzero(report.frame_verdict == 2)
    assert bad.min() >= 45 and bad.max() <= 105  # only around the jump (1-2 s)
    assert {f.reason for f in report.findings if f.level == "infeasible"} >= {"base_wrench"}
    assert (report.frame_verdict[:45] == 0).all()


def test_sunk_feet_are_reported_as_penetration():
    report = check_feasibility(_clip(lift=-0.03))
    assert report.verdict == "adapt"
    assert {f.reason for f in report.findings} == {"penetration"}


def test_check_command_prints_the_summary_and_writes_json(standing, tmp_path):
    path, out = tmp_path / "g1.npz", tmp_path / "feas.json"
    save_clip(standing, path)
    result = runner.invoke(app, ["check", str(path), "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "FEASIBLE: 50 frames" in result.output
    data = json.loads(out.read_text())
    assert data["verdict"] == "feasible" and len(data["frame_verdict"]) == 50 and data["findings"] == []


def test_check_command_strict_exit_code_and_bad_input(tmp_path):
    path, out = tmp_path / "float.npz", tmp_path / "feas.json"
    save_clip(_clip(lift=0.2), path)
    result = runner.invoke(app, ["check", str(path), "--strict"])
    assert result.exit_code == 2 and "INFEASIBLE" in result.output
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not an npz")
    result = runner.invoke(app, ["check", str(bad), "--json", str(out)])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1].startswith(f"error: {bad}")
    assert not out.exists()
