"""Foot contacts (height AND speed, with hysteresis) and the human's stance width on the G1."""

from __future__ import annotations

import numpy as np
import pytest

from genmimic.core.testing import standing_wave_smpl_clip
from genmimic.retarget.contacts import (
    ANKLE_HEIGHT,
    TOE_HEIGHT,
    ContactConfig,
    detect_contacts,
    foot_rest_offsets,
    ground_heights,
    hysteresis,
)
from genmimic.retarget.mapping import LINKS
from genmimic.retarget.scaling import MIN_FOOT_SEPARATION, scale_to_g1

FPS = 50.0


def _foot(height: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ankle and toe keypoints (T, 2, 3) of two identical feet with sole height and forward position (T,)."""
    ankle = np.zeros((len(x), 2, 3))
    ankle[..., 0] = x[:, None]
    ankle[..., 1] = [0.1, -0.1]
    toe = ankle.copy()
    toe[..., 0] += 0.15
    ankle[..., 2] = height[:, None] + ANKLE_HEIGHT
    toe[..., 2] = height[:, None] + TOE_HEIGHT
    return ankle, toe


def _right_planted(ankle: np.ndarray, toe: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The same feet with the right one standing still, flat on the ground."""
    ankle, toe = ankle.copy(), toe.copy()
    ankle[:, 1], toe[:, 1] = ankle[0, 1] * [1, 1, 0] + [0, 0, ANKLE_HEIGHT], toe[0, 1] * [1, 1, 0] + [0, 0, TOE_HEIGHT]
    return ankle, toe


def test_a_foot_skimming_the_floor_is_not_in_contact():
    t = np.arange(50) / FPS
    ankle, toe = _right_planted(*_foot(np.full(50, 0.005), 0.6 * t))  # left: 5 mm up, 0.6 m/s forward
    contacts = detect_contacts(ankle, toe, FPS, ContactConfig())
    assert not contacts[:, 0].any() and contacts[:, 1].all()
    ankle, toe = _foot(np.full(50, 0.005), 0.0 * t)  # the same foot at rest
    assert detect_contacts(ankle, toe, FPS, ContactConfig()).all()


def test_a_glide_is_no_flight():
    """Both feet sliding near the floor (a lifted video's glide) for longer than a flight that low could
    last: the lower foot bears the body on every frame; a flight as high as its length allows stays one."""
    t = np.arange(50) / FPS
    ankle, toe = _foot(np.full(50, 0.005), 0.6 * t)  # both 5 mm up, 0.6 m/s forward, for 1 s
    ankle[:, 1, 2] += 0.003  # the right a little higher
    toe[:, 1, 2] += 0.003
    contacts = detect_contacts(ankle, toe, FPS, ContactConfig())
    assert contacts[:, 0].all() and not contacts[:, 1].any()
    # a run's flight of 0.2 s: ballistic, rising g T^2 / 8 = 4.9 cm
    height = np.zeros(50)
    s = (np.arange(10) + 0.5) / 10
    height[20:30] = 0.049 * 4 * s * (1 - s)
    speed = np.where(height > 0, 3.0, 0.0)
    ankle, toe = _foot(height, np.cumsum(speed) / FPS)
    contacts = detect_contacts(ankle, toe, FPS, ContactConfig())
    assert not contacts[21:29].any() and contacts[:15].all() and contacts[35:].all()
    # the same 0.2 s only 1 cm up is no ballistic flight: a hover, and the lower foot stands
    height[20:30] = 0.01
    contacts = detect_contacts(*_foot(height, np.cumsum(speed) / FPS), FPS, ContactConfig())
    assert contacts.any(axis=1).all()


def test_contact_starts_only_when_the_landing_foot_slows_down():
    # a foot comes down to 1 cm over 0.2 s moving at 0.5 m/s, then slows to rest over 0.2 s and stays
    speed = np.concatenate([np.full(20, 0.5), np.linspace(0.5, 0.0, 10), np.zeros(20)])
    x = np.cumsum(speed) / FPS
    height = np.concatenate([np.linspace(0.08, 0.01, 20), np.full(30, 0.01)])
    contacts = detect_contacts(*_right_planted(*_foot(height, x)), FPS, ContactConfig())[:, 0]
    first = int(np.argmax(contacts))
    assert contacts[first:].all()
    cfg = ContactConfig()
    assert speed[first] < cfg.speed / cfg.hysteresis  # not at 2 cm while still moving fast
    assert first >= 20


def test_each_foot_rests_on_the_ground():
    """A foot whose sole rests 1.5 cm up (a mocap marker placed higher: CMU 01_01's right) is taken down by
    that much; a foot held still 20 cm up, or never still, is no offset."""
    t = np.arange(100) / FPS
    ankle, toe = _right_planted(*_foot(np.zeros(100), 0.0 * t))
    ankle[:, 1, 2] += 0.015
    toe[:, 1, 2] += 0.015
    np.testing.assert_allclose(foot_rest_offsets(ankle, toe, FPS, ContactConfig()), [0.0, 0.015], atol=1e-9)
    held = ankle.copy(), toe.copy()
    held[0][:, 0, 2] += 0.2  # the left foot held up, still
    held[1][:, 0, 2] += 0.2
    np.testing.assert_allclose(foot_rest_offsets(*held, FPS, ContactConfig()), [0.0, 0.015], atol=1e-9)
    moving = _foot(np.full(100, 0.01), 0.6 * t)  # both feet slide 1 cm up: never still
    np.testing.assert_allclose(foot_rest_offsets(*moving, FPS, ContactConfig()), [0.0, 0.0])


def test_hysteresis_stops_a_foot_at_the_threshold_from_flickering():
    cfg = ContactConfig(min_duration=0.0)
    rng = np.random.default_rng(0)
    height = cfg.height + rng.uniform(-0.004, 0.004, 60)  # jitters across the 2 cm threshold
    height[:5] = 0.0  # settled first

    def switches(config: ContactConfig) -> int:
        flags = detect_contacts(*_right_planted(*_foot(height, np.zeros(60))), FPS, config)[:, 0]
        return int(np.abs(np.diff(flags.astype(int))).sum())

    assert switches(cfg) == 1  # it lifts once and stays lifted until clearly down again
    assert switches(ContactConfig(min_duration=0.0, hysteresis=1.0)) > 5  # a single threshold flickers


def test_hysteresis_needs_the_enter_condition_to_start():
    enter = np.array([0, 0, 1, 0, 0, 0, 1, 0], bool)
    stay = np.array([1, 1, 1, 1, 0, 1, 1, 1], bool)
    assert hysteresis(enter, stay).tolist() == [0, 0, 1, 1, 0, 0, 1, 1]


def test_the_stricter_start_never_leaves_both_feet_off_while_one_meets_the_plain_rule():
    t = np.arange(50) / FPS
    ankle, toe = _foot(np.full(50, 0.015), 0.3 * t)  # 1.5 cm up at 0.3 m/s: plain rule yes, start rule no
    contacts = detect_contacts(ankle, toe, FPS, ContactConfig())
    assert contacts.any(axis=1).all()


def test_feet_keep_the_humans_stance_width_but_never_closer_than_the_minimum():
    clip = standing_wave_smpl_clip()
    k = {link.keypoint: i for i, link in enumerate(LINKS)}
    wide = scale_to_g1(clip).positions  # the default: legs as scaled from the G1's hips
    near = scale_to_g1(clip, min_foot_separation=MIN_FOOT_SEPARATION).positions
    gap = lambda p: np.abs(p[:, k["left_ankle"], 1] - p[:, k["right_ankle"], 1])  # noqa: E731
    human = clip.joints
    from genmimic.core import smpl
    j = smpl.JOINT_NAMES.index
    human_gap = np.abs(human[:, j("left_ankle"), 1] - human[:, j("right_ankle"), 1]) * scale_to_g1(clip).scales["root"]
    assert np.allclose(gap(near), np.maximum(human_gap, MIN_FOOT_SEPARATION), atol=0.01)
    assert (gap(near) < gap(wide)).all()  # the G1's own hips put them wider
    # the rest of the body is untouched
    for name in ("pelvis", "torso", "left_wrist", "right_hand"):
        assert np.array_equal(near[:, k[name]], wide[:, k[name]])
    # a minimum wider than the G1's own stance leaves no room to narrow: the legs stay as scaled
    far = scale_to_g1(clip, min_foot_separation=0.4).positions
    assert np.allclose(far, wide)


def test_a_clean_procedural_walk_with_the_human_stance_retargets_to_a_feasible_g1_clip():
    synth = pytest.importorskip("genmimic.lift.synth")
    from genmimic.retarget import retarget
    from genmimic.retarget.feasibility import check_feasibility
    from genmimic.retarget.pipeline import RetargetConfig

    # with the human's stance width (opt-in; the default keeps the G1's hips, on which the shipped policy
    # was trained): the same walk is "adapt" with the default stance
    config = RetargetConfig(min_foot_separation=MIN_FOOT_SEPARATION)
    g1_clip = retarget(synth.synthesize("walk", seed=9002), config).clip
    report = check_feasibility(g1_clip)
    assert report.verdict == "feasible", report.summary()


def _ground(height: np.ndarray, **kw) -> np.ndarray:
    ankle, toe = _foot(height, np.zeros(len(height)))
    return ground_heights(ankle, toe, FPS, ContactConfig(**kw))


def test_the_ground_stays_put_under_a_jump_and_follows_a_slow_drift():
    t = np.arange(int(4 * FPS)) / FPS
    jump = np.where(np.abs(t - 2.0) < 0.2, 9.81 / 2 * (0.04 - (t - 2.0) ** 2), 0.0)  # 0.4 s flight, 0.2 m up
    np.testing.assert_allclose(_ground(jump + 0.03), 0.03, atol=1e-9)  # a floor 3 cm up, the flight kept
    drift = 0.07 * t / t[-1]  # a lift's feet rising 7 cm over 4 s
    assert np.abs(_ground(drift) - drift).max() < 0.01
    const = _ground(drift, hover_ratio=0.0)
    np.testing.assert_allclose(_ground(drift)[0], const[0], atol=0.01)
    assert np.abs(_ground(drift, ground_window=0.0) - np.percentile(drift, 5)).max() < 1e-12


def test_a_hover_too_low_for_a_flight_of_its_length_is_put_on_the_ground():
    t = np.arange(int(3 * FPS)) / FPS
    hover = np.where(np.abs(t - 1.5) < 0.3, 0.035, 0.0)  # both feet 3.5 cm up for 0.6 s: a lift's error
    ground = _ground(hover)
    assert np.abs(ground - hover)[np.abs(t - 1.5) < 0.25].max() < 1e-6
    assert np.abs(ground)[np.abs(t - 1.5) > 0.4].max() < 1e-6
    np.testing.assert_allclose(_ground(hover, hover_ratio=0.0), 0.0, atol=1e-12)  # off
    hop = np.where(np.abs(t - 1.5) < 0.3, 0.06, 0.0)  # higher than max_hover: kept as the input says
    np.testing.assert_allclose(_ground(hop), 0.0, atol=1e-12)


def test_a_trunk_that_leans_forward_does_not_lift_the_feet(monkeypatch):
    """The pelvis frame follows the trunk (hip line and spine), so the G1's rigid hip offsets swing up
    as the person bends forward; the ankle targets must still follow the human's, who stands flat."""
    from genmimic.core import smpl
    from genmimic.retarget import scaling

    clip = standing_wave_smpl_clip(num_frames=40)
    lean = np.linspace(0.0, 0.35, clip.num_frames)  # [rad] per spine joint: ~60 deg over the three
    body_pose = clip.body_pose.copy()
    for name in ("spine1", "spine2", "spine3"):
        body_pose[:, smpl.JOINT_NAMES.index(name) - 1, 0] = lean
    joints, _ = smpl.forward_kinematics(clip.global_orient, body_pose, clip.transl)
    clip = clip.replace(body_pose=body_pose, joints=joints)
    human_ankles = joints[:, [smpl.JOINT_NAMES.index("left_ankle"), smpl.JOINT_NAMES.index("right_ankle")], 2]
    assert np.ptp(human_ankles, axis=0).max() < 1e-9  # the person's feet do not move

    k = {link.keypoint: i for i, link in enumerate(LINKS)}
    ankles = [k["left_ankle"], k["right_ankle"]]
    targets = scale_to_g1(clip).positions
    assert np.ptp(targets[:, ankles, 2], axis=0).max() < 1e-3
    # without the correction the swung hips lift the feet off the floor
    monkeypatch.setattr(scaling, "human_foot_heights", lambda pos, kidx, z: pos)
    rigid = scale_to_g1(clip).positions
    assert np.ptp(rigid[:, ankles, 2], axis=0).max() > 0.01
    # only the legs move: the rest of the body is where it was
    for name in ("pelvis", "torso", "head", "left_hand", "right_hand"):
        assert np.array_equal(targets[:, k[name]], rigid[:, k[name]])


def test_a_body_that_drifts_with_its_feet_keeps_its_pose():
    """A drifting camera moves the whole person 1 m while the feet look planted (the bench's global drift):
    held to one point, the feet stretched the legs to the joint limits (keypoints 40 cm off, the pelvis 7 cm
    low) and every tracker fell; the feet now slide with the body and the pose is the still person's."""
    from genmimic.retarget import retarget

    clip = standing_wave_smpl_clip(num_frames=150)
    drift = np.zeros((clip.num_frames, 3))
    drift[:, 0] = np.linspace(0.0, 1.0, clip.num_frames)
    moved = clip.replace(joints=clip.joints + drift[:, None], transl=clip.transl + drift)
    still, drifting = retarget(clip).clip, retarget(moved).clip
    relative = lambda c: c.keypoints - c.root_pos[:, None]  # noqa: E731
    assert np.abs(relative(drifting) - relative(still)).max() < 0.02
    assert np.abs(drifting.root_pos[:, 2] - still.root_pos[:, 2]).max() < 0.01
    travelled = drifting.root_pos[-1, 0] - drifting.root_pos[0, 0] - (still.root_pos[-1, 0] - still.root_pos[0, 0])
    assert travelled == pytest.approx(drifting.meta["params"]["scales"]["root"], abs=0.02)  # 1 m, scaled to the G1
