"""Video lifting: the closed loop on a rendered synthetic video (known truth), the command with --render and
--body-model, bad videos, and the two sample videos in ../shared/data when present."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from genmimic.core import SmplClip, load_clip
from genmimic.core.testing import write_tiny_smpl_model
from genmimic.lift.cli import lift_app
from genmimic.lift.errors import LiftError
from genmimic.lift.evaluate import accuracy, closed_loop
from genmimic.lift.lift_video import lift_video, stature
from genmimic.lift.render import write_video
from genmimic.lift.retarget_joints import sole_heights
from genmimic.lift.video import probe


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    """A 2 s wave rendered with the capsule figure (360x480, 30 fps), lifted, compared with the truth."""
    path = tmp_path_factory.mktemp("render") / "wave.mp4"
    return closed_loop("wave", seed=0, duration=2.0, video_path=path), path


def test_closed_loop_accuracy(loop):
    result, _ = loop
    assert result.frames_without_person == 0, "MediaPipe finds the rendered figure in every frame"
    acc = result.accuracy
    # measured 54-103 mm PA-MPJPE on 3 s renders (the target is 60 mm: not reached on all, see the README)
    assert acc.pa_mpjpe < 0.12, acc
    assert acc.mpjpe < 0.4 and acc.root < 0.4, acc
    clip = result.lifted
    assert clip.num_frames == result.truth.num_frames and clip.fps == 30.0
    assert 1.4 < stature(clip) < 2.0
    assert abs(np.percentile(sole_heights(clip.joints, clip.meta["body_scale"]), 10)) < 1e-3


def test_lifted_clip_is_consistent(loop):
    result, _ = loop
    clip = result.lifted
    from genmimic.core import smpl

    rest = smpl.DEFAULT_REST_JOINTS * clip.meta["body_scale"]
    joints, _ = smpl.forward_kinematics(clip.global_orient, clip.body_pose, clip.transl, rest)
    np.testing.assert_allclose(joints, clip.joints, atol=1e-6)
    assert clip.confidence.max() == 1.0 and clip.confidence.min() >= 0.0
    assert clip.meta["interpolated_frames"] == [] and clip.meta["frames_with_person"] == clip.num_frames
    assert set(clip.meta["timings_fps"]) == {"decode_fps", "detect_fps", "fit_fps"}


def test_missing_frames_are_interpolated_and_flagged(loop, tmp_path):
    _, path = loop
    import av

    with av.open(str(path)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    for t in (20, 21, 22):
        frames[t] = np.full_like(frames[t], 128)  # the person vanishes (as in generated videos)
    holed = tmp_path / "holed.mp4"
    write_video(holed, frames, 30.0)
    clip = lift_video(holed).clip
    assert clip.meta["interpolated_frames"] == [20, 21, 22]
    assert np.all(clip.confidence[20:23] == 0.0) and np.all(clip.confidence[:20].max(axis=1) > 0.5)
    from genmimic.lift.evaluate import EVAL_JOINTS

    step = np.linalg.norm(np.diff(clip.joints[:, EVAL_JOINTS], axis=0), axis=-1).max(axis=1)  # [m/frame]
    around_gap, elsewhere = step[19:23].max(), np.delete(step, range(19, 23)).max()
    # MediaPipe is not deterministic run to run; a bad fill (zeros, a held pose) jumps by 0.5 m or more
    assert around_gap <= 1.5 * elsewhere + 0.05, "filled frames are about as smooth as the frames the detector saw"


def test_cli_lifts_a_video_with_render_and_body_model(loop, tmp_path):
    _, path = loop
    model = write_tiny_smpl_model(tmp_path / "SMPL_NEUTRAL.pkl")
    out, overlay = tmp_path / "lifted.npz", tmp_path / "overlay.mp4"
    result = CliRunner().invoke(lift_app, [str(path), "-o", str(out), "--render", str(overlay),
                                           "--body-model", str(model)])
    assert result.exit_code == 0, result.output
    clip = load_clip(out, SmplClip)
    assert clip.meta["params"]["body_model"] is True and np.any(clip.betas != 0)
    info = probe(overlay)
    assert info.frames == clip.num_frames and info.fps == pytest.approx(30.0)
    truth_leg = 0.39 * 1.0  # the tiny model's thigh at beta 0 is the default skeleton's
    thigh = np.linalg.norm(clip.joints[:, 4] - clip.joints[:, 1], axis=-1)
    assert 0.7 * truth_leg < thigh.mean() < 1.3 * truth_leg


def _write(path, frames, fps=30.0):
    write_video(path, frames, fps)
    return path


@pytest.mark.parametrize("case", ["garbage", "truncated", "still", "empty_person", "zero_size"])
def test_bad_videos_fail_with_one_line(tmp_path, loop, case):
    _, good = loop
    path = tmp_path / f"{case}.mp4"
    if case == "garbage":
        path.write_bytes(b"this is not a video" * 100)
        problem = "cannot open as a video"
    elif case == "truncated":
        path.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 3])
        problem = "cannot open|damaged|no person"
    elif case == "still":
        _write(path, [np.full((64, 64, 3), 200, np.uint8)])
        problem = "single frame"
    elif case == "empty_person":
        _write(path, [np.full((64, 64, 3), 90 + t, np.uint8) for t in range(5)])
        problem = "no person found in any of its 5 frames"
    else:
        path.write_bytes(b"")
        problem = "cannot open as a video"
    out = tmp_path / "out.npz"
    result = CliRunner().invoke(lift_app, [str(path), "-o", str(out)])
    assert result.exit_code == 1
    import re

    assert re.search(problem, result.output), result.output
    assert result.output.startswith(f"error: {path}") and result.output.count("\n") == 1
    assert not out.exists()


def test_huge_resolution_is_refused(tmp_path):
    path = _write(tmp_path / "huge.mp4", [np.zeros((4400, 7800, 3), np.uint8)] * 2)
    with pytest.raises(LiftError, match="resolution 7800x4400 is above"):
        probe(path)


def test_bad_focal(loop):
    _, path = loop
    with pytest.raises(LiftError, match="--focal"):
        lift_video(path, focal=-3.0)


def test_accuracy_of_the_truth_is_zero(loop):
    truth = loop[0].truth
    acc = accuracy(truth.joints, truth.joints)
    assert acc.mpjpe == 0 and acc.pa_mpjpe < 1e-9 and acc.root == 0


@pytest.mark.parametrize("name", ["real_basketball_dribble.mp4", "generated_turn_around.mp4"])
def test_shared_videos(shared_data, name):
    lift = lift_video(shared_data / "videos" / name)
    clip = lift.clip
    assert clip.meta["frames_with_person"] >= 0.9 * clip.num_frames
    assert 1.4 < stature(clip) < 2.0
    head = clip.joints[:, 15, 2]
    assert 1.1 < np.median(head) < 1.9
    soles = sole_heights(clip.joints, clip.meta["body_scale"])
    assert abs(np.percentile(soles, 10)) < 1e-3 and np.median(soles) < 0.15, "feet near the ground"


def test_left_right_swaps_are_undone():
    from genmimic.lift.pose2d import Keypoints, consistent_sides

    rng = np.random.default_rng(0)
    T = 40
    t = np.arange(T)[:, None, None]
    uv = 200 + 40 * rng.standard_normal((1, 24, 2)) + 0.5 * t  # a body drifting slowly across the image
    xyz = rng.standard_normal((1, 24, 3)) * 0.2 + np.zeros((T, 1, 1))
    vis = np.ones((T, 24))
    truth = Keypoints(uv, xyz, vis, np.ones(T, bool))
    bad = truth.uv.copy(), truth.xyz.copy()
    frames = np.zeros(T, bool)
    frames[10:18] = True  # the detector swaps left and right for 8 frames
    for arr in bad:
        for a, b in ((16, 17), (18, 19), (20, 21), (22, 23), (1, 2), (4, 5), (7, 8), (10, 11)):
            arr[frames, a], arr[frames, b] = arr[frames, b].copy(), arr[frames, a].copy()
    fixed, swapped = consistent_sides(Keypoints(bad[0], bad[1], vis, truth.found))
    assert (swapped[:, 0] == frames).all() and (swapped[:, 1] == frames).all()
    np.testing.assert_allclose(fixed.uv, truth.uv)
    np.testing.assert_allclose(fixed.xyz, truth.xyz)
