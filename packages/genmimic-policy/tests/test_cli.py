"""``genmimic-policy`` as a user runs it: track (files and pipes), export, train, corpus, one-line errors."""

import json
import os
import shutil
import subprocess

import numpy as np
import pytest
from typer.testing import CliRunner

from genmimic.core import load_clip, save_clip
from genmimic.core.clips import Trajectory
from genmimic.core.runtime import save_npz_policy
from genmimic.policy.cli import app

runner = CliRunner()


@pytest.fixture()
def policy_file(policy, tmp_path):
    net, spec, _, _ = policy
    path = tmp_path / "p.npz"
    save_npz_policy(net, spec, path)
    return path


def test_track_and_export_from_files(g1_clip, policy_file, tmp_path):
    save_clip(g1_clip, tmp_path / "wave.npz")
    r = runner.invoke(app, ["track", str(tmp_path / "wave.npz"), "-o", str(tmp_path / "t.npz"),
                            "--policy", str(policy_file)])
    assert r.exit_code == 0, r.output
    traj = load_clip(tmp_path / "t.npz", Trajectory)
    assert traj.num_frames == g1_clip.num_frames
    r = runner.invoke(app, ["export", str(policy_file), "-o", str(tmp_path / "policy.onnx")])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "policy.onnx").stat().st_size > 1000
    assert json.loads((tmp_path / "policy.json").read_text())["onnx"] == "policy.onnx"


def test_bad_inputs_fail_on_one_line_without_output(policy_file, g1_clip, tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"junk")
    save_clip(g1_clip, tmp_path / "wave.npz")
    out = tmp_path / "t.npz"
    for args, message in (
        (["track", str(tmp_path / "wave.npz"), "-o", str(out), "--policy", str(policy_file), "--lead-in", "inf"],
         "wave.npz: lead-in must be 0 or more seconds, got inf; fix: pass --lead-in 0 or more seconds"),
        (["track", str(tmp_path / "junk.npz"), "-o", str(out), "--policy", str(policy_file)], "junk.npz: not an npz"),
        (["track", str(tmp_path / "none.npz"), "-o", str(out)], "none.npz: no such file"),
        # the output folder is checked before any work (the MPC can take minutes)
        (["track", str(tmp_path / "junk.npz"), "-o", str(tmp_path / "nodir" / "t.npz")],
         "folder " + str(tmp_path / "nodir") + " does not exist; fix: create it"),
        (["export", str(tmp_path), "-o", str(tmp_path / "x.onnx")], "not a training run"),
        (["train", "--clips", str(tmp_path / "none"), "--out", str(tmp_path / "run")], "no such file or directory"),
    ):
        r = runner.invoke(app, args)
        assert r.exit_code == 1, r.output
        assert message in r.output and r.output.count("\n") == 1, r.output
    assert not out.exists() and not (tmp_path / "x.onnx").exists()
    assert not (tmp_path / "run").exists(), "a failed train left a run behind that a rerun would resume"


def test_train_out_at_or_under_a_file_fails_on_one_line(g1_clip, tmp_path):
    """--out naming a file, or a folder under one: one line naming the file and the fix, not a traceback."""
    (tmp_path / "clips").mkdir()
    save_clip(g1_clip, tmp_path / "clips" / "wave.npz")
    (tmp_path / "afile").write_text("x")
    for out in (tmp_path / "afile", tmp_path / "afile" / "run"):
        r = runner.invoke(app, ["train", "--clips", str(tmp_path / "clips"), "--out", str(out)])
        assert r.exit_code == 1, r.output
        assert f"{tmp_path / 'afile'} is a file; fix: pass --out a folder" in r.output, r.output
        assert r.output.count("\n") == 1, r.output
    assert (tmp_path / "afile").read_text() == "x"


def test_track_in_a_shell_pipeline(g1_clip, policy_file, tmp_path):
    exe = shutil.which("genmimic-policy")
    if exe is None:
        pytest.skip("genmimic-policy is not installed as a command")
    save_clip(g1_clip, tmp_path / "wave.npz")
    with open(tmp_path / "wave.npz", "rb") as f:
        proc = subprocess.run([exe, "track", "-", "-o", "-", "--policy", str(policy_file)], stdin=f,
                              capture_output=True, timeout=120, env={**os.environ, "JAX_PLATFORMS": "cpu"})
    assert proc.returncode == 0, proc.stderr.decode()
    (tmp_path / "out.npz").write_bytes(proc.stdout)
    assert load_clip(tmp_path / "out.npz", Trajectory).num_frames == g1_clip.num_frames
    assert b"mean keypoint error" in proc.stderr


