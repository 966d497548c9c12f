"""Clip formats: round trips, validation and every error path, through files and streams."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from genmimic.core import G1Clip, SmplClip, Trajectory, load_clip, save_clip
from genmimic.core.clips import clip_to_arrays, make_meta, next_command
from genmimic.core.errors import ClipError, GenMimicError


@pytest.fixture
def trajectory(g1_clip) -> Trajectory:
    T = g1_clip.num_frames
    base = {f.name: getattr(g1_clip, f.name) for f in G1Clip.array_fields()}
    fallen = np.zeros(T, bool)
    fallen[T - 10 :] = True
    return Trajectory(fps=g1_clip.fps, meta={"tool": "test"}, **base, dof_vel=np.zeros((T, 29)),
                      torque=np.ones((T, 29)), root_lin_vel=np.zeros((T, 3)), root_ang_vel=np.zeros((T, 3)),
                      reference_keypoints=g1_clip.keypoints + 0.01, tracking_error=np.full(T, 0.01),
                      fallen=fallen)


def _assert_same(a, b) -> None:
    assert type(a) is type(b)
    assert a.fps == b.fps and a.meta == b.meta
    for f in a.array_fields():
        np.testing.assert_array_equal(getattr(a, f.name), getattr(b, f.name), err_msg=f.name)


def _write_npz(path, arrays) -> None:
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


@pytest.mark.parametrize("kind", ["smpl_clip", "g1_clip", "trajectory"])
def test_round_trip_through_a_file(kind, request, tmp_path):
    clip = request.getfixturevalue(kind)
    path = tmp_path / "clip.npz"
    save_clip(clip, path)
    again = load_clip(path)
    _assert_same(clip, again)
    assert list(tmp_path.iterdir()) == [path]  # no temporary left behind


def test_saved_files_get_the_usual_mode(g1_clip, tmp_path):
    """Written through a private temporary file, a clip still ends up readable as any new file would be."""
    import os
    import stat

    mask = os.umask(0o022)
    try:
        save_clip(g1_clip, tmp_path / "clip.npz")
    finally:
        os.umask(mask)
    assert stat.S_IMODE((tmp_path / "clip.npz").stat().st_mode) == 0o644


def test_round_trip_through_stdin_and_stdout(g1_clip, tmp_path):
    src = tmp_path / "in.npz"
    save_clip(g1_clip, src)
    code = "from genmimic.core import load_clip, save_clip; save_clip(load_clip('-'), '-')"
    out = subprocess.run([sys.executable, "-c", code], input=src.read_bytes(), capture_output=True, check=True)
    again = load_clip(_bytes_file(tmp_path, out.stdout))
    _assert_same(g1_clip, again)


def _bytes_file(tmp_path, data: bytes):
    p = tmp_path / "from_stream.npz"
    p.write_bytes(data)
    return p


def test_format_fps_meta_are_stored(g1_clip, tmp_path):
    path = tmp_path / "c.npz"
    save_clip(g1_clip.replace(meta=make_meta("genmimic-test", "1.0", source="x.mp4", params={"a": 1})), path)
    with np.load(path) as npz:
        assert str(npz["format"]) == "genmimic.g1/1"
        assert float(npz["fps"]) == 50.0
        assert '"tool": "genmimic-test"' in str(npz["meta"])


def test_meta_history_accumulates():
    first = make_meta("genmimic-lift", "0.1", source="v.mp4")
    second = make_meta("genmimic-retarget", "0.1", source="smpl.npz", parent=first)
    third = make_meta("genmimic-policy", "0.1", parent=second)
    assert [h["tool"] for h in third["history"]] == ["genmimic-lift", "genmimic-retarget"]


def test_trajectory_is_a_g1_clip(trajectory, tmp_path):
    path = tmp_path / "t.npz"
    save_clip(trajectory, path)
    assert isinstance(load_clip(path, G1Clip), Trajectory)
    assert trajectory.fell
    with pytest.raises(ClipError, match="expected a genmimic.smpl/1 clip, got genmimic.trajectory/1; "
                                        "fix: give a clip written by genmimic-lift .*; this one goes to "
                                        "genmimic-core view"):
        load_clip(path, SmplClip)


def test_a_video_given_as_a_clip_is_sent_to_genmimic_lift(tmp_path):
    video = tmp_path / "dance.MP4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(100))
    with pytest.raises(ClipError, match=r"dance.MP4: not a clip but a video or mocap file; fix: run genmimic-lift"):
        load_clip(video)


@pytest.mark.parametrize("head", [b"\x00\x00\x00\x18ftypisom", b"\x1a\x45\xdf\xa3\x9f", b"RIFF\x00\x10\x00\x00AVI LIST",
                                  b"\xef\xbb\xbfHIERARCHY\nROOT Hips\n"])
def test_a_video_or_bvh_under_an_npz_name_is_told_by_its_content(tmp_path, head):
    """A fresh-clone tester renamed an mp4 to .npz and got "not an npz archive"; the content says what it is."""
    renamed = tmp_path / "clip.npz"
    renamed.write_bytes(head + bytes(100))
    with pytest.raises(ClipError, match=r"clip.npz: not a clip but a video or mocap file; fix: run genmimic-lift"):
        load_clip(renamed)


def test_a_g1_motion_file_given_as_a_clip_is_sent_to_import(tmp_path, monkeypatch):
    """A BeyondMimic CSV or GMR pickle where a clip is wanted (by name, or CSV text on stdin)."""
    row = ",".join(["0.1"] * 36) + "\n"
    for name in ("walk.csv", "walk.pkl"):
        (tmp_path / name).write_text(row * 3)
        with pytest.raises(ClipError, match=rf"{name}: not a clip but a G1 motion file .*genmimic-retarget import"):
            load_clip(tmp_path / name)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO((row * 3).encode())))
    with pytest.raises(ClipError, match=r"<stdin>: not a clip but a G1 motion file"):
        load_clip("-")
    (tmp_path / "notes.txt").write_text("hello, world\n")
    with pytest.raises(ClipError, match="not an npz archive"):
        load_clip(tmp_path / "notes.txt")


def test_a_clip_of_the_wrong_kind_names_the_command_that_makes_the_right_one(smpl_clip, g1_clip, tmp_path):
    human, robot = tmp_path / "human.npz", tmp_path / "robot.npz"
    save_clip(smpl_clip, human)
    save_clip(g1_clip, robot)
    with pytest.raises(ClipError, match=r"human.npz: .*got genmimic.smpl/1; .*run genmimic-retarget on it first"):
        load_clip(human, G1Clip)
    with pytest.raises(ClipError, match=r"got genmimic.g1/1; fix: .*run genmimic-policy track on it first"):
        load_clip(robot, Trajectory)


def test_next_command_follows_the_pipeline_and_refuses_what_is_not_a_clip_format():
    assert [next_command(f"genmimic.{k}/1") for k in ("smpl", "g1", "trajectory")] == [
        "genmimic-retarget", "genmimic-policy track", "genmimic-core view"]
    with pytest.raises(ClipError, match="unknown clip format 'genmimic.dance/1'"):
        next_command("genmimic.dance/1")


def test_duration_and_keypoint_lookup(g1_clip):
    assert g1_clip.duration == pytest.approx(99 / 50)
    assert g1_clip.keypoint_names[g1_clip.keypoint_index("left_hand")] == "left_hand"
    with pytest.raises(KeyError, match="no keypoint 'tail'"):
        g1_clip.keypoint_index("tail")


# --- validation of arrays -------------------------------------------------------------------------------

def _corrupt(clip, **changes):
    arrays = clip_to_arrays(clip)
    arrays.update(changes)
    return {k: v for k, v in arrays.items() if v is not None}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: {"dof_pos": None}, "missing key 'dof_pos' for a genmimic.g1/1 clip"),
        (lambda c: {"dof_pos": c.dof_pos[:, :28]}, r"dof_pos: expected shape \(T=100, 29\), got \(100, 28\)"),
        (lambda c: {"keypoints": c.keypoints[:50]}, r"keypoints: expected shape \(T=100, K, 3\), got \(50, 19, 3\)"),
        (lambda c: {"dof_pos": c.dof_pos.astype(str)}, "dof_pos: expected a float array, got dtype <U"),
        (lambda c: {"dof_pos": np.round(c.dof_pos * 3).astype(np.int64)},
         r"dof_pos: stored as integers \(int64\), so its angles \[rad\] or positions \[m\] were rounded"),
        (lambda c: {"root_pos": np.where(np.arange(3) == 2, np.nan, c.root_pos)},
         r"root_pos: contains NaN \(first at index \(0, 2\)\); fix: make the clip again from its source"),
        (lambda c: {"keypoints": c.keypoints + np.inf}, "keypoints: contains Inf"),
        (lambda c: {"fps": np.array(0.0)}, "fps must be a positive number, got 0.0"),
        (lambda c: {"fps": np.array(-30.0)}, "fps must be a positive number"),
        (lambda c: {"fps": np.array(np.nan)}, "fps must be a positive number"),
        (lambda c: {"root_quat": c.root_quat * 2}, "root_quat: not unit quaternions"),
        (lambda c: {"joint_names": np.array(c.joint_names[::-1])}, "joint_names: not the G1 SDK order"),
        (lambda c: {"contacts": np.full((100, 2), 0.5)}, "contacts: expected a boolean array"),
        (lambda c: {"format": np.array("genmimic.g1/2")}, "is newer than this genmimic-core reads"),
        (lambda c: {"format": np.array("gmr.pkl/1")}, "unknown clip format 'gmr.pkl/1'"),
        (lambda c: {"format": None}, "missing key 'format': not a genmimic clip"),
        (lambda c: {"meta": np.array("{not json")}, "meta is not valid JSON"),
    ],
)
def test_load_rejects_bad_g1_clips_with_the_file_name(g1_clip, tmp_path, change, message):
    path = tmp_path / "bad.npz"
    _write_npz(path, _corrupt(g1_clip, **change(g1_clip)))
    with pytest.raises(ClipError, match=message) as err:
        load_clip(path)
    assert str(err.value).startswith(f"{path}: ")
    assert "\n" not in str(err.value)
    assert str(err.value).count("fix:") == 1  # its own fix, or how to write a clip that keeps the format


def test_an_all_zero_integer_array_reads_as_floats(g1_clip, tmp_path):
    """Zeros written as integers (np.zeros(..., int)) lose nothing: read as float zeros."""
    path = tmp_path / "zeros.npz"
    _write_npz(path, _corrupt(g1_clip, root_pos=np.zeros((100, 3), np.int32)))
    clip = load_clip(path)
    assert clip.root_pos.dtype == np.float64 and not clip.root_pos.any()


def test_a_one_frame_clip_is_rejected(g1_clip, tmp_path):
    arrays = {k: (v[:1] if v.ndim and v.shape[0] == 100 else v) for k, v in clip_to_arrays(g1_clip).items()}
    path = tmp_path / "one.npz"
    _write_npz(path, arrays)
    with pytest.raises(ClipError, match="at least 2 frames, got 1"):
        load_clip(path)


def test_smpl_confidence_must_be_in_unit_interval(smpl_clip):
    with pytest.raises(ClipError, match=r"confidence: values must lie in \[0, 1\]"):
        smpl_clip.replace(confidence=smpl_clip.confidence * 2)
    with pytest.raises(ClipError, match=r"betas: expected shape \(10,\)"):
        smpl_clip.replace(betas=np.zeros(16))


# --- files that are not clips --------------------------------------------------------------------------

def test_not_an_npz(tmp_path):
    path = tmp_path / "photo.npz"
    path.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF not a zip")  # a JPEG: nothing a genmimic stage reads
    with pytest.raises(ClipError, match="not an npz archive"):
        load_clip(path)


def test_truncated_npz(g1_clip, tmp_path):
    good = tmp_path / "good.npz"
    save_clip(g1_clip, good)
    data = good.read_bytes()
    for cut in (len(data) // 3, len(data) - 30):
        bad = tmp_path / f"cut{cut}.npz"
        bad.write_bytes(data[:cut])
        with pytest.raises(ClipError, match=f"{bad}: (not an npz archive|damaged npz archive)") as info:
            load_clip(bad)
        # one line: the file, the problem and the fix
        assert "\n" not in str(info.value) and "; fix: " in str(info.value) and "write it again" in str(info.value)


def test_corrupted_member_inside_the_archive(g1_clip, tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("format.npy", b"garbage, not an npy header")
    path = tmp_path / "garbled.npz"
    path.write_bytes(buf.getvalue())
    with pytest.raises(ClipError, match="damaged npz archive"):
        load_clip(path)


def test_missing_empty_and_directory_inputs(tmp_path, monkeypatch):
    with pytest.raises(GenMimicError, match="no_such.npz: no such file; fix: check the path"):
        load_clip(tmp_path / "no_such.npz")
    (tmp_path / "robot_clip.npz").write_bytes(b"")
    with pytest.raises(GenMimicError, match=f"robot_clp.npz: no such file; fix: did you mean {tmp_path}/robot_clip"):
        load_clip(tmp_path / "robot_clp.npz")
    (tmp_path / "text.npz").write_bytes(b"")  # shares only ".npz" and a few letters: not offered
    with pytest.raises(GenMimicError, match=r"nonexist.npz: no such file; fix: check the path \("):
        load_clip(tmp_path / "nonexist.npz")
    with pytest.raises(GenMimicError, match=f"fix: check the path: {tmp_path} has no no_dir$"):
        load_clip(tmp_path / "no_dir" / "x" / "a.npz")
    (tmp_path / "empty.npz").write_bytes(b"")
    with pytest.raises(ClipError, match="empty input"):
        load_clip(tmp_path / "empty.npz")
    # empty standard input: in a pipe, the command before failed
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))
    with pytest.raises(ClipError, match=r"<stdin>: standard input is empty: .* the error of the command before"):
        load_clip("-")
    with pytest.raises(GenMimicError, match="is a directory"):
        load_clip(tmp_path)


def test_pickled_object_arrays_are_refused(g1_clip, tmp_path):
    arrays = clip_to_arrays(g1_clip)
    arrays["meta"] = np.array([{"x": 1}], dtype=object)
    path = tmp_path / "pickle.npz"
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)
    with pytest.raises(ClipError, match="damaged npz archive: .*pickle"):
        load_clip(path)


# --- saving ----------------------------------------------------------------------------------------------

def test_saving_an_invalid_clip_leaves_the_old_file_untouched(g1_clip, tmp_path):
    path = tmp_path / "out.npz"
    save_clip(g1_clip, path)
    before = path.read_bytes()
    g1_clip_copy = g1_clip.replace(dof_pos=g1_clip.dof_pos.copy())
    g1_clip_copy.dof_pos[3, 4] = np.nan  # mutated in place after construction
    with pytest.raises(ClipError, match=f"{path}: dof_pos: contains NaN"):
        save_clip(g1_clip_copy, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.npz"]


def test_saving_into_a_missing_folder_fails_cleanly(g1_clip, tmp_path):
    with pytest.raises(GenMimicError, match="does not exist"):
        save_clip(g1_clip, tmp_path / "nope" / "out.npz")


def test_construction_validates(g1_clip):
    with pytest.raises(ClipError, match="a clip needs at least 2 frames"):
        G1Clip(fps=50, root_pos=np.zeros((1, 3)), root_quat=[[1.0, 0, 0, 0]], dof_pos=np.zeros((1, 29)),
               keypoints=np.zeros((1, 19, 3)), contacts=np.ones((1, 2), bool))
    with pytest.raises(ClipError, match="meta is not JSON-serialisable"):
        g1_clip.replace(meta={"bad": object()})


@pytest.mark.parametrize(("dest", "message"), [
    ("afile/robot.npz", "afile is a file, not a folder; fix: write elsewhere or move it"),
    ("afile/sub/robot.npz", "afile is a file, not a folder"),
    ("nodir/robot.npz", "folder nodir does not exist; fix: create it (mkdir -p nodir)"),
    ("adir", "is a directory, expected a file name; fix: name a file in it"),
])
def test_an_output_path_that_cannot_be_written_is_refused_with_its_fix(tmp_path, monkeypatch, dest, message):
    from genmimic.core.files import check_output_path

    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("x")
    (tmp_path / "adir").mkdir()
    with pytest.raises(GenMimicError, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_output_path(dest)
    assert check_output_path("adir/new.npz") == tmp_path.joinpath("adir/new.npz").relative_to(tmp_path)
