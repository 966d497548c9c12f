"""Videos as users have them: frame times from timestamps (29.97 fps, variable frame rate), display rotation,
streams cut short, standard input, and the field cases in ../shared/data when present. Test videos are the
project's own renders of a known motion, re-timed and re-wrapped with PyAV."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from typer.testing import CliRunner

from genmimic.core import SmplClip, load_clip
from genmimic.lift import frame_times
from genmimic.lift.cli import lift_app
from genmimic.lift.errors import LiftError
from genmimic.lift.evaluate import accuracy
from genmimic.lift.lift_video import lift_video, stature
from genmimic.lift.pose2d import Keypoints, resample
from genmimic.lift.video import VideoBytes, is_video_input, isobmff_cut_short, looks_like_video, probe


@pytest.fixture(scope="module")
def wave():
    """The truth (a 1.2 s wave at 30 fps), its render (360x480) and the render camera's focal [px]."""
    from genmimic.lift.figure import RenderSetup, camera_of, render_frames
    from genmimic.lift.synth import synthesize

    truth = synthesize("wave", seed=0, duration=1.2, fps=30.0)
    setup = RenderSetup()
    return truth, list(render_frames(truth, setup)), camera_of(setup).focal


def write_timed(path, frames, pts, time_base: Fraction, rotation: int = 0):
    """Write RGB ``frames`` with presentation timestamps ``pts`` (ticks of ``time_base``) as an MP4 with
    its index at the front (faststart), and ``rotation`` [deg, counter-clockwise] as display metadata."""
    import av

    with av.open(str(path), "w", options={"movflags": "faststart"}) as out:
        stream = out.add_stream("libx264", rate=round(1 / time_base) if time_base.numerator == 1 else 30)
        stream.width, stream.height, stream.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        stream.codec_context.time_base = time_base
        stream.options = {"threads": "1"}
        if rotation:
            stream.set_display_rotation(rotation)
        for image, tick in zip(frames, pts, strict=True):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
            frame.pts, frame.time_base = int(tick), time_base
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


# --- frame times: known answers -------------------------------------------------------------------------

def test_even_timestamps_keep_their_rate():
    ntsc = np.arange(60) * 1001 / 30000
    timing = frame_times.uniform_rate(ntsc)
    assert timing.fps == 30000 / 1001 and not timing.variable and not timing.resampled
    ticks = np.round(np.arange(50) / 30 * 12800) / 12800  # 30 fps in a 1/12800 s time base: 426/427 ticks
    assert frame_times.uniform_rate(ticks).fps == 30.0 and not frame_times.is_variable(ticks)
    assert frame_times.uniform_rate(np.arange(10) / 25.0).fps == 25.0
    assert frame_times.snap_rate(30.0) == 30.0 and frame_times.snap_rate(29.97) == 30000 / 1001
    assert frame_times.snap_rate(27.3) == 27.3


def test_variable_timestamps_are_resampled():
    t = np.array([0, 1, 2, 4, 5, 6, 9, 10, 11, 12]) / 30.0
    timing = frame_times.uniform_rate(t)
    assert timing.variable and timing.resampled and timing.fps == 30.0
    at = frame_times.resample_times(t, timing.fps)
    np.testing.assert_allclose(at, np.arange(13) / 30.0)
    asked = frame_times.uniform_rate(np.arange(31) / 30.0, fps=50.0)
    assert asked.resampled and asked.fps == 50.0 and len(frame_times.resample_times(np.arange(31) / 30, 50)) == 51
    for bad in ([0.0], [0.0, 0.1, 0.1], [0.0, np.nan]):
        with pytest.raises(ValueError):
            frame_times.uniform_rate(bad)
    with pytest.raises(ValueError):
        frame_times.uniform_rate([0.0, 0.1], fps=0.0)


def test_keypoints_resampled_at_clip_times():
    t = np.array([0.0, 0.1, 0.3, 0.4])
    uv = np.zeros((4, 24, 2)) + (100 + 50 * t)[:, None, None]  # moving at 50 px/s
    found = np.array([True, True, False, True])
    kp = Keypoints(uv, np.zeros((4, 24, 3)), np.ones((4, 24)), found)
    at = np.array([0.0, 0.05, 0.19, 0.29, 0.4])
    out = resample(kp, t, at)
    np.testing.assert_allclose(out.uv[:, 0, 0], 100 + 50 * at)
    assert out.found.tolist() == [True, True, True, False, True]  # the nearer source frame decides
    assert np.all(out.visibility[3] == 0)


