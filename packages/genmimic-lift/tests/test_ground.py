"""The ground under a lift: a walk whose world leans (a monocular lift's vertical comes from the body) is
levelled along its feet's contacts, a person in place is left alone, and a lifted walk towards the camera
keeps its feet on the ground."""

from __future__ import annotations

import numpy as np
import pytest

from genmimic.core import rotations as rot
from genmimic.lift.retarget_joints import ground_tilt, sole_heights, sole_points
from genmimic.lift.synth import synthesize


def _pitched(joints: np.ndarray, degrees: float) -> np.ndarray:
    """``joints`` turned about the y axis (a walk along +x then climbs or sinks)."""
    return joints @ rot.matrix_from_axis_angle([0.0, np.radians(degrees), 0.0]).T


def _angle(R: np.ndarray) -> float:
    return float(np.degrees(np.arccos(np.clip(R[2, 2], -1.0, 1.0))))


def test_sole_points_are_the_lowest_soles(walk_clip):
    pts = sole_points(walk_clip.joints)
    np.testing.assert_allclose(pts[:, 2], sole_heights(walk_clip.joints))
    # each point is under one of the feet
    feet = walk_clip.joints[:, [7, 8, 10, 11], :2]
    assert np.min(np.linalg.norm(feet - pts[:, None, :2], axis=-1), axis=1).max() < 1e-9


@pytest.mark.parametrize("degrees", [-17.0, 8.0])
def test_a_leaning_walk_is_levelled(degrees):
    walk = synthesize("walk", seed=2, duration=6.0, fps=25.0).joints  # about 4 m along +x, ground at z = 0
    leaning = _pitched(walk, degrees)
    climb = np.ptp(sole_heights(leaning))
    assert climb > 0.4, "the leaning walk climbs or sinks"
    tilt = ground_tilt(leaning)
    assert abs(_angle(tilt) - abs(degrees)) < 1.0
    levelled = leaning @ tilt.T
    assert np.ptp([np.percentile(part, 10) for part in np.array_split(sole_heights(levelled), 6)]) < 0.03


def test_a_person_in_place_is_left_alone():
    for kind in ("wave", "squat", "dance"):
        joints = _pitched(synthesize(kind, seed=1, duration=6.0, fps=25.0).joints, 15.0)
        assert _angle(ground_tilt(joints)) < 3.0, kind


def test_a_jump_does_not_tilt_the_ground():
    walk = synthesize("walk", seed=2, duration=6.0, fps=25.0).joints.copy()
    walk[60:75] += [0.0, 0.0, 0.3]  # airborne 0.6 s, 30 cm up, mid-way along the walk
    assert _angle(ground_tilt(walk)) < 1.0


def test_at_most_max_tilt():
    walk = _pitched(synthesize("walk", seed=2, duration=6.0, fps=25.0).joints, 40.0)
    assert abs(_angle(ground_tilt(walk, max_tilt=25.0)) - 25.0) < 1e-6


def test_a_lifted_walk_towards_the_camera_stays_on_the_ground():
    """A 4 s walk rendered and lifted back: the detector's 3D pose leans towards the camera, and before the
    path was levelled the soles rose along the walk (measured 2026-12-02: median 16 cm, 90th percentile
    33 cm; levelled: 1.5 and 5 cm). Since 2026-12-03 the pose is stood up along the floor the lift finds."""
    from genmimic.lift.evaluate import closed_loop

    result = closed_loop("walk", seed=1, duration=4.0, fps=25.0)
    clip = result.lifted
    # the detector's lean is taken out along the floor the lift finds (the render's camera: 1 m high, level)
    floor = clip.meta["floor"]
    assert floor["camera_height_m"] == pytest.approx(1.0, abs=0.15) and abs(floor["camera_pitch_deg"]) < 3.0
    assert clip.meta["ground_tilt_deg"] < 3.0
    soles = sole_heights(clip.joints, clip.meta["body_scale"])
    assert np.median(soles) < 0.04 and np.percentile(soles, 90) < 0.08, np.percentile(soles, [50, 90])
    travel = clip.joints[-1, 0] - clip.joints[0, 0]
    assert abs(travel[2]) < 0.05 and travel[0] > 1.0, travel
