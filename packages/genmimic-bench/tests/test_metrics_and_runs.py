"""Metrics on known answers, the open-loop baseline, the report with methods side by side, and a small
benchmark end to end (with TWIST2 where its file is found)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from genmimic.bench.manifest import load_manifest, make_benchmark
from genmimic.bench.metrics import FAILED, evaluate
from genmimic.bench.report import markdown_report, side_by_side, summary_table
from genmimic.bench.runner import TrackerOptions, default_methods, make_tracker, run_benchmark
from genmimic.core import save_clip
from genmimic.core.clips import SmplClip, Trajectory, load_clip
from genmimic.core.testing import standing_wave_smpl_clip
from genmimic.core.tracking import score_trajectory
from genmimic.retarget import retarget


@pytest.fixture(scope="module")
def reference():
    return retarget(standing_wave_smpl_clip(100, 30.0)).clip


def perfect(reference) -> Trajectory:
    """A tracker that does exactly what it is asked."""
    T = reference.num_frames
    base = {f.name: getattr(reference, f.name) for f in type(reference).array_fields()}
    return Trajectory(fps=reference.fps, **base, dof_vel=np.gradient(reference.dof_pos, 1 / reference.fps, axis=0),
                      torque=np.zeros((T, 29)), root_lin_vel=np.zeros((T, 3)), root_ang_vel=np.zeros((T, 3)),
                      reference_keypoints=reference.keypoints, tracking_error=np.zeros(T), fallen=np.zeros(T, bool))


def test_a_perfect_tracker_scores_zero(reference):
    m = evaluate(perfect(reference), reference, reference)
    assert m.mpkpe_mm == 0 and m.ee_error_mm == 0 and m.clean_mpkpe_mm == 0
    assert m.root_relative_mm == 0 and m.worst_window_mm == 0 and m.hands_mm == 0 and m.root_error_per_m == 0
    assert m.joint_vel_error == pytest.approx(0, abs=1e-9) and m.success and m.strict_success and not m.fell
    assert m.foot_slip < 1e-3  # the waving person stands still


def test_a_tracker_shifted_in_the_world_keeps_its_root_relative_score(reference):
    """Global error counts a 0.5 m offset; the strict (root-relative) criterion does not, drift does."""
    moved = perfect(reference)
    shift = np.array([0.5, 0.0, 0.0])
    moved = moved.replace(root_pos=moved.root_pos + shift, keypoints=moved.keypoints + shift)
    m = evaluate(moved, reference)
    assert m.mpkpe_mm == pytest.approx(500) and m.root_relative_mm == pytest.approx(0, abs=1e-9)
    assert m.strict_success and not m.success and m.root_error_per_m == pytest.approx(0.5)


def test_metrics_use_the_core_definitions(reference):
    """The bench's fall test and success criteria are genmimic.core.tracking's, whatever the method."""
    traj = make_tracker("replay")(reference)
    m, s = evaluate(traj, reference), score_trajectory(traj, reference)
    assert (m.fell, m.success, m.strict_success) == (s.fell, s.success, s.strict_success)
    assert m.root_relative_mm == pytest.approx(s.root_relative_error * 1000)
    assert traj.meta["params"]["controller"] == "replay" and traj.num_frames == reference.num_frames


def _rows():
    base = {"clip_id": "a", "category": "gestures", "corruption": "none", "severity": 0, **FAILED._asdict()}
    rows = []
    for method, strict, fell, rel in (("policy", True, False, 40.0), ("policy", False, True, 300.0),
                                      ("twist2", True, False, 20.0), ("twist2", True, False, 30.0)):
        rows.append({**base, "method": method, "strict_success": strict, "success": strict, "fell": fell,
                     "root_relative_mm": rel, "mpkpe_mm": rel})
    rows[1]["corruption"], rows[3]["corruption"] = "jitter", "jitter"
    return rows


def test_report_puts_methods_side_by_side():
    rows = _rows()
    overall = summary_table(rows, "method")
    assert [(r["method"], r["strict_%"], r["fall_%"], r["rel_mm"]) for r in overall] == [
        ("policy", 50.0, 50.0, 170.0), ("twist2", 100.0, 0.0, 25.0)]
    table = side_by_side(rows, "corruption")
    assert table == [{"corruption": "jitter", "policy": "0 / 100 / 300", "twist2": "100 / 0 / 30"},
                     {"corruption": "none", "policy": "100 / 0 / 40", "twist2": "100 / 0 / 20"}]
    md = markdown_report(rows, {"bench": "b"})
    overall_md = md.split("## Overall")[1].split("##")[0]
    assert "| method | clips | strict_% |" in overall_md and "| policy | 2 |" in overall_md
    assert "| corruption | policy | twist2 |" in md and "| category | method | clips |" in md


def test_twist2_is_left_out_of_the_default_methods_where_its_file_is_absent(tmp_path):
    assert default_methods(TrackerOptions(baseline_dir=str(tmp_path))) == ("policy", "replay")


def test_small_benchmark_end_to_end(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    save_clip(standing_wave_smpl_clip(60, 30.0), src / "wave_person.npz")
    save_clip(standing_wave_smpl_clip(45, 30.0), src / "short_wave.npz")
    bench, out = tmp_path / "bench", tmp_path / "results"
    entries = make_benchmark(bench, sources=[src / "wave_person.npz", src / "short_wave.npz"])
    assert len(entries) == 18 and load_manifest(bench) == entries
    rows = run_benchmark(bench, out, methods=("replay",), workers=2)  # one worker process per motion
    assert len(rows) == 18
    # replay cannot balance: it falls on every 2 s clip (a 1.5 s one may end first, since the robot starts
    # with the reference's line-fit velocities rather than a noisy frame's)
    assert all(r["fell"] for r in rows if r["clip_id"].startswith("wave_person"))
    data = json.loads((out / "results.json").read_text())
    assert data["info"]["methods"] == ["replay"]
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html and "By corruption" in html
    assert (out / "success.png").stat().st_size > 1000 and (out / "results.csv").is_file()


def test_each_motion_gets_its_own_noise_and_a_rerun_the_same(tmp_path):
    """Two motions' corrupted variants of one seed are different draws (with one seed per seed, the default
    benchmark's 7 jitter-3 clips had been 2 noise draws), and making the benchmark again gives the same clips."""
    src = tmp_path / "src"
    src.mkdir()
    save_clip(standing_wave_smpl_clip(60, 30.0), src / "a.npz")
    save_clip(standing_wave_smpl_clip(60, 30.0), src / "b.npz")  # the same motion under two names
    for run in ("one", "two"):
        make_benchmark(tmp_path / run, sources=[src / "a.npz", src / "b.npz"], severities=(3,))
    clean = load_clip(tmp_path / "one" / "clips" / "a.npz", SmplClip).joints

    def noise(run: str, motion: str) -> np.ndarray:
        return load_clip(tmp_path / run / "clips" / f"{motion}__jitter3.npz", SmplClip).joints - clean

    a, b = noise("one", "a"), noise("one", "b")
    assert np.abs(a).mean() > 0.02 and abs(np.corrcoef(a.ravel(), b.ravel())[0, 1]) < 0.1
    np.testing.assert_array_equal(noise("two", "a"), a)


