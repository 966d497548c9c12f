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


def _one_foot(frames: slice, n: int = 50) -> np.ndarray:
    """Contact flags (n, 2): both feet, but only the right one during ``frames``."""
    contacts = np.ones((n, 2), bool)
    contacts[frames, 0] = False
    return contacts


def test_standing_on_one_foot_with_the_body_between_the_feet_needs_a_moment_not_a_force():
    """Known answer: the floor supplies the whole weight under the right foot (no residual force), but the
    centre of mass hangs over the middle, so the moment m g x (distance from the centre of mass to the foot's
    inner edge) is left, and held for a second that is adapt (the robot has to shift its weight)."""
    import mujoco

    from genmimic.core.g1_model import joint_qpos_indices, load_mujoco_model

    clip = _clip(contacts=_one_foot(slice(None)))
    dyn = inverse_dynamics(clip)
    assert dyn.contact[:, 1].all() and not dyn.contact[:, 0].any()
    model = load_mujoco_model()
    data = mujoco.MjData(model)
    data.qpos[0:3], data.qpos[3:7] = clip.root_pos[0], clip.root_quat[0]
    data.qpos[joint_qpos_indices(model)] = clip.dof_pos[0]
    mujoco.mj_forward(model, data)
    foot = data.xpos[model.body(g1.FOOT_BODIES[1]).id]
    inner_edge = foot[1] + max(p[1] for p in g1.FOOT_CONTACT_POINTS)  # the right foot's edge nearest the body
    lever = data.subtree_com[model.body("pelvis").id][1] - inner_edge
    assert 0.03 < lever < 0.2
    assert dyn.base_force.max() < 0.02 * WEIGHT
    np.testing.assert_allclose(dyn.base_torque, WEIGHT * lever, rtol=0.1)
    report = check_feasibility(clip)
    assert report.verdict == "adapt" and {f.reason for f in report.findings} == {"base_wrench"}
    assert "centre of pressure" in report.findings[0].detail


def test_a_brief_excursion_of_the_centre_of_pressure_is_feasible_a_long_one_adapt():
    """The moment of one-foot stance (~30 Nm here) for 0.04 s is an angular impulse of ~1.2 Nms, under the
    bar's m g x 1.5 cm x 0.3 s (1.5 Nms, ~0.015 rad of tilt): feasible; for 0.6 s the controller has to
    shift the weight: adapt, around those frames only."""
    brief = _clip(contacts=_one_foot(slice(20, 22)))
    assert 1.0 < inverse_dynamics(brief).base_torque.max() * 0.3 < WEIGHT * 0.015 * 0.3
    assert check_feasibility(brief).verdict == "feasible"
    report = check_feasibility(_clip(contacts=_one_foot(slice(10, 40))))
    assert report.verdict == "adapt"
    flagged = np.flatnonzero(report.frame_verdict == 1)
    assert flagged.min() >= 5 and flagged.max() <= 45
