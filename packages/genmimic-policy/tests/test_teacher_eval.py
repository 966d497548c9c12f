"""The teacher's held-out evaluation (the ledger's training-progress figure): invariants and error paths."""

from __future__ import annotations

import json

import jax
import numpy as np
import pytest

from genmimic.core.clips import save_clip
from genmimic.policy.checkpoint import save_checkpoint, teacher_sizes
from genmimic.policy.config import config_to_dict, default_config
from genmimic.policy.corpus import joint_space_motion
from genmimic.policy.errors import CheckpointError
from genmimic.policy.ppo import init_state
from genmimic.policy.run_dir import RunDir
from genmimic.policy.teacher_eval import evaluate_teacher, format_evaluation, main


@pytest.fixture(scope="module")
def run_and_clips(tmp_path_factory):
    """A run directory with an untrained teacher (real network, random weights) and two short clips."""
    root = tmp_path_factory.mktemp("teacher_eval")
    cfg = default_config()
    run = root / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps(config_to_dict(cfg)))
    key = jax.random.PRNGKey(0)
    obs_size, act_size = teacher_sizes(cfg)
    save_checkpoint(RunDir(run).checkpoint("teacher"), (init_state(key, obs_size, act_size, cfg.ppo), key),
                    {"iteration": 7, "env_steps": 1234, "seconds": 1.0, "finished": False})
    clips = root / "clips"
    clips.mkdir()
    for i, kind in enumerate(("wave", "squat")):
        save_clip(joint_space_motion(kind, i, duration=1.0), clips / f"{kind}.npz")
    return run, clips


def test_each_clip_ends_by_termination_or_at_its_end(run_and_clips):
    run, clips = run_and_clips
    ev = evaluate_teacher(run, clips)
    assert (ev.iteration, ev.env_steps, ev.clips) == (7, 1234, 2)
    for r in ev.per_clip:
        assert r.ending in ("end", "fall", "drift", "posture", "limb")
        assert 1 <= r.steps <= r.length - 1
        assert (r.steps == r.length - 1) == (r.ending == "end")
        assert r.mean_error >= 0 and r.hands_error >= 0 and r.root_relative_error >= 0
        assert r.root_error_per_m >= 0 and 0 < r.joint_error < np.pi  # a random teacher is off in angle too
        assert not r.strict_success or r.ending == "end"  # strict success needs the clip run to its end
        assert r.robot_rise >= 0 and r.reference_rise >= 0  # the highest frame is at or above any quantile
    assert 0 <= ev.strict_success <= ev.completed
    assert ev.completed + ev.falls + ev.drifts + ev.postures + ev.limbs == pytest.approx(1.0)
    assert 0 < ev.survival <= 1
    text = format_evaluation(ev)
    assert "wave.npz" in text and "of 2 clips run to the end, strict success" in text and "joint angles" in text
    assert "root rise" in text and "(reference" in text


def test_deterministic(run_and_clips):
    run, clips = run_and_clips
    assert evaluate_teacher(run, clips).per_clip == evaluate_teacher(run, clips).per_clip


def test_not_a_run_is_one_line_error(tmp_path, run_and_clips, capsys):
    _, clips = run_and_clips
    with pytest.raises(CheckpointError, match="not a training run"):
        evaluate_teacher(tmp_path, clips)
    assert main([str(tmp_path), str(clips)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and str(tmp_path) in err


def test_falls_only_runs_each_clip_until_a_fall_or_its_end(run_and_clips, capsys):
    """Only a fall ends a clip: no clip ends by drift, posture or an end effector, and none ends earlier than
    with the training's endings (the same deterministic teacher, the same states until the first ending)."""
    run, clips = run_and_clips
    trained, lifted = evaluate_teacher(run, clips), evaluate_teacher(run, clips, falls_only=True)
    assert lifted.falls_only and not trained.falls_only
    assert lifted.drifts == lifted.postures == lifted.limbs == 0.0
    assert lifted.completed + lifted.falls == pytest.approx(1.0)
    for a, b in zip(trained.per_clip, lifted.per_clip, strict=True):
        assert b.ending in ("end", "fall") and b.steps >= a.steps
    assert any(b.steps > a.steps for a, b in zip(trained.per_clip, lifted.per_clip, strict=True)), \
        "an untrained teacher is ended early by the training's bounds"
    assert main([str(run), str(clips), "--falls-only"]) == 0
    assert "only falls end a clip" in capsys.readouterr().out
    assert main([str(run), "--falls-only"]) == 2
    assert main([str(run), str(clips), "--fall-only"]) == 2
    assert "unknown option --fall-only" in capsys.readouterr().err
    assert main(["--help"]) == 0 and "--falls-only  only a fall ends a clip" in capsys.readouterr().out
