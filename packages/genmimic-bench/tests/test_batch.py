"""``genmimic-bench batch``: records, failures, resume, time and memory limits, a killed worker, on the local
process pool and on Ray (skipped where Ray is not installed)."""

from __future__ import annotations

import json
import math
import os
import signal

import pytest

from genmimic.bench.batch import (
    MANIFEST,
    OUTPUTS,
    BatchInput,
    BatchOptions,
    BatchRecord,
    StageTimes,
    collect_inputs,
    completed,
    failure_reason,
    read_manifest,
)
from genmimic.bench.batch_pools import choose_backend, limit_memory, run_batch
from genmimic.bench.metrics import FAILED
from genmimic.core import save_clip, testing
from genmimic.core.clips import load_clip
from genmimic.core.errors import GenMimicError
from genmimic.lift.testing import write_bvh

GOOD = ("random", "robot", "wave")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """Three short good inputs (BVH, SMPL clip, G1 clip) and one broken BVH, in one folder."""
    folder = tmp_path_factory.mktemp("inputs")
    write_bvh(folder / "wave.bvh", testing.standing_wave_smpl_clip(30, 30.0))
    save_clip(testing.random_smpl_clip(30, 30.0, seed=3), folder / "random.npz")
    save_clip(testing.waving_g1_clip(50, 50.0), folder / "robot.npz")
    (folder / "broken.bvh").write_text("HIERARCHY\nROOT Hips\n{\n")
    return folder


@pytest.fixture(scope="module")
def ray_session():
    ray = pytest.importorskip("ray", reason="Ray not installed (pip install 'genmimic-bench[ray]')")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    yield ray
    ray.shutdown()


def _by_name(records):
    return {r.name: r for r in records}


def _check_first_run(out, summary, inputs):
    records = _by_name(summary.records)
    assert sorted(records) == sorted((*GOOD, "broken"))
    for name in GOOD:
        r = records[name]
        assert r.status == "done" and r.error is None and r.attempt == 1, r
        assert r.metrics is not None and isinstance(r.metrics.strict_success, bool)
        assert r.feasibility in ("feasible", "adapt", "infeasible") and r.stage_s.track > 0
        for file in r.outputs:  # every output written and valid
            kind = {n: k for n, k in OUTPUTS.values()}[file]
            (json.loads((out / name / file).read_text()) if kind is None else load_clip(out / name / file, kind))
        assert completed(out, BatchInput(str(inputs / f"{name}{'.bvh' if name == 'wave' else '.npz'}"), name))
    assert records["robot"].kind == "g1" and records["robot"].stage_s.lift is None
    assert records["random"].kind == "smpl" and records["wave"].kind == "bvh"
    bad = records["broken"]
    assert bad.status == "failed" and bad.failed_stage == "lift"
    assert "broken.bvh" in bad.error and "\n" not in bad.error
    assert not (out / "broken").exists()  # failed at its first stage: no folder left behind
    assert [r.name for r in read_manifest(out)] == [r.name for r in summary.records]


def _check_rerun(out, inputs, backend, **kw):
    mtimes = {p: p.stat().st_mtime_ns for name in GOOD for p in (out / name).iterdir()}
    before = len(read_manifest(out))
    again = run_batch(collect_inputs([inputs]), out, backend=backend, workers=2, **kw)
    assert sorted(again.skipped) == sorted(GOOD)
    assert [(r.name, r.attempt, r.status) for r in again.records] == [("broken", 2, "failed")]
    assert {p: p.stat().st_mtime_ns for p in mtimes} == mtimes  # nothing redone
    assert len(read_manifest(out)) == before + 1


