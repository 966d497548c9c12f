"""RunDir reads the project's live training run unchanged, and the training modules import without a loop."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import jax
import numpy as np
import pytest

from genmimic.policy.checkpoint import load_teacher
from genmimic.policy.errors import CheckpointError
from genmimic.policy.run_dir import RunDir

LIVE_RUN = Path(__file__).resolve().parents[1] / "run"
SOURCE = Path(__file__).resolve().parents[1] / "src" / "genmimic" / "policy"


@pytest.fixture(scope="module")
def live_run_copy(tmp_path_factory) -> Path:
    """A copy of packages/genmimic-policy/run (the run being trained: never touched in place)."""
    if not (LIVE_RUN / "config.json").is_file() or not (LIVE_RUN / "teacher.msgpack").is_file():
        pytest.skip(f"no training run at {LIVE_RUN}")
    dest = tmp_path_factory.mktemp("live") / "run"
    shutil.copytree(LIVE_RUN, dest)
    return dest


def test_run_dir_reads_the_live_run_and_its_teacher_without_writing(live_run_copy):
    run = RunDir(live_run_copy)
    before = {p: p.stat().st_mtime_ns for p in live_run_copy.rglob("*")}
    cfg = run.read_config()
    info = run.read_info("teacher")
    assert info is not None and info["iteration"] >= 2400 and info["env_steps"] > 0
    assert run.read_info("student") is None
    rows = run.read_metrics("teacher")
    assert rows and int(rows[-1]["iteration"]) >= int(info["iteration"]) - cfg.checkpoint_every
    state, loaded = load_teacher(run.checkpoint("teacher"), cfg)  # what a resume restores
    assert loaded == info
    assert all(np.isfinite(np.asarray(x)).all() for x in jax.tree.leaves(state.params))
    with pytest.raises(CheckpointError, match="no student yet"):
        run.read_policy()
    assert {p: p.stat().st_mtime_ns for p in live_run_copy.rglob("*")} == before


def test_a_folder_that_is_not_a_run_is_refused_in_one_line(tmp_path):
    with pytest.raises(CheckpointError, match="not a training run \\(no config.json\\)"):
        RunDir(tmp_path).read_config()
    assert not list(tmp_path.iterdir())


def _module_imports(path: Path) -> set[str]:
    """Sibling modules that ``path`` imports at module level (``from . import x``, ``from .x import y``)."""
    out = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            out |= {a.name for a in node.names} if node.module is None else {node.module.split(".")[0]}
    return out


def test_the_policy_package_has_no_import_cycle():
    graph = {p.stem: _module_imports(p) for p in SOURCE.glob("*.py")}
    assert {"train", "distill", "run_dir"} <= graph["train"] | {"train"}  # the parser sees the real imports
    state: dict[str, int] = {}

    def visit(m: str, path: list[str]) -> None:
        if state.get(m) == 1:
            raise AssertionError("import cycle: " + " -> ".join(path + [m]))
        if state.get(m) == 2 or m not in graph:
            return
        state[m] = 1
        for n in sorted(graph[m]):
            visit(n, path + [m])
        state[m] = 2

    for module in sorted(graph):
        visit(module, [])


def test_the_exported_student_is_its_parameter_average(tmp_path):
    """``policy.npz`` (and every read of a run's student) uses ``StudentState.average``, not the last
    parameters, so ``distill.ema_decay`` decides what ships."""
    from genmimic.policy.checkpoint import save_checkpoint
    from genmimic.policy.config import default_config
    from genmimic.policy.distill import init_student, student_size
    from genmimic.policy.networks import policy_mean

    run = RunDir(tmp_path / "run")
    cfg = run.start(default_config())
    state = init_student(jax.random.PRNGKey(0), student_size(cfg), cfg.distill)
    state = state._replace(average=jax.tree.map(lambda p: 0.5 * p + 0.01, state.params))
    save_checkpoint(run.checkpoint("student"), (state, jax.random.PRNGKey(1)), {"iteration": 1})
    net, _ = run.student_policy()
    obs = np.random.default_rng(0).normal(size=(4, student_size(cfg))).astype(np.float32)
    np.testing.assert_allclose(net(obs), policy_mean(state.average, state.normalizer, obs), atol=1e-5)
    assert not np.allclose(net(obs), policy_mean(state.params, state.normalizer, obs), atol=1e-3)


def _student_run(path: Path, seed: int, scale: float, config=None) -> tuple[RunDir, object]:
    """A run directory holding only a student checkpoint whose average is ``scale`` x its initial weights."""
    from genmimic.policy.checkpoint import save_checkpoint
    from genmimic.policy.config import default_config
    from genmimic.policy.distill import init_student, student_size

    run = RunDir(path)
    cfg = run.start(config or default_config())
    state = init_student(jax.random.PRNGKey(seed), student_size(cfg), cfg.distill)
    state = state._replace(average=jax.tree.map(lambda p: scale * p, state.params))
    save_checkpoint(run.checkpoint("student"), (state, jax.random.PRNGKey(1)), {"iteration": 100 * seed})
    return run, state


def test_checkpoint_averaging_exports_the_mean_of_the_students_weights(tmp_path):
    """``export_policy(average_with=...)`` (``genmimic-policy export RUN --average-with RUN2``): the
    weights are the leaf-by-leaf mean, the normaliser this run's, and the record names what was averaged."""
    from genmimic.core.runtime import load_npz_policy
    from genmimic.policy.distill import student_size
    from genmimic.policy.networks import policy_mean

    a, sa = _student_run(tmp_path / "a", 1, 1.0)
    b, sb = _student_run(tmp_path / "b", 2, 3.0)
    path = a.export_policy({"name": "soup"}, average_with=(b,))
    net, spec = load_npz_policy(path)
    mean = jax.tree.map(lambda x, y: (x + y) / 2, sa.average, sb.average)
    obs = np.random.default_rng(0).normal(size=(3, student_size(a.read_config()))).astype(np.float32)
    np.testing.assert_allclose(net(obs), policy_mean(mean, sa.normalizer, obs), atol=1e-4)
    assert spec.training["averaged"] == [{"run": "a", "iteration": 100}, {"run": "b", "iteration": 200}]
    with pytest.raises(CheckpointError, match="is the run itself; fix: pass copies of its checkpoint"):
        a.student_policy(average_with=(a,))
    with pytest.raises(CheckpointError, match="no such folder"):
        a.student_policy(average_with=(RunDir(tmp_path / "c"),))


def test_checkpoint_averaging_refuses_students_of_another_run(tmp_path):
    import dataclasses

    from genmimic.policy.config import default_config

    a, _ = _student_run(tmp_path / "a", 1, 1.0)
    cfg = default_config()
    longer = dataclasses.replace(cfg, env=dataclasses.replace(cfg.env, student_history=10))
    b, _ = _student_run(tmp_path / "b", 2, 1.0, longer)
    with pytest.raises(CheckpointError, match="b: not a copy of .*another config or teacher.*average students of one"):
        a.student_policy(average_with=(b,))
    c, _ = _student_run(tmp_path / "c", 3, 1.0)  # same config, another teacher
    (c.path / "teacher.json").write_text('{"iteration": 5, "env_steps": 10}')
    with pytest.raises(CheckpointError, match="c: not a copy of"):
        a.student_policy(average_with=(c,))
    assert not a.policy_path.exists()
