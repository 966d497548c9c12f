"""The fall test and the success criteria: known answers and invariants."""

import numpy as np
import pytest

from genmimic.core import g1_constants as g1
from genmimic.core.rotations import quat_from_axis_angle, quat_multiply, quat_rotate
from genmimic.core.testing import waving_g1_clip
from genmimic.core.tracking import (
    STRICT_WINDOW_ERROR_M,
    describe_global,
    fallen,
    global_following,
    heading_frame,
    score_tracking,
    score_trajectory,
    smoothed_path,
    window_means,
)

HAND = g1.KEYPOINT_NAMES.index("right_hand")


@pytest.fixture(scope="module")
def clip():
    return waving_g1_clip(num_frames=150, fps=50.0)


def _score(clip, keypoints=None, root_pos=None, root_quat=None, fell=None):
    return score_tracking(clip.keypoints if keypoints is None else keypoints,
                          clip.root_pos if root_pos is None else root_pos,
                          clip.root_quat if root_quat is None else root_quat,
                          clip.keypoints, clip.root_pos, clip.root_quat,
                          np.zeros(clip.num_frames, bool) if fell is None else fell, clip.fps)


def test_perfect_tracking_scores_zero(clip):
    s = _score(clip)
    assert s.strict_success and s.success and not s.fell
    assert s.mean_keypoint_error == s.root_relative_error == s.worst_window_error == 0.0
    assert s.groups.hands == s.groups.feet == s.groups.head == 0.0
    assert s.root_error == s.heading_error == 0.0


def test_global_offset_and_turn_count_as_drift_not_tracking_error(clip):
    """The same motion shifted 1 m and turned 90 deg about the pelvis: root-relative error 0 (strict success),
    legacy criterion failed, drift reported as root and heading error."""
    turn = quat_from_axis_angle(np.array([0.0, 0.0, np.pi / 2]))
    pelvis = clip.keypoints[:, g1.KEYPOINT_NAMES.index("pelvis")][:, None]
    kp = quat_rotate(turn, clip.keypoints - pelvis) + pelvis + np.array([1.0, 0.0, 0.0])
    quat = quat_multiply(np.broadcast_to(turn, clip.root_quat.shape), clip.root_quat)
    s = _score(clip, kp, clip.root_pos + np.array([1.0, 0.0, 0.0]), quat)
    assert s.root_relative_error == pytest.approx(0.0, abs=1e-9)
    assert s.strict_success and not s.success
    assert s.root_error == pytest.approx(1.0)
    assert s.heading_error == pytest.approx(np.pi / 2) and s.final_heading_error == pytest.approx(np.pi / 2)