@pytest.mark.parametrize("command", ["make", "run", "video", "batch"])
def test_an_output_that_is_a_file_is_refused_before_any_work(tmp_path, command):
    """`-o` naming an existing file: one line naming it and the fix, exit 1, the file untouched (a benchmark
    run had done all its clips first, then failed with a traceback)."""
    from typer.testing import CliRunner

    from genmimic.bench.cli import app

    taken = tmp_path / "taken"
    taken.write_text("keep")
    inputs = {"make": [], "run": [str(tmp_path / "no_bench")], "video": [str(tmp_path)], "batch": [str(tmp_path)]}
    for out, why in ((taken, "is a file, expected a folder"), (taken / "sub", f"{taken} is a file, not a folder")):
        result = CliRunner().invoke(app, [command, *inputs[command], "-o", str(out)])
        assert result.exit_code == 1 and why in result.output and "fix:" in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1 and taken.read_text() == "keep"


def test_cli_run_with_twist2_missing_is_a_one_line_error(tmp_path):
    from typer.testing import CliRunner

    from genmimic.bench.cli import app

    result = CliRunner().invoke(app, ["run", str(tmp_path / "bench"), "-o", str(tmp_path / "out"),
                                      "--method", "twist2", "--baseline-dir", str(tmp_path)])
    assert result.exit_code != 0 and "--baseline-dir" in result.output
    assert not (tmp_path / "out").exists()


