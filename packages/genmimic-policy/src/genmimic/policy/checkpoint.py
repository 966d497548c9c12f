"""Resumable checkpoints (msgpack via flax.serialization, written atomically) and training metrics
(CSV plus TensorBoard event files): what the trainers (``train``, ``distill``) and ``teacher_eval`` restore.
Where the files live is :class:`~genmimic.policy.run_dir.RunDir`'s business; these functions take paths."""

from __future__ import annotations

import csv
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import jax
import numpy as np
from flax import serialization

from genmimic.core.runtime import observation as obs_mod

from .config import TrainConfig
from .env_core import EnvSnapshot, Episode, Rng
from .errors import CheckpointError
from .ppo import PPOState, PPOStateV1, init_state
from .sampling import SamplerState, SamplerStateV1, upgrade

log = logging.getLogger(__name__)
ACT_SIZE = 29  #: teacher and student actions: one per G1 joint


def save_checkpoint(path: Path, target: Any, info: dict[str, Any]) -> None:
    """Write ``target`` (a pytree) to ``path`` and ``info`` to ``path.json``, each atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for dest, data in ((path, serialization.to_bytes(target)), (path.with_suffix(".json"),
                                                                json.dumps(info, indent=1).encode())):
        tmp = dest.with_name(dest.name + ".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, dest)


def load_checkpoint(path: Path, template: Any) -> tuple[Any, dict[str, Any]]:
    """Restore a pytree shaped like ``template`` and its info; a one-line error if unreadable."""
    try:
        target = serialization.from_bytes(template, path.read_bytes())
        info = json.loads(path.with_suffix(".json").read_text())
    except FileNotFoundError as err:
        raise CheckpointError(f"{path}: checkpoint missing ({Path(err.filename).name}); fix: train this phase "
                              "first (`genmimic-policy train --out` on the run folder), or pass the folder "
                              "that holds it") from None
    except (ValueError, KeyError, TypeError, json.JSONDecodeError) as err:
        raise CheckpointError(f"{path}: unreadable checkpoint ({str(err).splitlines()[0][:120]})") from None
    return target, info


def _snapshot_template(sampler_cls: type = SamplerState) -> EnvSnapshot:
    def z(cls):
        return cls(*([0] * len(cls._fields)))

    return EnvSnapshot(0, 0, 0, 0, z(Episode), z(Rng), z(sampler_cls), 0, 0)


def read_checkpoint(path: Path, state: Any, key: Any) -> tuple[Any, Any, EnvSnapshot | None, dict[str, Any]]:
    """(learner state, PRNG key, env snapshot or None, info) from ``path``. Checkpoints written before
    env snapshots existed (a 2-tuple) load with ``None``. Raises CheckpointError if unreadable."""
    try:
        (state, key, snap), info = load_checkpoint(path, (state, key, _snapshot_template()))
    except CheckpointError:
        try:  # a snapshot from before SamplerState.fail_rate
            (state, key, snap), info = load_checkpoint(path, (state, key, _snapshot_template(SamplerStateV1)))
            snap = snap._replace(sampler=upgrade(snap.sampler))
        except CheckpointError:
            (state, key), info = load_checkpoint(path, (state, key))
            snap = None
    return state, key, snap, info


def read_teacher(path: Path, template: PPOState, key: Any) -> tuple[PPOState, Any, EnvSnapshot | None,
                                                                    dict[str, Any]]:
    """(teacher learner state, PRNG key, env snapshot or None, info) from ``path`` (see :func:`read_checkpoint`).
    A checkpoint from before ``PPOState.learning_rate`` (2026-12-05) loads with the template's rate (the
    configured one, what it trained at). Raises CheckpointError if unreadable."""
    try:
        return read_checkpoint(path, template, key)
    except CheckpointError:
        old, key, snap, info = read_checkpoint(path, PPOStateV1(*template[:4]), key)
        return PPOState(*old, template.learning_rate), key, snap, info


def load_training_checkpoint(path: Path, state: Any, key: Any, env,
                             read=read_checkpoint) -> tuple[Any, Any, dict[str, Any]]:
    """Restore (learner state, PRNG key) from ``path`` and, where the checkpoint holds an env snapshot
    that fits ``env`` (same number of envs and clips), the env's episodes, random and sampling state, so
    training continues exactly; otherwise the env keeps its fresh reset. ``read``: a reader with
    :func:`read_checkpoint`'s signature (a learner's own, where its layout changed over versions)."""
    state, key, snap, info = read(path, state, key)
    if snap is not None and hasattr(env, "restore"):
        if _same_shapes(snap, env.snapshot()):
            env.restore(snap)
        else:
            log.warning("%s: the saved env state is for another number of envs or clips; envs start anew", path)
    return state, key, info


def _same_shapes(a: Any, b: Any) -> bool:
    la, lb = jax.tree.leaves(a), jax.tree.leaves(b)
    return len(la) == len(lb) and all(np.shape(x) == np.shape(y) for x, y in zip(la, lb, strict=True))


#: what a training phase does on SIGINT/SIGTERM (``genmimic.core.stopping.stop_on_signals``'s log line)
STOP_THEN = "stopping after this iteration and saving a checkpoint"


def save_training_checkpoint(path: Path, state: Any, key: Any, env, info: dict[str, Any]) -> None:
    """Write (learner state, PRNG key, env snapshot) and ``info`` atomically."""
    target = (state, key, env.snapshot()) if hasattr(env, "snapshot") else (state, key)
    save_checkpoint(path, target, info)


def teacher_sizes(cfg: TrainConfig) -> tuple[int, int]:
    """(observation, action) sizes of the teacher of ``cfg``."""
    layout = obs_mod.teacher_layout(cfg.env.history, cfg.env.future_frames)
    return obs_mod.layout_size(layout), ACT_SIZE


def load_teacher(path: Path, cfg: TrainConfig):
    """The teacher's learner state and info from its checkpoint ``path``; CheckpointError if unreadable."""
    obs_size, act_size = teacher_sizes(cfg)
    key = jax.random.PRNGKey(cfg.seed)
    state, _, _, info = read_teacher(path, init_state(key, obs_size, act_size, cfg.ppo), key)
    return state, info