def test_a_robot_standing_while_the_reference_walks_and_turns_is_said_not_to_follow(clip):
    """Strict success by posture alone (the tester's complaint: "strict success yes" for a walk never walked);
    the plain-words line says it did not travel or turn as the reference did, with the distances."""
    T = clip.num_frames
    walk = np.linspace(0.0, 0.9, T)[:, None] * np.array([1.0, 0.0, 0.0])  # the reference walks 0.9 m ...
    yaw = np.linspace(0.0, np.radians(83.0), T)  # ... and turns 83 deg about its pelvis
    turn = np.stack([quat_from_axis_angle(np.array([0.0, 0.0, a])) for a in yaw])
    pelvis = clip.keypoints[:, g1.KEYPOINT_NAMES.index("pelvis")][:, None]
    ref_kp = quat_rotate(turn[:, None], clip.keypoints - pelvis) + pelvis + walk[:, None]
    ref_quat = quat_multiply(turn, clip.root_quat)
    stood = score_tracking(clip.keypoints, clip.root_pos, clip.root_quat, ref_kp, clip.root_pos + walk, ref_quat,
                           np.zeros(T, bool), clip.fps)
    assert stood.strict_success and stood.reference_travel == pytest.approx(0.9) and stood.robot_travel == 0.0
    assert global_following(stood) == (False, False)
    assert describe_global(stood) == ("travelled 0.00 m of the reference's 0.90 m, 0.90 m off at the end: did not "
                                      "follow it; heading 83 deg off at the end: did not turn as it did")
    went = score_tracking(ref_kp, clip.root_pos + walk, ref_quat, ref_kp, clip.root_pos + walk, ref_quat,
                          np.zeros(T, bool), clip.fps)
    assert global_following(went) == (True, True)
    assert describe_global(went) == ("travelled 0.90 m of the reference's 0.90 m, 0.00 m off at the end; "
                                     "heading 0 deg off at the end")
    assert describe_global(_score(clip)) == "root 0.00 m from the reference's at the end; heading 0 deg off at the end"
    # out and back (path 3 m, back at the start): a robot standing through it ends where the reference does,
    # but was 1.5 m off half way: it did not travel with it; nor does a robot that fell
    out_back = np.concatenate([np.linspace(0, 1.5, T // 2), np.linspace(1.5, 0, T - T // 2)])[:, None] * [1, 0, 0]
    there = score_tracking(clip.keypoints, clip.root_pos, clip.root_quat, clip.keypoints + out_back[:, None],
                           clip.root_pos + out_back, clip.root_quat, np.zeros(T, bool), clip.fps)
    assert there.final_root_error < 0.05 and global_following(there).travelled is False
    fell = score_tracking(ref_kp, clip.root_pos + walk, ref_quat, ref_kp, clip.root_pos + walk, ref_quat,
                          np.arange(T) >= T - 5, clip.fps)
    assert global_following(fell) == (False, False)
    # a reference that neither travels nor turns: neither applies (n/a), and a robot turning away is said so
    assert global_following(_score(clip)) == (None, None)
    turn = quat_from_axis_angle(np.array([0.0, 0.0, np.pi / 2]))
    away = _score(clip, root_quat=quat_multiply(np.broadcast_to(turn, clip.root_quat.shape), clip.root_quat))
    assert describe_global(away).endswith("heading 90 deg off at the end: turned away from it")
    # a standing robot's sway (~5 mm per frame at 50 Hz: ~1 m summed frame by frame) is not travel
    noise = np.random.default_rng(0).normal(scale=0.004, size=clip.root_pos.shape) * [1, 1, 0]
    frame_by_frame = np.linalg.norm(np.diff(noise[:, :2], axis=0), axis=-1).sum()
    assert frame_by_frame > 0.5 and _score(clip, root_pos=clip.root_pos + noise).robot_travel < 0.1


def test_a_hand_left_behind_fails_the_window_and_shows_in_the_hands_group(clip):
    kp = clip.keypoints.copy()
    kp[50:100, HAND] += np.array([0.0, 0.0, 0.6 * len(g1.KEYPOINT_NAMES)])  # one hand 0.6 m x K off for 1 s
    s = _score(clip, kp)
    assert not s.strict_success and s.worst_window_error == pytest.approx(0.6)
    assert s.groups.hands > 0 and s.groups.feet == 0.0 and s.groups.head == 0.0
    assert s.worst_window_error > STRICT_WINDOW_ERROR_M > s.root_relative_error


def test_a_fall_is_never_a_success(clip):
    fell = np.zeros(clip.num_frames, bool)
    fell[-1] = True
    s = _score(clip, fell=fell)
    assert s.fell and not s.success and not s.strict_success


def test_fallen_tilt_and_height():
    upright = np.array([1.0, 0, 0, 0])
    lying = quat_from_axis_angle(np.array([np.pi / 2, 0, 0]))
    pos = np.array([[0, 0, 0.75], [0, 0, 0.75], [0, 0, 0.40]])
    got = fallen(np, pos, np.stack([upright, lying, upright]), np.full(3, 0.75))
    assert got.tolist() == [False, True, True]


def test_window_means_known_answer():
    assert window_means(np.array([0.0, 1, 2, 3]), 2).tolist() == [0.5, 1.5, 2.5]
    assert window_means(np.array([1.0, 3]), 50).tolist() == [2.0]  # shorter than a window: one window


def test_heading_frame_removes_yaw():
    kp = np.array([[[1.0, 0, 0], [0, 0, 0]]])
    q = quat_from_axis_angle(np.array([0, 0, np.pi / 2]))[None]
    out = heading_frame(quat_rotate(q[:, None], kp), np.zeros((1, 3)), q)
    np.testing.assert_allclose(out, kp, atol=1e-12)


def test_score_trajectory_resamples_the_reference(clip):
    """A trajectory at half the reference's rate that replays it exactly scores zero."""
    from genmimic.core.clips import Trajectory

    idx = np.arange(0, clip.num_frames, 2)
    n = len(idx)
    traj = Trajectory(fps=clip.fps / 2, meta=clip.meta, root_pos=clip.root_pos[idx], root_quat=clip.root_quat[idx],
                      dof_pos=clip.dof_pos[idx], keypoints=clip.keypoints[idx], contacts=clip.contacts[idx],
                      dof_vel=np.zeros((n, 29)), torque=np.zeros((n, 29)), root_lin_vel=np.zeros((n, 3)),
                      root_ang_vel=np.zeros((n, 3)), reference_keypoints=clip.keypoints[idx],
                      tracking_error=np.zeros(n), fallen=np.zeros(n, bool))
    s = score_trajectory(traj, clip)
    assert s.strict_success and s.mean_keypoint_error == pytest.approx(0.0, abs=1e-12)
    assert s.joint_error == pytest.approx(0.0, abs=1e-12)


def test_joint_error_sees_a_limb_turned_about_its_axis_and_is_nan_without_angles(clip):
    """Two joints 0.58 rad off over every frame: mean absolute error 2 * 0.58 / 29, whatever the keypoints;
    no joint angles given, no figure (nan); mismatched shapes are an error."""
    q = clip.dof_pos.copy()
    q[:, [g1.JOINT_NAMES.index("left_hip_yaw_joint"), g1.JOINT_NAMES.index("right_shoulder_yaw_joint")]] += 0.58
    s = score_tracking(clip.keypoints, clip.root_pos, clip.root_quat, clip.keypoints, clip.root_pos, clip.root_quat,
                       np.zeros(clip.num_frames, bool), clip.fps, dof_pos=q, ref_dof_pos=clip.dof_pos)
    assert s.strict_success and s.joint_error == pytest.approx(2 * 0.58 / 29)
    assert np.isnan(_score(clip).joint_error)
    with pytest.raises(ValueError, match="joint angles"):
        score_tracking(clip.keypoints, clip.root_pos, clip.root_quat, clip.keypoints, clip.root_pos, clip.root_quat,
                       np.zeros(clip.num_frames, bool), clip.fps, dof_pos=q[:-1], ref_dof_pos=clip.dof_pos)


def test_tilted_is_the_tilt_half_of_fallen():
    from genmimic.core.tracking import FALL_TILT_RAD, tilted

    angles = np.array([0.0, FALL_TILT_RAD - 0.01, FALL_TILT_RAD + 0.01, np.pi])
    quats = np.stack([quat_from_axis_angle(np.array([0.0, a, 0.0])) for a in angles])
    assert tilted(np, quats).tolist() == [False, False, True, True]
    high = np.tile([0.0, 0.0, 10.0], (4, 1))  # never under the reference: only the tilt can trip
    assert fallen(np, high, quats, np.zeros(4)).tolist() == tilted(np, quats).tolist()


def test_a_robot_standing_through_a_jump_is_said_not_to_jump(clip):
    """A reference whose root rises 0.2 m for 0.4 s (a jump): a robot standing through it meets the strict
    criterion (root-relative), and the plain-words line says its root did not rise as the reference's."""
    T = clip.num_frames
    t = np.arange(T) / clip.fps
    flight = np.clip(1.0 - ((t - 1.5) / 0.2) ** 2, 0.0, None) * 0.2  # a 0.2 m arc from 1.3 to 1.7 s
    up = flight[:, None] * np.array([0.0, 0.0, 1.0])
    stood = score_tracking(clip.keypoints, clip.root_pos, clip.root_quat, clip.keypoints + up[:, None],
                           clip.root_pos + up, clip.root_quat, np.zeros(T, bool), clip.fps)
    assert stood.strict_success
    assert stood.reference_rise == pytest.approx(0.2, abs=1e-3) and stood.robot_rise == pytest.approx(0.0, abs=1e-3)
    assert describe_global(stood).endswith("; the root rose 0 cm above standing where the reference's rose 20 cm: "
                                           "did not jump as it did")
    jumped = score_tracking(clip.keypoints + up[:, None], clip.root_pos + up, clip.root_quat,
                            clip.keypoints + up[:, None], clip.root_pos + up, clip.root_quat, np.zeros(T, bool),
                            clip.fps)
    assert describe_global(jumped).endswith("; the root rose 20 cm above standing where the reference's rose 20 cm")
    assert "rose" not in describe_global(_score(clip)), "no jump in the reference: nothing said"


def test_a_noisy_reference_standing_in_place_neither_travels_nor_turns():
    """A retargeted jittered clip's pelvis wobbles 15 deg in yaw and 2.5 cm (per axis) in place, correlated over ~0.1 s
    (the benchmark's severity-3 jitter, measured). A robot that stands as the clean motion does: read frame by
    frame this reference "turned" 40-60 deg and its last frame decided the heading at the end; on the 1 s
    averaged paths it stays in place (travel under 0.25 m, turn under 30 deg) and the robot ends within 20 deg
    (the paths' ends are line fits over the last second, about twice as noisy as its mean)."""
    clean = waving_g1_clip(num_frames=250, fps=50.0)
    for seed in range(5):
        rng = np.random.default_rng(seed)
        wobble = smoothed_path(rng.normal(size=(clean.num_frames + 4, 3)), 5)[2:-2]
        wobble /= wobble.std(axis=0)
        yaw = np.radians(15.0) * wobble[:, 0]
        turn = np.stack([quat_from_axis_angle(np.array([0.0, 0.0, a])) for a in yaw])
        shift = np.concatenate([0.025 * wobble[:, 1:], np.zeros((clean.num_frames, 1))], axis=1)
        pelvis = clean.keypoints[:, g1.KEYPOINT_NAMES.index("pelvis")][:, None]
        ref_kp = quat_rotate(turn[:, None], clean.keypoints - pelvis) + pelvis + shift[:, None]
        s = score_tracking(clean.keypoints, clean.root_pos, clean.root_quat, ref_kp, clean.root_pos + shift,
                           quat_multiply(turn, clean.root_quat), np.zeros(clean.num_frames, bool), clean.fps)
        assert s.reference_travel < 0.25 and s.reference_turn < np.radians(30.0), (seed, s)
        assert global_following(s) == (None, None)
        assert s.final_heading_error < np.radians(20.0) and s.final_root_error < 0.05, (seed, s)


def test_smoothed_path_keeps_a_constant_velocity_path_and_averages_noise():
    """Known answers: a ramp (T, 2) comes back unchanged, ends included (the ends are extended by line fits);
    white noise's std falls by about the square root of the window; short inputs come back as they are."""
    t = np.arange(200, dtype=float)
    ramp = np.stack([0.01 * t, -0.5 + 0.002 * t], axis=1)
    np.testing.assert_allclose(smoothed_path(ramp, 51), ramp, atol=1e-12)
    noise = np.random.default_rng(0).normal(size=10_000)
    assert smoothed_path(noise, 49)[100:-100].std() == pytest.approx(1 / 7, rel=0.15)
    np.testing.assert_array_equal(smoothed_path(np.ones(1), 51), np.ones(1))
    np.testing.assert_allclose(smoothed_path(ramp[:10], 51), ramp[:10], atol=1e-12)