def test_video_container_signatures():
    assert looks_like_video(b"\x00\x00\x00\x20ftypisom" + bytes(20))
    assert looks_like_video(b"\x1a\x45\xdf\xa3" + bytes(20))
    assert not looks_like_video(b"HIERARCHY\nROOT Hips") and not looks_like_video(b"PK\x03\x04" + bytes(20))


# --- videos ---------------------------------------------------------------------------------------------

def test_ntsc_video_from_stdin_keeps_29_97(wave, tmp_path):
    truth, frames, focal = wave
    n = len(frames)
    path = write_timed(tmp_path / "ntsc.mp4", frames, np.arange(n), Fraction(1001, 30000))
    out = tmp_path / "ntsc.npz"
    result = CliRunner().invoke(lift_app, ["-", "-o", str(out), "--focal", str(focal)], input=path.read_bytes())
    assert result.exit_code == 0, result.output
    clip = load_clip(out, SmplClip)
    assert clip.fps == pytest.approx(30000 / 1001, rel=1e-9) and clip.num_frames == n
    assert clip.meta["source"] == "<stdin>"
    assert clip.meta["video_timing"]["resampled"] is False and clip.meta["video_timing"]["partial"] is None
    assert accuracy(clip.joints, truth.joints).pa_mpjpe < 0.06


def test_variable_frame_rate_is_placed_by_timestamps(wave, tmp_path):
    truth, frames, focal = wave
    n = len(frames)
    keep = [k for k in range(n) if k % 4 != 3 and not 20 <= k < 26]  # gaps of 1 and 2 frames, one of 7
    path = write_timed(tmp_path / "vfr.mp4", [frames[k] for k in keep], keep, Fraction(1, 30))
    lift = lift_video(path, focal=focal)
    clip, timing = lift.clip, lift.clip.meta["video_timing"]
    assert timing["variable"] and timing["resampled"] and timing["source_frames"] == len(keep)
    assert clip.fps == 30.0 and clip.num_frames == keep[-1] + 1, "one clip frame per 1/30 s, first to last"
    placed = accuracy(clip.joints, truth.joints[: clip.num_frames])
    # the poses of the decoded frames placed one per 1/30 s, as if the frames were evenly spaced
    naive = accuracy(clip.joints[keep], truth.joints[: len(keep)])
    assert placed.pa_mpjpe < 0.06 and naive.pa_mpjpe > placed.pa_mpjpe + 0.01, (placed, naive)
    # and the command's line says so (a fresh user saw 75 frames become 110 without a word)
    from genmimic.lift.importers import import_summary

    assert import_summary("vfr.mp4", clip) == (f"vfr.mp4: video, {len(keep)} frames over {timing['duration']:.2f} s "
                                               "at uneven times (a variable frame rate): resampled to 30 fps, "
                                               f"{clip.num_frames} frames")


def test_rotated_video_is_lifted_upright(wave, tmp_path):
    truth, frames, focal = wave
    stored = [np.rot90(f, k=-1) for f in frames]  # stored on its side, as a phone does; shown turned back
    path = write_timed(tmp_path / "rotated.mp4", stored, np.arange(len(stored)), Fraction(1, 30), rotation=90)
    info = probe(path)
    assert (info.width, info.height, info.rotation) == (360, 480, 90)
    clip = lift_video(path, focal=focal).clip
    assert clip.meta["video_timing"]["rotation_deg"] == 90 and clip.meta["image_size"] == [360, 480]
    from genmimic.lift.importers import import_summary

    assert import_summary("r.mp4", clip).endswith("at 30 fps; turned upright by its display rotation (90 deg)")
    assert accuracy(clip.joints, truth.joints).pa_mpjpe < 0.06
    assert 1.4 < stature(clip) < 2.0


@pytest.fixture(scope="module")
def cut_short(wave, tmp_path_factory):
    """The render as an MP4 with its index at the front, cut to 80 % of its bytes, and its frame count."""
    _, frames, _ = wave
    folder = tmp_path_factory.mktemp("cut")
    whole = write_timed(folder / "whole.mp4", frames, np.arange(len(frames)), Fraction(1, 30))
    data = whole.read_bytes()
    path = folder / "cut.mp4"
    path.write_bytes(data[: int(0.8 * len(data))])
    return path, len(frames)


