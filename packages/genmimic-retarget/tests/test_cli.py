"""genmimic-retarget as a user runs it: files, pipes, batches, reports, CSV/GMR, one-line errors."""

from __future__ import annotations

import json
import pickle
import shutil
import subprocess

import numpy as np
import pytest
from typer.testing import CliRunner

from genmimic.core import G1Clip, load_clip, save_clip
from genmimic.core.testing import standing_wave_smpl_clip
from genmimic.retarget.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def human_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("clips") / "wave.npz"
    save_clip(standing_wave_smpl_clip(45, 30.0), path)
    return path


@pytest.fixture(scope="module")
def robot_file(human_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("robot") / "g1.npz"
    result = runner.invoke(app, [str(human_file), "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    return out


def test_default_command_writes_a_g1_clip_and_a_report(human_file, tmp_path):
    out, report = tmp_path / "g1.npz", tmp_path / "report.json"
    result = runner.invoke(app, [str(human_file), "-o", str(out), "--report", str(report), "--fps", "30"])
    assert result.exit_code == 0, result.output
    clip = load_clip(out, G1Clip)
    assert clip.fps == 30.0 and clip.num_frames == 45
    data = json.loads(report.read_text())
    assert data["joint_limit_violations"] == 0 and data["frames_out"] == 45
    assert "keypoint error mean" in result.output  # the report on stderr


def test_shell_pipeline_through_stdin_and_stdout(human_file, tmp_path):
    exe = shutil.which("genmimic-retarget")
    if exe is None:
        pytest.skip("genmimic-retarget is not installed as a command")
    out = tmp_path / "out.npz"
    proc = subprocess.run(f"cat {human_file} | {exe} - -o - -q | {exe} run - -o {out} -q",
                          shell=True, capture_output=True, text=True)
    # the second stage gets a G1 clip, not an SMPL clip: refused with a one-line error
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("genmimic-retarget: error: <stdin>: expected a genmimic.smpl/1 clip, got genmimic.g1/1")
    assert not out.exists()
    proc = subprocess.run(f"cat {human_file} | {exe} - -o - > {out}", shell=True, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    # its report names the tool and stdin as lift does, not "-" (lines of a pipeline's stages interleave)
    assert proc.stderr.startswith("genmimic-retarget: <stdin>: "), proc.stderr
    assert load_clip(out, G1Clip).num_frames == 74


def test_csv_round_trip(robot_file, tmp_path):
    csv = tmp_path / "motion.csv"
    assert runner.invoke(app, ["export", str(robot_file), "--format", "csv", "-o", str(csv)]).exit_code == 0
    rows = np.loadtxt(csv, delimiter=",")
    assert rows.shape[1] == 36
    back = tmp_path / "back.npz"
    result = runner.invoke(app, ["import", str(csv), "-o", str(back)])
    assert result.exit_code == 0
    original, again = load_clip(robot_file), load_clip(back)
    assert again.fps == 30.0
    # one line says what was read, and that the rate was assumed (a 120 fps file would silently be slowed)
    assert result.stderr.strip() == (f"genmimic-retarget: {csv}: CSV, {again.num_frames} frames at 30 fps (assumed: "
                                     f"CSV files do not say; --fps sets it), {again.duration:.2f} s; root quaternion "
                                     "read as xyzw")
    result = runner.invoke(app, ["import", str(csv), "-o", str(back), "--fps", "120"])
    assert " frames at 120 fps, " in result.stderr and "assumed" not in result.stderr
    assert runner.invoke(app, ["import", str(csv), "-o", str(back), "-q"]).stderr == ""
    np.testing.assert_allclose(again.dof_pos[0], original.dof_pos[0], atol=1e-5)
    np.testing.assert_allclose(again.root_quat[0], original.root_quat[0], atol=1e-5)


def test_gmr_round_trip(robot_file, tmp_path):
    pkl = tmp_path / "motion.pkl"
    assert runner.invoke(app, ["export", str(robot_file), "--format", "gmr", "-o", str(pkl)]).exit_code == 0
    data = pickle.loads(pkl.read_bytes())
    original = load_clip(robot_file)
    np.testing.assert_allclose(data["root_rot"][:, [3, 0, 1, 2]], original.root_quat)  # xyzw on disk
    assert data["local_body_pos"].shape == (original.num_frames, len(data["link_body_list"]), 3)
    back = tmp_path / "back.npz"
    assert runner.invoke(app, ["import", str(pkl), "-o", str(back)]).exit_code == 0
    np.testing.assert_allclose(load_clip(back).keypoints, original.keypoints, atol=1e-9)


def test_batch_uses_workers_and_skips_a_bad_clip(human_file, tmp_path):
    src, dst = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    for name in ("a.npz", "b.npz"):
        shutil.copy(human_file, src / name)
    (src / "broken.npz").write_bytes(b"not a clip")
    result = runner.invoke(app, ["batch", str(src), "-o", str(dst), "--workers", "2",
                                 "--report", str(tmp_path / "r.json")])
    assert result.exit_code == 1
    assert "2 of 3 clips retargeted" in result.output
    assert f"error: {src / 'broken.npz'}: not an npz archive" in result.output
    assert sorted(p.name for p in dst.iterdir()) == ["a.npz", "b.npz"]
    assert len(json.loads((tmp_path / "r.json").read_text())) == 3


@pytest.mark.parametrize(("args", "message"), [
    (["missing.npz", "-o", "x.npz"], "missing.npz: no such file"),
    (["{human}", "-o", "x.npz", "--fps", "0"], "--fps must be positive"),
    (["{human}", "-o", "x.npz", "--smooth", "40"], "--smooth 40.0 Hz must be 0 (none) or below half"),
    (["export", "{human}", "-o", "x.csv"], "expected a genmimic.g1/1 clip, got genmimic.smpl/1"),
    (["export", "{robot}", "-o", "x.bvh", "--format", "bvh"], "unknown export format 'bvh'"),
    (["import", "{human}", "-o", "x.npz"], "unknown motion file type '.npz'"),
    (["batch", "{empty}", "-o", "out"], "no *.npz files to retarget"),
])
def test_errors_are_one_line_and_leave_no_output(args, message, human_file, robot_file, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    args = [a.format(human=human_file, robot=robot_file, empty=tmp_path / "empty") for a in args]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and message in lines[0], result.output
    assert not (tmp_path / "x.npz").exists() and not (tmp_path / "x.csv").exists()


@pytest.mark.parametrize(("content", "message"), [
    ("1,2,3\n4,5,6\n", "expected 36 columns"),
    ("1,2,a\n4,5,6\n", "not a number at motion row 1, column 3 ('a')"),
    ("a,b,c\n", "a header row and no motion rows"),
    (",".join(["0"] * 36) + "\n", "zero root quaternion"),
])
def test_bad_csv_files(content, message, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(content if content.count("\n") > 1 or "a" in content else content * 3)
    result = runner.invoke(app, ["import", str(bad), "-o", str(tmp_path / "o.npz")])
    assert result.exit_code == 1 and message in result.output


def test_bad_gmr_pickle(tmp_path):
    bad = tmp_path / "bad.pkl"
    bad.write_bytes(pickle.dumps({"fps": 30, "root_pos": np.zeros((5, 3)), "root_rot": np.zeros((5, 4))}))
    result = runner.invoke(app, ["import", str(bad), "-o", str(tmp_path / "o.npz")])
    assert result.exit_code == 1 and "missing key 'dof_pos'" in result.output