def test_train_resumes_and_writes_a_policy(tmp_path):
    """A tiny end-to-end run (in-process env): teacher PPO, then DAgger, checkpoints, metrics, policy."""
    assert runner.invoke(app, ["corpus", str(tmp_path / "clips"), "--count", "2", "--duration", "2",
                               "--source", "joints"]).exit_code == 0
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"num_envs": 4, "workers": 0, "checkpoint_every": 1,
                               "ppo": {"iterations": 2, "unroll_length": 4, "hidden": [16]},
                               "distill": {"iterations": 2, "unroll_length": 4, "hidden": [16], "keep_every": 1}}))
    run = tmp_path / "run"
    r = runner.invoke(app, ["train", "--clips", str(tmp_path / "clips"), "--out", str(run), "--config", str(cfg),
                            "--phase", "teacher"])
    assert r.exit_code == 0, r.output
    assert json.loads((run / "teacher.json").read_text())["iteration"] == 2
    cfg.write_text(json.dumps({**json.loads(cfg.read_text()), "ppo": {"iterations": 3, "unroll_length": 4,
                                                                       "hidden": [16]}}))
    r = runner.invoke(app, ["train", "--clips", str(tmp_path / "clips"), "--out", str(run), "--config", str(cfg)])
    assert r.exit_code == 0, r.output
    # training accumulates: a larger iteration budget continues the finished teacher where it stopped
    assert json.loads((run / "teacher.json").read_text())["iteration"] == 3
    lines = (run / "metrics_teacher.csv").read_text().splitlines()
    assert len(lines) == 4 and lines[0].startswith("iteration,wall_time,env_steps,reward")
    assert list((run / "tb").iterdir())
    r = runner.invoke(app, ["export", str(run), "-o", str(tmp_path / "p.onnx")])
    assert r.exit_code == 0, r.output
    data = np.load(run / "policy.npz")
    assert data["w0"].shape[1] == 16
    # reads never write: without policy.npz the run's student is built in memory, the folder stays as it was
    from genmimic.policy.run_dir import RunDir

    (run / "policy.npz").unlink()
    before = {p: p.stat().st_mtime_ns for p in run.rglob("*")}
    net, spec = RunDir(run).read_policy()
    assert net.weights[0].shape[1] == 16 and spec.training["teacher"]["iteration"] == 3
    assert runner.invoke(app, ["export", str(run), "-o", str(tmp_path / "q.onnx")]).exit_code == 0
    assert {p: p.stat().st_mtime_ns for p in run.rglob("*")} == before
    assert [r["iteration"] for r in RunDir(run).read_metrics("teacher")] == ["1", "2", "3"]
    assert RunDir(run).export_policy() == run / "policy.npz" and (run / "policy.npz").is_file()
    # distill.keep_every: copies of the student as it trained, averaged by export --average-with
    assert sorted(p.name for p in (run / "kept").iterdir()) == ["it1", "it2"]
    r = runner.invoke(app, ["export", str(run / "kept" / "it2"), "--average-with", str(run / "kept" / "it1"),
                            "-o", str(tmp_path / "avg.onnx")])
    assert r.exit_code == 0, r.output
    averaged = json.loads((tmp_path / "avg.json").read_text())["training"]["averaged"]
    assert [a["iteration"] for a in averaged] == [2, 1]