def test_stream_cut_short_is_refused_naming_frames(cut_short, tmp_path):
    cut_short, n = cut_short
    out = tmp_path / "out.npz"
    out.write_bytes(b"keep me")
    result = CliRunner().invoke(lift_app, [str(cut_short), "-o", str(out)])
    assert result.exit_code == 1
    line = result.output.strip()
    assert line.startswith(f"error: {cut_short}: ") and "\n" not in line
    import re

    read = re.search(rf"read (\d+) of {n} declared frames", line)
    assert read and 2 <= int(read.group(1)) < n and "--allow-partial" in line, line
    assert out.read_bytes() == b"keep me", "a refused input leaves the output as it was"
    with pytest.raises(LiftError, match="declared"):
        lift_video(VideoBytes(cut_short.read_bytes()))


def _box(kind: bytes, payload_size: int, declared: int | None = None) -> bytes:
    return (declared or 8 + payload_size).to_bytes(4, "big") + kind + bytes(payload_size)


def test_isobmff_cut_short_known_answers():
    ftyp, moov, mdat = _box(b"ftyp", 16), _box(b"moov", 40), _box(b"mdat", 100)
    whole = ftyp + mdat + moov  # index at the end, complete
    assert isobmff_cut_short(whole, len(whole)) is None
    cut = whole[:60]
    assert "'mdat' box needs 132 bytes, the file has 60; the index (moov) is missing" in isobmff_cut_short(cut, 60)
    no_index = ftyp + mdat
    assert isobmff_cut_short(no_index, len(no_index)) == "it ends without the index (moov)"
    faststart_cut = (ftyp + moov + mdat)[:100]  # index first: FFmpeg opens it, the stream check names it
    assert "a box runs past the end" in isobmff_cut_short(faststart_cut, 100)
    assert isobmff_cut_short(b"\x1aE\xdf\xa3" + bytes(60), 64) is None  # Matroska: not ours to judge


def test_an_mp4_cut_before_its_index_is_named_cut_short(wave, tmp_path):
    """A download or copy cut short of an MP4 whose index (moov) sits at its end: FFmpeg cannot open it at
    all, and the error says so instead of sending the user to another format."""
    _, frames, _ = wave
    import av

    whole = tmp_path / "whole.mp4"
    with av.open(str(whole), "w") as out:  # no faststart: the index is written last
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        for image in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: len(whole.read_bytes()) // 2])
    out = tmp_path / "out.npz"
    result = CliRunner().invoke(lift_app, [str(cut), "-o", str(out)])
    assert result.exit_code == 1 and not out.exists()
    assert f"{cut}: an MP4/MOV file cut short" in result.output and "copy or download it again" in result.output
    assert "pass a video file FFmpeg reads" not in result.output
    with pytest.raises(LiftError, match="<stdin>: an MP4/MOV file cut short"):
        lift_video(VideoBytes(cut.read_bytes()))


def test_allow_partial_lifts_the_frames_read_with_a_warning(cut_short, tmp_path):
    cut_short, n = cut_short
    out = tmp_path / "out.npz"
    result = CliRunner().invoke(lift_app, [str(cut_short), "-o", str(out), "--allow-partial"])
    assert result.exit_code == 0, result.output
    clip = load_clip(out, SmplClip)
    partial = clip.meta["video_timing"]["partial"]
    assert f"read {clip.num_frames} of {n} declared frames" in partial
    assert "(--allow-partial)" in result.output and f"of {n} declared" in result.output, result.output


def test_matroska_without_a_frame_count_cut_short_by_duration(tmp_path):
    """Matroska/WebM declare a duration, not a frame count: a stream well short of it is cut short."""
    from genmimic.lift.render import write_video
    from genmimic.lift.video import DecodeStats, read_timed_frames

    frames = np.random.default_rng(0).integers(0, 255, (60, 48, 64, 3), dtype=np.uint8)
    whole = tmp_path / "whole.mkv"
    write_video(whole, frames, 30.0)
    times = [f.time for f in read_timed_frames(whole)]
    np.testing.assert_allclose(times, np.arange(60) / 30.0, atol=1e-3)
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(whole.read_bytes()[: int(0.6 * whole.stat().st_size)])
    with pytest.raises(LiftError,
                       match=r"ends early, at [\d.]+ s of 2.00 s .*: read \d+ frames; fix: pass --allow-partial"):
        list(read_timed_frames(cut))
    stats = DecodeStats()
    assert 2 <= len(list(read_timed_frames(cut, allow_partial=True, stats=stats))) == stats.frames < 60
    assert "ends early" in stats.problem


