"""Standing ends of a clip: the lead-in from standing before it and the standing tail after it."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pytest

from genmimic.core import g1_constants as g1
from genmimic.core.g1_model import standing_pelvis_height
from genmimic.core.lead_in import LEAD_IN_BLEND_S, LEAD_IN_HOLD_S, START_SPEED_LIMIT_M_S
from genmimic.core.rotations import yaw_from_quat
from genmimic.core.standing import (
    auto_lead_in_s,
    resolve_lead_in,
    standing_lead_in,
    standing_tail,
    start_speed,
    with_standing_end,
    with_standing_start,
)
from genmimic.core.testing import moving_clip


def _upright_tilt(q: np.ndarray) -> float:
    """Angle [rad] between the pelvis z axis and the world's up."""
    _w, x, y, _z = q / np.linalg.norm(q)
    return float(np.arccos(np.clip(1.0 - 2.0 * (x * x + y * y), -1.0, 1.0)))


@pytest.fixture(scope="module")
def turned(g1_clip):
    """The waving clip, turned 0.8 rad and tipped a little (not a standing frame at either end)."""
    q = np.array([np.cos(0.4), 0.05, 0.0, np.sin(0.4)])
    return g1_clip.replace(root_quat=np.tile(q / np.linalg.norm(q), (g1_clip.num_frames, 1)))


def _max_step(clip) -> np.ndarray:
    return np.abs(np.diff(clip.dof_pos, axis=0)).max(axis=1)


def _is_standing_at(frame, clip, index: int) -> None:
    np.testing.assert_allclose(frame.dof_pos, g1.DEFAULT_DOF_POS)
    assert _upright_tilt(frame.root_quat) < 1e-9
    assert float(yaw_from_quat(frame.root_quat)) == pytest.approx(float(yaw_from_quat(clip.root_quat[index])))
    assert frame.root_pos[2] == pytest.approx(standing_pelvis_height(g1.DEFAULT_DOF_POS))
    np.testing.assert_allclose(frame.root_pos[:2], clip.root_pos[index, :2])


class _Frame(NamedTuple):
    root_pos: np.ndarray
    root_quat: np.ndarray
    dof_pos: np.ndarray


def _frame(clip, t: int) -> _Frame:
    return _Frame(clip.root_pos[t], clip.root_quat[t], clip.dof_pos[t])


def test_the_standing_tail_blends_the_last_frame_into_the_default_pose(turned):
    tail = standing_tail(turned, 2.0)
    assert tail.num_frames == 100 and tail.fps == turned.fps
    _is_standing_at(_frame(tail, -1), turned, -1)
    both = with_standing_end(turned, 2.0)
    assert both.num_frames == turned.num_frames + tail.num_frames
    n = turned.num_frames
    assert _max_step(both)[n - 1:].max() <= _max_step(turned).max() + 1e-9  # a smooth blend, no jump


def test_the_lead_in_holds_the_standing_pose_then_blends_into_the_first_frame(turned):
    lead = standing_lead_in(turned, 1.5)
    assert lead.num_frames == 75 and lead.fps == turned.fps
    hold = round(LEAD_IN_HOLD_S * turned.fps)
    for t in range(hold + 1):  # the hold, and the blend's first frame, are the pure standing pose
        _is_standing_at(_frame(lead, t), turned, 0)
    both = with_standing_start(turned, 1.5)
    assert both.num_frames == turned.num_frames + 75
    np.testing.assert_array_equal(both.dof_pos[75:], turned.dof_pos)
    np.testing.assert_allclose(both.keypoints[75:], turned.keypoints)
    # the blend moves every joint monotonically from standing to the first frame, with no jump into the clip
    d = (lead.dof_pos - turned.dof_pos[0]) * np.sign(np.asarray(g1.DEFAULT_DOF_POS) - turned.dof_pos[0])
    assert np.all(np.diff(d, axis=0) <= 1e-12)
    assert _max_step(both)[:75].max() <= 0.05 and _max_step(both)[74] < _max_step(both)[:74].max()
    # its keypoints are the model's: the feet stand on the floor while it holds
    assert lead.contacts[:hold].all()


def test_a_short_lead_in_still_holds_a_third_of_it(turned):
    lead = standing_lead_in(turned, 0.3)
    assert lead.num_frames == 15
    np.testing.assert_allclose(lead.dof_pos[:6], np.tile(g1.DEFAULT_DOF_POS, (6, 1)))
    assert not np.allclose(lead.dof_pos[6], g1.DEFAULT_DOF_POS)


def test_only_a_clip_that_starts_in_motion_gets_a_lead_in(g1_clip, moving_g1_clip):
    moving = moving_g1_clip
    assert start_speed(g1_clip) < START_SPEED_LIMIT_M_S and auto_lead_in_s(g1_clip) == 0.0
    assert start_speed(moving) == pytest.approx(np.hypot(0.6, 0.3))
    assert auto_lead_in_s(moving) == LEAD_IN_HOLD_S + LEAD_IN_BLEND_S
    assert resolve_lead_in(moving, None) == LEAD_IN_HOLD_S + LEAD_IN_BLEND_S
    assert resolve_lead_in(moving, 0.0) == 0.0 and resolve_lead_in(g1_clip, 2.0) == 2.0


@pytest.mark.parametrize("bad", [-0.5, float("nan"), float("inf")])
def test_a_bad_lead_in_is_refused(g1_clip, bad):
    with pytest.raises(ValueError, match="lead-in"):
        resolve_lead_in(g1_clip, bad)
    with pytest.raises(ValueError, match="lead-in"):
        standing_lead_in(g1_clip, 0.0)


def test_the_lead_in_accelerates_evenly_into_a_moving_clip(g1_clip):
    """A clip that starts walking at 0.6 m/s: the pelvis stands still, then reaches the clip's velocity at its
    first frame (uniform acceleration over the 1.0 s blend), so the motion starts without a jump."""
    walk = np.array([0.6, -0.2, 0.0])
    moving = moving_clip(g1_clip, walk)
    both = with_standing_start(moving, 1.5)
    hold, blend = round(LEAD_IN_HOLD_S * moving.fps), round(LEAD_IN_BLEND_S * moving.fps)
    xy = both.root_pos[:, :2]
    np.testing.assert_allclose(xy[:hold + 1], np.tile(moving.root_pos[0, :2] - walk[:2] * LEAD_IN_BLEND_S / 2,
                                                      (hold + 1, 1)), atol=1e-9)  # standing still
    v = np.diff(xy, axis=0) * moving.fps
    np.testing.assert_allclose(v[hold + blend - 1], walk[:2], rtol=0.03)  # arrives at the clip's velocity
    assert np.all(np.diff(np.linalg.norm(v[hold:hold + blend], axis=1)) > 0)  # speeding up all through the blend
    # keypoints move with the pelvis: the model's forward kinematics of the shifted frames
    from genmimic.core.g1_kinematics import keypoint_positions

    np.testing.assert_allclose(both.keypoints[:hold + blend], keypoint_positions(
        both.root_pos[:hold + blend], both.root_quat[:hold + blend], both.dof_pos[:hold + blend]), atol=1e-9)