def sampling_metrics(env) -> dict[str, float]:
    """Summary of the env's adaptive sampling weights for the metrics (empty for envs without it)."""
    if not hasattr(env, "snapshot"):
        return {}
    from .sampling import summary

    s = summary(env.sampler, env.statics.bins, env.cfg.sampling)
    return {"sampling_entropy": s.entropy, "sampling_top_clip": s.top_clip, "sampling_top_share": s.top_share}


#: rows of a metrics CSV kept at full resolution (the newest); when a run resumes, older ones are thinned to
#: every ``METRICS_THIN_EVERY``-th iteration, and those more than ``METRICS_KEEP_RECENT * METRICS_THIN_EVERY``
#: iterations older than the newest to every ``METRICS_THIN_EVERY**2``-th, so a run that trains for months
#: stays a few MB in git (at 168.6 k iterations, ~700 bytes a row: one tier of thinning left 18 MB, two ~8 MB)
METRICS_KEEP_RECENT = 5000
METRICS_THIN_EVERY = 10


def thin_metrics_rows(rows: list[list[str]], keep_recent: int = METRICS_KEEP_RECENT,
                      every: int = METRICS_THIN_EVERY) -> list[list[str]]:
    """CSV data rows (first column: iteration) with all but the newest ``keep_recent`` thinned to the
    iterations that are multiples of ``every``, and those more than ``keep_recent * every`` iterations older
    than the newest row to multiples of ``every**2``; order kept."""
    old, recent = rows[:max(0, len(rows) - keep_recent)], rows[max(0, len(rows) - keep_recent):]
    if not old:
        return recent
    newest = int(rows[-1][0])

    def kept(iteration: int) -> bool:
        step = every if newest - iteration < keep_recent * every else every * every
        return iteration % step == 0

    return [r for r in old if kept(int(r[0]))] + recent


class MetricsLog:
    """One CSV per phase (``metrics_<phase>.csv``) and TensorBoard events under ``tb/`` (the full history)."""

    def __init__(self, run: Path, phase: str, resume_from: int = 0) -> None:
        """``resume_from``: the checkpoint's iteration; rows logged after it (lost work) are dropped, and the
        history is thinned (:func:`thin_metrics_rows`)."""
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        self.path = run / f"metrics_{phase}.csv"
        self.phase = phase
        self.tb = EventFileWriter(str(run / "tb"))
        self._fields: list[str] | None = None
        if self.path.exists():
            with self.path.open() as f:
                rows = list(csv.reader(f))
            if rows:
                self._fields = rows[0]
                kept = [rows[0]] + thin_metrics_rows([r for r in rows[1:] if r and int(r[0]) <= resume_from])
                if len(kept) != len(rows):
                    with self.path.open("w", newline="") as f:
                        csv.writer(f).writerows(kept)

    def write(self, step: int, values: dict[str, float]) -> None:
        from tensorboard.compat.proto import event_pb2, summary_pb2

        row = {"iteration": step, "wall_time": round(time.time(), 1), **values}
        if self._fields is None:
            self._fields = list(row)
            with self.path.open("w", newline="") as f:
                csv.writer(f).writerow(self._fields)
        elif not set(row) <= set(self._fields):  # a new metric (e.g. a reward term added): widen the header
            self._fields += [k for k in row if k not in self._fields]
            with self.path.open() as f:
                rows = list(csv.reader(f))[1:]
            tmp = self.path.with_name(self.path.name + ".tmp")
            with tmp.open("w", newline="") as f:
                csv.writer(f).writerows([self._fields] + [r + [""] * (len(self._fields) - len(r)) for r in rows])
            os.replace(tmp, self.path)
        with self.path.open("a", newline="") as f:
            csv.writer(f).writerow([row.get(k, "") for k in self._fields])
        summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=f"{self.phase}/{k}", simple_value=float(v))
                                             for k, v in values.items()])
        self.tb.add_event(event_pb2.Event(wall_time=time.time(), step=step, summary=summary))
        self.tb.flush()

    def close(self) -> None:
        self.tb.close()