def test_track_renders_an_mp4(g1_clip, policy_file, tmp_path):
    pytest.importorskip("av")
    if os.environ.get("MUJOCO_GL") not in ("osmesa", "egl", "glfw"):
        pytest.skip("no MuJoCo GL backend configured (set MUJOCO_GL=osmesa)")
    clip = g1_clip.replace(root_pos=g1_clip.root_pos[:25], root_quat=g1_clip.root_quat[:25],
                           dof_pos=g1_clip.dof_pos[:25], keypoints=g1_clip.keypoints[:25],
                           contacts=g1_clip.contacts[:25])
    save_clip(clip, tmp_path / "short.npz")
    r = runner.invoke(app, ["track", str(tmp_path / "short.npz"), "-o", str(tmp_path / "t.npz"), "--policy",
                            str(policy_file), "--render", str(tmp_path / "robot.mp4")])
    assert r.exit_code == 0, r.output
    import av

    with av.open(str(tmp_path / "robot.mp4")) as video:
        frames = sum(1 for _ in video.decode(video=0))
    assert frames >= 10 and not list(tmp_path.glob("*.part.mp4"))


def test_metrics_rows_after_the_checkpoint_are_dropped_on_resume(tmp_path):
    from genmimic.policy.checkpoint import MetricsLog

    log = MetricsLog(tmp_path, "teacher")
    for i in range(1, 5):
        log.write(i, {"reward": float(i)})
    log.close()
    MetricsLog(tmp_path, "teacher", resume_from=2).close()  # the checkpoint was at iteration 2
    rows = (tmp_path / "metrics_teacher.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows] == ["iteration", "1", "2"]


def test_old_metrics_rows_are_thinned_on_resume_the_newest_kept_whole():
    from genmimic.policy.checkpoint import thin_metrics_rows

    rows = [[str(i), "0.5"] for i in range(1, 101)]
    kept = [int(r[0]) for r in thin_metrics_rows(rows, keep_recent=20, every=10)]
    assert kept == list(range(10, 81, 10)) + list(range(81, 101))
    assert thin_metrics_rows(rows[:20], keep_recent=20, every=10) == rows[:20]
    # more than keep_recent * every iterations back: every every**2-th
    rows = [[str(i), "0.5"] for i in range(1, 1001)]
    kept = [int(r[0]) for r in thin_metrics_rows(rows, keep_recent=20, every=10)]
    assert kept == list(range(100, 801, 100)) + list(range(810, 981, 10)) + list(range(981, 1001))


def test_a_metric_added_on_resume_widens_the_header_and_keeps_the_rows(tmp_path):
    import csv

    from genmimic.policy.checkpoint import MetricsLog

    log = MetricsLog(tmp_path, "teacher")
    log.write(1, {"reward": 1.0})
    log.close()
    log = MetricsLog(tmp_path, "teacher", resume_from=1)
    log.write(2, {"reward": 2.0, "term_new": 0.5})
    log.close()
    with (tmp_path / "metrics_teacher.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [(r["iteration"], r["reward"], r["term_new"]) for r in rows] == [("1", "1.0", ""), ("2", "2.0", "0.5")]


def test_drop_env_state_keeps_the_learner(tmp_path):
    """What travels between machines is the learner: dropping the env snapshot keeps params, key and info."""
    import jax

    from genmimic.policy.config import load_config
    from genmimic.policy.ppo import init_state
    from genmimic.policy.train import drop_env_state, read_checkpoint, teacher_sizes

    assert runner.invoke(app, ["corpus", str(tmp_path / "clips"), "--count", "1", "--duration", "2",
                               "--source", "joints"]).exit_code == 0
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"num_envs": 4, "checkpoint_every": 1,
                               "ppo": {"iterations": 1, "unroll_length": 4, "hidden": [16]}}))
    run = tmp_path / "run"
    r = runner.invoke(app, ["train", "--clips", str(tmp_path / "clips"), "--out", str(run), "--config", str(cfg),
                            "--phase", "teacher"])
    assert r.exit_code == 0, r.output
    c = load_config(cfg)
    template = (init_state(jax.random.PRNGKey(0), *teacher_sizes(c), c.ppo), jax.random.PRNGKey(0))
    before = read_checkpoint(run / "teacher.msgpack", *template)
    assert before[2] is not None  # the env snapshot is there
    size = (run / "teacher.msgpack").stat().st_size
    drop_env_state(run / "teacher.msgpack", c)
    after = read_checkpoint(run / "teacher.msgpack", *template)
    assert after[2] is None and (run / "teacher.msgpack").stat().st_size < size and after[3] == before[3]
    for a, b in zip(jax.tree.leaves(after[0]), jax.tree.leaves(before[0]), strict=True):
        np.testing.assert_array_equal(a, b)