def test_inputs_from_files_and_folders(inputs, tmp_path):
    found = collect_inputs([inputs, inputs / "wave.bvh"])
    assert [t.name for t in found] == ["broken", "random", "robot", "wave"]
    (tmp_path / "wave.npz").write_bytes(b"x")
    with pytest.raises(GenMimicError, match="rename one"):
        collect_inputs([inputs, tmp_path / "wave.npz"])
    with pytest.raises(GenMimicError, match="no such file"):
        collect_inputs([tmp_path / "missing.mp4"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(GenMimicError, match="no inputs in this folder"):
        collect_inputs([tmp_path / "empty"])


def test_record_round_trip_and_a_torn_manifest(tmp_path):
    r = BatchRecord("a.bvh", "a", 1, "done", "bvh", stage_s=StageTimes(0.1, 0.2, 0.3, 0.4), outputs=("g1.npz",),
                    metrics=FAILED)
    back = BatchRecord.from_json(json.loads(json.dumps(r.to_json(), allow_nan=False)))
    assert back.stage_s == r.stage_s and back.outputs == r.outputs and math.isnan(back.metrics.mpkpe_mm)
    line = json.dumps(r.to_json())
    (tmp_path / MANIFEST).write_text(line + "\n" + line[:40])  # a crash mid-line
    assert len(read_manifest(tmp_path)) == 1
    (tmp_path / MANIFEST).write_text("{not json\n" + line + "\n")
    with pytest.raises(GenMimicError, match="line 1"):
        read_manifest(tmp_path)


def test_backend_choice(monkeypatch):
    import genmimic.bench.batch_pools as pools

    monkeypatch.setattr(pools, "ray_available", lambda: False)
    assert choose_backend("auto", None)[0] == "local" and "not installed" in choose_backend("auto", None)[1]
    with pytest.raises(GenMimicError, match="genmimic-bench\\[ray\\]"):
        choose_backend("ray", None)
    with pytest.raises(GenMimicError, match="--backend"):
        choose_backend("dask", None)


def test_local_pool_batch_and_rerun(inputs, tmp_path):
    out = tmp_path / "out"
    summary = run_batch(collect_inputs([inputs]), out, backend="local", workers=2)
    assert summary.backend == "local" and summary.workers == 2
    _check_first_run(out, summary, inputs)
    (out / "robot" / "robot.npz").write_bytes(b"damaged")  # a damaged output: that input is redone
    again = run_batch(collect_inputs([inputs / "robot.npz"]), out, backend="local")
    assert [(r.name, r.status, r.attempt) for r in again.records] == [("robot", "done", 2)]
    _check_rerun(out, inputs, "local")


def test_time_limit_and_memory_limit(inputs, tmp_path):
    task = collect_inputs([inputs / "wave.bvh"])
    summary = run_batch(task, tmp_path / "t", BatchOptions(timeout_s=0.05), backend="local", workers=1)
    (r,) = summary.records
    assert r.status == "failed" and "time limit of 0.05 s" in r.error and r.failed_stage == "worker"
    with pytest.raises(GenMimicError, match="--memory-mb 300 is less than the .* MiB"):
        limit_memory(300)  # this process uses more: refused before any limit is set
    with pytest.raises(GenMimicError, match="cannot start: no worker was ready within 0.01 s"):
        run_batch(task, tmp_path / "s", BatchOptions(startup_s=0.01), backend="local", workers=1)


def test_a_failed_input_keeps_only_the_outputs_its_record_lists(tmp_path):
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    save_clip(testing.random_smpl_clip(2, 30.0, seed=1), folder / "short.npz")  # lifts, retargets, fails the check
    save_clip(testing.waving_g1_clip(2, 50.0), folder / "tiny.npz")  # fails the check with nothing written
    (out / "short").mkdir(parents=True)
    (out / "short" / "robot.npz").write_bytes(b"an earlier attempt's")
    (out / "short" / ".g1.npz.x1.tmp").write_bytes(b"torn")
    summary = run_batch(collect_inputs([folder]), out, backend="local", workers=1)
    records = _by_name(summary.records)
    assert all(r.status == "failed" and r.failed_stage == "check" for r in records.values())
    assert records["short"].outputs == ("human.npz", "g1.npz")
    assert sorted(p.name for p in (out / "short").iterdir()) == ["g1.npz", "human.npz"]
    assert not (out / "tiny").exists()
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "short"]


def test_a_cut_short_video_is_told_how_to_lift_it_where_batch_has_no_allow_partial():
    from genmimic.bench.cli import app
    from genmimic.lift.errors import CutShortStreamError

    err = CutShortStreamError("clip.mp4", "the stream ends early: read 12 of 50 declared frames", 12)
    assert str(err).endswith("; fix: pass --allow-partial to lift the 12 frames read")  # genmimic-lift's own advice
    advice = failure_reason(err)
    assert advice == ("clip.mp4: the stream ends early: read 12 of 50 declared frames; lift it alone with "
                      "`genmimic-lift --allow-partial` and give the batch the .npz, to keep the 12 frames read")
    assert failure_reason(MemoryError(), 512) == "out of memory (over --memory-mb 512)"
    assert failure_reason(ValueError("bad")) == "ValueError: bad"
    from typer.testing import CliRunner

    assert "No such option: --allow-partial" in CliRunner().invoke(app, ["batch", "x.mp4", "--allow-partial"]).output


def test_cli_batch_exit_code_and_summary(inputs, tmp_path):
    from typer.testing import CliRunner

    from genmimic.bench.cli import app

    args = ["batch", str(inputs / "robot.npz"), str(inputs / "broken.bvh"), "-o", str(tmp_path), "--backend", "local"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert "1 done, 1 failed, 0 already done" in result.output and "failed at lift" in result.output


def test_an_unreachable_ray_cluster_fails_in_one_line_within_seconds(inputs, tmp_path, monkeypatch):
    import socket
    import time

    from typer.testing import CliRunner

    import genmimic.bench.batch_pools as pools
    from genmimic.bench.cli import app

    pytest.importorskip("ray", reason="Ray not installed (pip install 'genmimic-bench[ray]')")
    monkeypatch.setattr(pools, "RAY_CONNECT_S", 1.0)
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{sock.getsockname()[1]}"
    t = time.monotonic()
    for given in (address, f"ray://{address}"):
        result = CliRunner().invoke(app, ["batch", str(inputs / "robot.npz"), "-o", str(tmp_path / "out"),
                                          "--address", given])
        assert result.exit_code == 1 and f"--address {given}: no Ray cluster answers at {address}" in result.output
        assert len(result.output.strip().splitlines()) == 1
    assert time.monotonic() - t < 15
    assert not (tmp_path / "out").exists()  # nothing written
    with pytest.raises(GenMimicError, match="not a Ray cluster address"):
        pools.check_ray_address("head-node")
    monkeypatch.setenv("RAY_ADDRESS", address)
    with pytest.raises(GenMimicError, match="no Ray cluster answers"):
        pools.check_ray_address("auto", 0.2)


def test_ray_batch_and_rerun(inputs, tmp_path, ray_session):
    out = tmp_path / "out"
    summary = run_batch(collect_inputs([inputs]), out, backend="ray", workers=2)
    assert summary.backend == "ray" and summary.workers == 2
    _check_first_run(out, summary, inputs)
    _check_rerun(out, inputs, "ray")


@pytest.mark.parametrize("backend", ["local", "ray"])
def test_a_killed_worker_fails_its_input_and_a_rerun_finishes(inputs, tmp_path, backend, request):
    if backend == "ray":
        request.getfixturevalue("ray_session")
    killed = []

    def kill_first(task, pid):
        if not killed:
            killed.append(task.name)
            os.kill(pid, signal.SIGKILL)

    out = tmp_path / "out"
    summary = run_batch(collect_inputs([inputs]), out, backend=backend, workers=2, on_start=kill_first)
    records = _by_name(summary.records)
    assert sorted(records) == sorted((*GOOD, "broken"))
    assert all(r.status == "done" or r.error for r in records.values())
    victim = records[killed[0]]
    assert victim.status == "failed" and victim.failed_stage == "worker" and "died" in victim.error
    assert not (out / victim.name).exists()  # what the killed worker wrote is listed nowhere: removed
    again = run_batch(collect_inputs([inputs]), out, backend=backend, workers=2)
    assert {r.name for r in again.records} == {killed[0], "broken"}
    assert all(completed(out, t) for t in collect_inputs([inputs]) if t.name != "broken")