def test_fps_is_refused_for_mocap(tmp_path):
    out = tmp_path / "o.npz"
    result = CliRunner().invoke(lift_app, [str(tmp_path / "m.bvh"), "-o", str(out), "--allow-partial"])
    assert result.exit_code == 1 and "for videos" in result.output and not out.exists()


@pytest.mark.parametrize(("options", "says"), [
    (["--up", "y"], "--up is for mocap files (BVH, AMASS, GVHMR); this input is a video: drop it (a video's world "
                    "is z up from the person's vertical)"),
    (["--scale", "0.01", "--no-checks"], "--scale, --no-checks are for mocap files (BVH, AMASS, GVHMR); this input "
                                         "is a video: drop them"),
    (["--refine"], "--refine is for BVH files; this input is a video: drop it"),
])
def test_mocap_options_are_refused_for_a_video(cut_short, tmp_path, options, says):
    out = tmp_path / "o.npz"
    result = CliRunner().invoke(lift_app, [str(cut_short[0]), "-o", str(out), *options])
    assert result.exit_code == 1 and not out.exists()
    assert result.output.strip().splitlines()[-1] == f"error: {cut_short[0]}: {says}", result.output


def test_empty_or_terminal_stdin_is_an_error(monkeypatch):
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))
    with pytest.raises(LiftError, match="<stdin>: standard input is empty"):
        lift_video("-")

    class Terminal(io.TextIOWrapper):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Terminal(io.BytesIO(b"")))
    assert not is_video_input("-"), "a terminal is not read, nothing waits for typing"
    with pytest.raises(LiftError, match="<stdin>: standard input is a terminal"):
        lift_video("-")


# --- field cases ----------------------------------------------------------------------------------------

def test_field_case_truncated_faststart(shared_data, tmp_path):
    path = shared_data / "field_cases" / "truncated_faststart.mp4"
    out = tmp_path / "t.npz"
    result = CliRunner().invoke(lift_app, [str(path), "-o", str(out)])
    assert result.exit_code == 1 and "read 12 of 50 declared frames" in result.output, result.output
    assert "--allow-partial" in result.output and not out.exists()
    result = CliRunner().invoke(lift_app, [str(path), "-o", str(out), "--allow-partial"])
    assert result.exit_code == 0, result.output
    assert load_clip(out, SmplClip).num_frames == 12


def test_mediapipe_chatter_is_hidden_unless_verbose(tmp_path):
    """The command run as a user runs it, on a short video with nobody in it: stderr holds the one-line
    error only; MediaPipe's start-up messages appear with --verbose."""
    import os
    import subprocess
    import sys

    from genmimic.lift.render import write_video

    path = tmp_path / "nobody.mp4"
    write_video(path, [np.full((96, 128, 3), 90 + 20 * t, np.uint8) for t in range(4)], 30.0)
    script = "from genmimic.lift.cli import lift_app; lift_app()"
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}

    def run(*extra: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", script, str(path), "-o", str(tmp_path / "o.npz"), *extra],
                              capture_output=True, text=True, env=env, timeout=300)

    quiet = run()
    assert quiet.returncode == 1 and quiet.stderr.count("\n") == 1, quiet.stderr  # one line, no chatter
    assert quiet.stderr.startswith(f"error: {path}: no person found in any of its 4 frames; fix: use a video where "
                                   "one person's whole body is in view"), quiet.stderr
    loud = run("-v")
    assert loud.returncode == 1 and "TensorFlow Lite" in loud.stderr, loud.stderr
    assert not (tmp_path / "o.npz").exists()


# --- several people -------------------------------------------------------------------------------------

