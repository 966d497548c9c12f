"""Convention checks on imported motion: known answers for upright/lying/upside-down starts, sizes, ground
and joint ranges; a clean clip passes."""

from __future__ import annotations

import numpy as np
import pytest

from genmimic.core import conventions as cv
from genmimic.core import g1_constants as g1
from genmimic.core import smpl
from genmimic.core.rotations import quat_from_axis_angle
from genmimic.core.testing import standing_wave_smpl_clip, waving_g1_clip


def test_tilt_known_answers():
    assert cv.tilt_deg([0, 0, 2]) == pytest.approx(0.0)
    assert cv.tilt_deg([1, 0, 0]) == pytest.approx(90.0)
    assert cv.tilt_deg([0, 0.5, -0.5]) == pytest.approx(135.0)


def test_clean_clips_pass(g1_clip):
    assert cv.check_human_joints(standing_wave_smpl_clip().joints) == ()
    assert cv.check_g1_motion(g1_clip.root_pos, g1_clip.root_quat, g1_clip.dof_pos, g1_clip.keypoints) == ()


@pytest.mark.parametrize(("angle", "kind"), [(0.5, None), (1.4, "lying"), (2.5, "upside_down")])
def test_human_posture(angle, kind):
    joints = standing_wave_smpl_clip(10).joints
    R = np.array([[1, 0, 0], [0, np.cos(angle), -np.sin(angle)], [0, np.sin(angle), np.cos(angle)]])
    found = cv.check_human_joints(joints @ R.T)
    assert [v.kind for v in found if v.kind in ("lying", "upside_down")] == ([kind] if kind else [])


@pytest.mark.parametrize(("factor", "kind"), [(0.07, "size"), (7.0, "size"), (1.0, None)])
def test_human_size(factor, kind):
    joints = standing_wave_smpl_clip(10).joints * factor
    assert [v.kind for v in cv.check_human_joints(joints) if v.kind == "size"] == ([kind] if kind else [])


def test_g1_violations():
    clip = waving_g1_clip(20, 50.0)
    upside = np.tile(quat_from_axis_angle([np.pi, 0.0, 0.0]), (20, 1))
    assert [v.kind for v in cv.check_g1_motion(clip.root_pos, upside, clip.dof_pos)] == ["upside_down"]
    high = clip.keypoints + [0.0, 0.0, 0.5]
    assert [v.kind for v in cv.check_g1_motion(clip.root_pos, clip.root_quat, clip.dof_pos, high)] == \
        ["above_ground"]
    cm = cv.check_g1_motion(clip.root_pos * 100, clip.root_quat, clip.dof_pos, clip.keypoints * 100)
    assert [v.kind for v in cm] == ["unit"] and "centimetres" in cm[0].problem
    assert [v.kind for v in cv.check_g1_motion(clip.root_pos, clip.root_quat, np.degrees(clip.dof_pos))] == \
        ["degrees"]
    dof = clip.dof_pos.copy()
    knee = g1.JOINT_NAMES.index("right_knee_joint")
    dof[5, knee] = g1.JOINTS[knee].lower - 0.3
    found = cv.check_g1_motion(clip.root_pos, clip.root_quat, dof)
    assert [v.kind for v in found] == ["joint_range"] and "right_knee_joint" in found[0].problem
    assert cv.joint_excess(dof)[5, knee] == pytest.approx(0.3)
    assert cv.clamp_to_limits(dof)[5, knee] == pytest.approx(g1.JOINTS[knee].lower)


def test_error_is_one_line_with_the_fix():
    err = cv.ConventionError("m.csv", "the root starts upside down", "pass --quat-order wxyz")
    assert str(err) == "m.csv: the root starts upside down; pass --quat-order wxyz" and err.fix.endswith("wxyz")
    assert smpl.NUM_JOINTS == 24  # the default joint indices of check_human_joints are SMPL's
