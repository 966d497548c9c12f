"""Metrics on known answers, the open-loop baseline, the report, and a small benchmark end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest

from genmimic.bench.manifest import load_manifest, make_benchmark
from genmimic.bench.metrics import evaluate
from genmimic.bench.replay import replay
from genmimic.bench.runner import run_benchmark
from genmimic.core import save_clip
from genmimic.core.clips import Trajectory
from genmimic.core.testing import standing_wave_smpl_clip
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
    assert m.joint_vel_error == pytest.approx(0, abs=1e-9) and m.success and not m.fell
    assert m.foot_slip < 1e-3  # the waving person stands still


def test_open_loop_replay_falls_on_a_clip_that_needs_balance(reference):
    traj = replay(reference)
    m = evaluate(traj, reference)
    assert m.fell and not m.success
    assert traj.num_frames == pytest.approx(reference.duration * 50 + 1, abs=1)


def test_small_benchmark_end_to_end(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    save_clip(standing_wave_smpl_clip(60, 30.0), src / "wave_person.npz")
    bench, out = tmp_path / "bench", tmp_path / "results"
    entries = make_benchmark(bench, sources=[src / "wave_person.npz"])
    assert len(entries) == 9 and load_manifest(bench) == entries
    rows = run_benchmark(bench, out, methods=("replay",), workers=1)
    assert len(rows) == 9 and all(r["fell"] for r in rows)  # replay cannot balance
    data = json.loads((out / "results.json").read_text())
    assert data["info"]["methods"] == ["replay"]
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html and "By corruption" in html
    assert (out / "success.png").stat().st_size > 1000 and (out / "results.csv").is_file()
