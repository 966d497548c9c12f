"""Pictures of what happened: per-frame metrics, the comparison video's pieces, the G1 renderer, the HTML
report, and the viewer (opened in headless Chromium the way a person uses it)."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from genmimic.core import g1_constants as g1
from genmimic.core import save_clip, testing
from genmimic.core.compare_video import caption_strip, video_plan
from genmimic.core.frame_metrics import fall_event, joint_limit_margins, trajectory_errors
from genmimic.core.rotations import quat_rotate
from genmimic.core.tracking import score_trajectory
from genmimic.core.view_geometry import g1_figure, quat_z_to, smpl_figure

tracked = testing.tracked_trajectory


def test_frame_errors_average_to_the_tracking_score(g1_clip):
    robot = tracked(g1_clip)
    errors = trajectory_errors(robot, g1_clip)
    score = score_trajectory(robot, g1_clip)
    assert errors.all.mean() == pytest.approx(score.root_relative_error)
    assert errors.hands.mean() == pytest.approx(score.groups.hands)
    assert errors.hands.max() > 0.1 and errors.feet.max() < 1e-9  # only the arm moved
    perfect = trajectory_errors(tracked(g1_clip, arm_still=False))
    assert np.allclose(perfect.all, 0.0)


def test_fall_event_says_when_and_why(g1_clip):
    assert fall_event(tracked(g1_clip)) is None
    event = fall_event(tracked(g1_clip, fall_at=40))
    assert event.frame == 40 and event.time_s == pytest.approx(40 / g1_clip.fps) and event.reason == "tilt"
    assert "FELL at 0.80 s" in event.label()


def test_joint_limit_margins_known_values():
    lower = np.array([j.lower for j in g1.JOINTS])
    upper = np.array([j.upper for j in g1.JOINTS])
    q = np.stack([lower + 0.1, upper + 0.05, 0.5 * (lower + upper)])
    m = joint_limit_margins(q)
    assert np.allclose(m[0], 0.1) and np.allclose(m[1], -0.05)
    assert np.allclose(m[2], 0.5 * (upper - lower))


def test_video_plan_holds_the_fall_for_a_second_and_ends():
    plan = video_plan(100, 25.0, 200, 50.0, None)
    assert len(plan.source) == 100 and plan.fall_frame == -1 and not plan.fell.any()
    assert plan.robot[10] == 20 and plan.robot[-1] == 198
    plan = video_plan(100, 25.0, 200, 50.0, fall_robot_frame=60)
    assert plan.fall_frame == 30 and len(plan.source) == 30 + 25  # up to the fall, then 1 s at 25 fps
    assert (plan.source[30:] == 30).all() and (plan.robot[30:] == 60).all()
    assert not plan.fell[:30].any() and plan.fell[30:].all()
    with pytest.raises(ValueError, match="nothing to film"):
        video_plan(0, 25.0, 10, 50.0, None)


def test_caption_strip_marks_a_fall():
    plain = caption_strip(400, ["t 1.00 s", "second line"])
    alert = caption_strip(400, ["t 1.00 s", "second line"], alert="FELL at 1.00 s")
    assert plain.shape == (44, 400, 3) and plain.dtype == np.uint8
    red = (alert[..., 0] > 200) & (alert[..., 1] < 100)
    assert red[:, 200:].sum() > 500 and not ((plain[..., 0] > 200) & (plain[..., 1] < 100)).any()


def test_caption_text_stops_before_the_fall_alert():
    """Long caption lines are cut with an ellipsis left of the red box, so no text is drawn under it."""
    long = ["t 3.60 s   G1 keypoint error 64.0 cm (mean so far 20.1 cm) and more words than fit " * 2] * 2
    alert = caption_strip(400, long, alert="FELL at 3.60 s (pelvis over 30 cm under the reference's)")
    red = (alert[..., 0] > 200) & (alert[..., 1] < 100)
    box_left = int(np.flatnonzero(red.any(0))[0])
    light = alert.min(-1) > 150  # the caption's light grey text (the alert's text is white on red: inside the box)
    assert light[:, 8:box_left].any() and not (light & ~red)[:, box_left - 8:box_left].any()
    plain = caption_strip(400, long)
    assert (plain.min(-1) > 150)[:, :392].any() and not (plain.min(-1) > 150)[:, 393:].any()


def test_figures_are_posed_where_the_bodies_are(g1_clip, smpl_clip):
    z = np.array([0.0, 0.0, 1.0])
    dirs = np.array([[1.0, 0, 0], [0, 1.0, 0], [0, 0, -1.0], [0.6, 0, 0.8]])
    assert np.allclose(quat_rotate(quat_z_to(dirs), np.broadcast_to(z, dirs.shape)), dirs, atol=1e-9)
    fig = g1_figure(g1_clip.root_pos, g1_clip.root_quat, g1_clip.dof_pos)
    T = g1_clip.num_frames
    assert fig.cylinders.pos.shape[:2] == (T, fig.cylinders.scale.shape[1]) and fig.cylinders.pos.shape[1] > 10
    lowest = (fig.spheres.pos[..., 2] - fig.spheres.scale[..., 0]).min(axis=1)
    assert np.all(np.abs(lowest) < 0.03)  # standing: the feet touch the floor
    human = smpl_figure(smpl_clip.joints)
    assert human.cylinders.pos.shape == (smpl_clip.num_frames, 23, 3)
    ends = human.cylinders.pos + 0.5 * human.cylinders.scale[..., 2:] * quat_rotate(
        human.cylinders.wxyz, np.broadcast_to(z, human.cylinders.pos.shape))
    assert np.allclose(ends[:, 0], smpl_clip.joints[:, 1], atol=1e-6)  # first bone: pelvis -> left hip


def test_g1_renderer_front_camera_sees_the_robot(g1_clip):
    from genmimic.core.g1_render import FRONT, G1Renderer, render_poses_in_background

    with G1Renderer(120, 160, view=FRONT, fast=True) as renderer:
        still = renderer.render(g1_clip.root_pos[0], g1_clip.root_quat[0], g1_clip.dof_pos[0])
        waving = renderer.render(g1_clip.root_pos[50], g1_clip.root_quat[50], g1_clip.dof_pos[50])
    assert still.shape == (160, 120, 3) and still.std() > 10
    assert np.abs(still.astype(int) - waving).sum() > 1000  # the arm moved in the picture
    frames = list(render_poses_in_background(g1_clip.root_pos[[0, 50]], g1_clip.root_quat[[0, 50]],
                                             g1_clip.dof_pos[[0, 50]], 120, 160, FRONT))
    assert len(frames) == 2 and np.array_equal(frames[0], still) and np.array_equal(frames[1], waving)


def test_html_report_has_plots_numbers_and_links(tmp_path, g1_clip):
    from genmimic.core.report_html import Run, write_report_html

    runs = [Run("policy", tracked(g1_clip)), Run("mpc", tracked(g1_clip, fall_at=60))]
    path = write_report_html(tmp_path / "report.html", "demo <test>", runs, g1_clip,
                             {"success": True, "group_errors_m": {"hands": 0.12345}}, ["robot.npz"])
    text = path.read_text()
    assert text.count("data:image/png;base64,") == 4
    assert "demo &lt;test&gt;" in text and "group_errors_m.hands" in text and "0.1235" in text
    assert '<a href="robot.npz">' in text and "FELL at 1.20 s" in text
    # each run's errors named as the demo's text names them, and where it went
    assert re.search(r"no fall; mean keypoint error \d+\.\d cm \(root-relative \d+\.\d cm\); root 0\.00 m from "
                     r"the reference&#x27;s at the end; heading 0 deg off at the end</li>", text)
    assert list(tmp_path.iterdir()) == [path]


@pytest.fixture(scope="module")
def viewer_clips(tmp_path_factory, g1_clip, smpl_clip):
    d = tmp_path_factory.mktemp("view")
    save_clip(tracked(g1_clip, fall_at=80), d / "robot.npz")
    save_clip(smpl_clip, d / "human.npz")
    return d / "robot.npz", d / "human.npz"


def test_viewer_panel_and_error_colours(viewer_clips):
    from genmimic.core.view import error_colours, load_view_clips, panel_text

    clips = load_view_clips([str(p) for p in viewer_clips])
    assert [c.kind for c in clips] == ["trajectory", "smpl"]
    assert np.allclose(clips[1].root[:, 1], testing.random_smpl_clip(30, 30.0).joints[:, 0, 1] - 1.0)
    text = panel_text(clips, 1.9)
    assert "**FALLEN** since 1.60 s" in text and "hands" in text and "feet: left down" in text
    assert "fall: no" in panel_text(clips, 0.5)
    colours = error_colours(np.array([0.0, 1.0]))
    assert colours[0, 1] > 200 and colours[0, 0] == 0 and colours[1, 0] > 200 and colours[1, 1] == 0


def test_view_refuses_a_bad_file(tmp_path):
    from typer.testing import CliRunner

    from genmimic.core.cli import app

    bad = tmp_path / "x.npz"
    bad.write_bytes(b"not an npz")
    result = CliRunner().invoke(app, ["view", str(bad), "--no-browser", "--port", "0"])
    assert result.exit_code == 1 and str(bad) in result.output and len(result.output.strip().splitlines()) == 1


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip("chromium not found: `make test` installs Debian's chromium when run as root "
                    "(or: sudo apt-get install -y chromium)")
    return path


SCENE = np.s_[170:, :540]  # of a 900x600 page: left of the control panel, under software-rendering notices


def _robot_pixels(shot: np.ndarray) -> int:
    return int((shot[SCENE][..., 2] - shot[SCENE][..., 0] > 40).sum())  # the blue-grey robot, its keypoints


def _screenshot(chromium: str, url: str, dest, tries: int = 3) -> np.ndarray:
    """A 900x600 screenshot of ``url``; taken again (up to ``tries`` times) while no robot is on it yet (a
    loaded machine can be slow to connect the page's websocket)."""
    from PIL import Image

    for _ in range(tries):
        subprocess.run([chromium, "--headless", "--no-sandbox", "--enable-unsafe-swiftshader",
                        "--use-angle=swiftshader", "--window-size=900,600", "--virtual-time-budget=8000",
                        f"--screenshot={dest}", url], capture_output=True, timeout=60, check=True)
        shot = np.asarray(Image.open(dest).convert("RGB")).astype(int)
        if _robot_pixels(shot) > 300:
            break
    return shot


def test_viewer_in_headless_chromium_draws_and_scrubs(tmp_path, viewer_clips):
    """Start the command as a user would, open the page in headless Chromium, then scrub the timeline."""
    chromium = _chromium()
    from genmimic.core.view import Viewer, load_view_clips, start_server

    proc = subprocess.Popen([str(Path(sys.executable).parent / "genmimic-core"), "view", str(viewer_clips[0]),
                             "--no-browser", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), proc.stderr.read() if proc.poll() is not None else url
        page = urllib.request.urlopen(url, timeout=10).read()
        assert b"<html" in page.lower()
        shot = _screenshot(chromium, url, tmp_path / "cli.png")
        assert len(np.unique(shot.reshape(-1, 3), axis=0)) > 200  # a drawn scene, not a blank page
        assert _robot_pixels(shot) > 300, "no robot on the page"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()  # never leave a server behind
            proc.wait()
            raise AssertionError("genmimic-core view did not stop within 60 s of Ctrl-C") from None
    assert code == 0, proc.stderr.read()

    server = start_server("127.0.0.1", 0)
    try:
        viewer = Viewer(server, load_view_clips([str(viewer_clips[0])]))
        viewer.playing.value = False
        url = f"http://127.0.0.1:{server.get_port()}"
        viewer.time.value = 0.0  # as the slider does
        standing = _screenshot(chromium, url, tmp_path / "t0.png")
        viewer.time.value = 1.9  # after the fall: lying on its side
        lying = _screenshot(chromium, url, tmp_path / "t1.png")
    finally:
        server.stop()
    changed = np.abs(standing[SCENE] - lying[SCENE]).sum(-1) > 60
    assert changed.sum() > 500, "scrubbing the timeline did not change the pose"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))


def test_viewer_shows_every_kind_of_clip(tmp_path, viewer_clips, g1_clip):
    from genmimic.core.view import Viewer, load_view_clips, start_server

    save_clip(g1_clip, tmp_path / "g1.npz")
    clips = load_view_clips([str(viewer_clips[0]), str(viewer_clips[1]), str(tmp_path / "g1.npz")], spacing=2.0)
    server = start_server("127.0.0.1", 0)
    try:
        viewer = Viewer(server, clips)
        assert viewer.duration == pytest.approx((g1_clip.num_frames - 1) / g1_clip.fps)
        viewer.time.value = 1.0  # as the slider does: every clip drawn at 1 s, the panel follows
        assert "t = 1.00 s" in viewer.panel.content and "g1.npz** (g1, frame 51/100)" in viewer.panel.content
        viewer.follow.value = True
        viewer.time.value = 1.5  # with no browser connected there is no camera to move: nothing fails
        viewer.playing.value, viewer.loop.value = True, False
        viewer.step(5.0)  # past the end without loop: stops at the end
        assert viewer.time.value == pytest.approx(viewer.duration, abs=1e-3) and not viewer.playing.value
    finally:
        server.stop()