def test_people_helpers_known_answers():
    from genmimic.lift.people import Person, choose, frame_ranges, jumps, overlap

    a, b = np.array([0.0, 0.0, 0.2, 0.4]), np.array([0.1, 0.0, 0.3, 0.4])
    assert overlap(a, b) == pytest.approx(0.5) and overlap(a, a + 0.5) == 0.0
    side, centre, big = (Person(np.array(x, float), 0.9) for x in
                         ([0.05, 0.3, 0.2, 0.7], [0.45, 0.3, 0.55, 0.7], [0.0, 0.05, 0.2, 0.95]))
    assert choose([side, centre]) == 1, "same size: the central one"
    assert choose([centre, big]) == 1, "much larger, off centre: the larger one"
    assert frame_ranges([3, 4, 5, 9, 11, 12]) == "3-5, 9, 11-12" and frame_ranges([]) == ""
    T = 20
    uv = np.zeros((T, 24, 2)) + 100.0
    uv[:, 16, 1] = 50.0  # left shoulder 50 px above the hips: torso 50 px
    uv[:, :, 0] += np.arange(T)[:, None] * 2.0  # walking 2 px per frame
    uv[12:, :, 0] += 300.0  # someone else from frame 12 on
    kp = Keypoints(uv, np.zeros((T, 24, 3)), np.ones((T, 24)), np.ones(T, bool))
    assert jumps(kp) == [12]


@pytest.fixture(scope="module")
def two_figures(wave, tmp_path_factory):
    """The wave render (the truth) beside a narrower copy playing backwards, off centre: 600x480."""
    truth, frames, focal = wave
    other = frames[::-1]
    canvas = [np.concatenate([a, b[:, 60:300]], axis=1) for a, b in zip(frames, other, strict=True)]
    path = write_timed(tmp_path_factory.mktemp("two") / "two.mp4", canvas, np.arange(len(canvas)),
                       Fraction(1, 30))
    return truth, path, focal


def test_one_of_two_people_is_followed(two_figures, tmp_path):
    truth, path, focal = two_figures
    out = tmp_path / "two.npz"
    result = CliRunner().invoke(lift_app, [str(path), "-o", str(out), "--focal", str(focal)])
    assert result.exit_code == 0, result.output
    assert "2 people in view; following the largest, most central one (x " in result.output
    clip = load_clip(out, SmplClip)
    people = clip.meta["people"]
    assert people["in_view"] == 2 and people["chosen_box_px"][2] <= 380, people
    step = np.linalg.norm(np.diff(clip.joints[:, 0], axis=0), axis=-1)
    assert step.max() < 0.1, "the lifted person never jumps to the other one"
    assert accuracy(clip.joints, truth.joints).pa_mpjpe < 0.07


def test_people_crossing_are_named_unsure(wave):
    """A second person (a 120 px strip of the render playing backwards) slides from the right across the
    chosen one: the frames where their boxes overlap are unsure, the frames before are not."""
    from genmimic.lift.people import choose, find_people, follow

    _, frames, _ = wave
    n, other = len(frames), frames[::-1]
    left = [int(460 - 360 * t / (n - 1)) for t in range(n)]  # the strip's left edge [px]
    canvas = []
    for t in range(n):
        image = np.concatenate([frames[t], np.tile(frames[t][:, 300:360], (1, 4, 1))], axis=1)
        image[:, left[t]: left[t] + 120] = other[t][:, 120:240]
        canvas.append(image)
    people = find_people(canvas[0])
    assert len(people) == 2
    chosen = choose(people, 600 / 480)
    assert people[chosen].box[2] < 0.5, "the wide, central figure, not the strip at the edge"
    result = follow(iter(canvas), 600, 480, people, chosen)
    box = people[chosen].box * 600
    crossing = [t for t in range(n) if left[t] + 90 > box[0] and left[t] + 30 < box[2]]  # figure over box
    assert result.keypoints.found.all() and crossing
    assert set(result.unsure) >= set(crossing[:3]) and min(result.unsure) >= crossing[0] - 3, \
        (result.unsure, crossing)


def test_field_case_two_people(shared_data, tmp_path):
    path = shared_data / "field_cases" / "two_people.mp4"
    out = tmp_path / "t.npz"
    result = CliRunner().invoke(lift_app, [str(path), "-o", str(out)])
    assert result.exit_code == 0 and "2 people in view" in result.output, result.output
    clip = load_clip(out, SmplClip)
    assert clip.meta["people"]["in_view"] == 2
    assert np.linalg.norm(np.diff(clip.joints[:, 0], axis=0), axis=-1).max() < 0.1  # was a 2.8 m jump