def test_student_and_twist2_side_by_side_end_to_end(tmp_path, shared_data):
    """`genmimic-bench run --method policy --method twist2` on a small benchmark: one report, both methods."""
    from typer.testing import CliRunner

    from genmimic.bench.cli import app

    twist2 = shared_data.parent / "baselines" / "twist2"
    if not (twist2 / "twist2_1017_20k.onnx").is_file():
        pytest.skip(f"TWIST2 not found at {twist2}")
    src = tmp_path / "src"
    src.mkdir()
    save_clip(standing_wave_smpl_clip(60, 30.0), src / "wave_person.npz")
    make_benchmark(tmp_path / "bench", sources=[src / "wave_person.npz"])
    result = CliRunner().invoke(app, ["run", str(tmp_path / "bench"), "-o", str(tmp_path / "out"), "--method",
                                      "policy", "--method", "twist2", "--baseline-dir", str(twist2), "--workers", "1"])
    assert result.exit_code == 0, result.output
    rows = json.loads((tmp_path / "out" / "results.json").read_text())["rows"]
    assert sorted({r["method"] for r in rows}) == ["policy", "twist2"] and len(rows) == 18
    clean = {r["method"]: r for r in rows if r["corruption"] == "none"}
    assert not clean["twist2"]["fell"] and clean["twist2"]["root_relative_mm"] < 60  # stands, follows the wave
    md = (tmp_path / "out" / "report.md").read_text()
    assert "| corruption | policy | twist2 |" in md


def test_a_missing_folder_or_a_file_is_named_as_such(tmp_path):
    from genmimic.bench.manifest import BenchError

    with pytest.raises(BenchError, match="no such folder; make a benchmark with `genmimic-bench make"):
        load_manifest(tmp_path / "absent")
    (tmp_path / "g1.npz").write_bytes(b"x")
    with pytest.raises(BenchError, match="is a file, not a benchmark folder"):
        load_manifest(tmp_path / "g1.npz")
    with pytest.raises(BenchError, match="not a benchmark folder \\(no manifest.json\\)"):
        load_manifest(tmp_path)


@pytest.mark.parametrize(("content", "problem"), [
    ('{"format": "genmimic.bench/1", "clips": [', "not a valid manifest \\(Expecting"),
    ("[1, 2]", "not a valid manifest \\(a JSON list, not an object\\)"),
    (b"\xff\xfe\x00", "not a valid manifest \\('utf-8' codec"),
    ('{"format": "genmimic.bench/99", "clips": []}', "unknown manifest format 'genmimic.bench/99'"),
    ('{"format": "genmimic.bench/1"}', "not a valid manifest \\(missing key 'clips'\\)"),
    ("", "the manifest is empty"),
])
def test_a_broken_manifest_is_named_with_its_fix(tmp_path, content, problem):
    from genmimic.bench.manifest import BenchError

    (tmp_path / "manifest.json").write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(BenchError, match=f"manifest.json: {problem}.*; fix: make it again with the command that made "
                                         f"it \\(`genmimic-bench make -o {tmp_path}`, with its `--from` and `--seeds`"):
        load_manifest(tmp_path)


def test_a_missing_clip_of_a_benchmark_is_named_with_its_fix(tmp_path):
    from genmimic.bench.manifest import BenchError

    bench = tmp_path / "bench"
    entries = make_benchmark(bench, seeds=1, severities=(1,))
    (bench / entries[0].file).unlink()
    with pytest.raises(BenchError, match=f"clip {entries[0].clip_id} is missing .*restore the file, or fix: make it "
                                         f"again with `genmimic-bench make -o {bench} --seeds 1`"):
        load_manifest(bench)


def test_a_missing_clip_of_a_benchmark_made_from_your_clips_names_its_from_folder(tmp_path):
    from genmimic.bench.manifest import BenchError
    from genmimic.core import save_clip
    from genmimic.core.testing import standing_wave_smpl_clip

    src = tmp_path / "mine"
    src.mkdir()
    save_clip(standing_wave_smpl_clip(), src / "wave.npz")
    bench = tmp_path / "bench"
    entries = make_benchmark(bench, [src / "wave.npz"], seeds=1, severities=(1,))
    (bench / entries[-1].file).unlink()
    with pytest.raises(BenchError, match=f"fix: make it again with `genmimic-bench make -o {bench} --from {src}`"):
        load_manifest(bench)
