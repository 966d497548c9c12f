"""Training: the teacher with PPO (+ symmetry loss), then the student by DAgger (:mod:`distill`).

The run directory (config, resumable checkpoints, metrics, TensorBoard events and, at the end, ``policy.npz``)
is a :class:`~genmimic.policy.run_dir.RunDir`; checkpoints are restored by :mod:`checkpoint`.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

import jax
import numpy as np

from genmimic.core.cli_support import progress
from genmimic.core.runtime import observation as obs_mod

from .checkpoint import (  # noqa: F401  (read_checkpoint, load_teacher, ...: also this module's names)
    ACT_SIZE,
    MetricsLog,
    load_teacher,
    load_training_checkpoint,
    read_checkpoint,
    sampling_metrics,
    save_checkpoint,
    save_training_checkpoint,
    teacher_sizes,
)
from .config import TrainConfig
from .corpus import load_clip_dir
from .distill import train_student
from .errors import ConfigError
from .mirror import action_mirror, observation_mirror
from .ppo import EpisodeTracker, collect, init_state, make_update
from .reference import ReferenceBank, make_bank, reference_from_clip
from .rewards import RewardTerms
from .run_dir import RunDir
from .stopping import stop_on_signals

log = logging.getLogger(__name__)


def load_bank(clips: str | Path, ctrl_dt: float) -> ReferenceBank:
    """All G1 clips of a directory (or one file) resampled to the control period."""
    return make_bank([reference_from_clip(c, ctrl_dt, source=name) for name, c in load_clip_dir(clips)])


def make_env(cfg: TrainConfig, bank: ReferenceBank, num_envs: int | None = None, seed: int | None = None,
             randomize: bool | None = None):
    """The vector env of ``cfg.backend``: "cpu" (C MuJoCo, batched, ``cfg.threads`` physics threads, 0: all
    cores) or "mjx" (JAX). Both take the same seed to the same episodes and noise."""
    n = cfg.num_envs if num_envs is None else num_envs
    s = cfg.seed if seed is None else seed
    if cfg.backend == "cpu":
        from .env_cpu import CpuVecEnv

        return CpuVecEnv(bank, cfg.env, n, cfg.threads or os.cpu_count(), s, randomize)
    if cfg.backend == "mjx":
        from .env_mjx import MjxVecEnv
        from .sharding import training_mesh

        return MjxVecEnv(bank, cfg.env, n, s, randomize, mesh=training_mesh(cfg.backend, cfg.devices))
    raise ConfigError(f"unknown backend {cfg.backend!r} (known: cpu, mjx)")


def drop_env_state(path: Path, cfg: TrainConfig) -> None:
    """Rewrite the teacher checkpoint ``path`` without its env snapshot (learner state, key and info only).

    A snapshot holds every env's physics and sampling state: 34 MB for 4,096 MJX envs, and useless on a
    machine with another number of envs. What travels between machines (and is committed) is the learner.
    Raises CheckpointError if ``path`` is unreadable.
    """
    obs_size, act_size = teacher_sizes(cfg)
    key = jax.random.PRNGKey(cfg.seed)
    state, key, _, info = read_checkpoint(path, init_state(key, obs_size, act_size, cfg.ppo), key)
    save_checkpoint(path, (state, key), info)


def train_teacher(run: RunDir | Path, cfg: TrainConfig, env, show_progress: bool = True) -> dict[str, Any]:
    """PPO on the teacher observation; resumes from the run's teacher checkpoint. Returns its info."""
    run = RunDir.of(run)
    layout = obs_mod.teacher_layout(cfg.env.history, cfg.env.future_frames)
    obs_size, act_size = teacher_sizes(cfg)
    key = jax.random.PRNGKey(cfg.seed)
    state = init_state(key, obs_size, act_size, cfg.ppo)
    info: dict[str, Any] = {"iteration": 0, "env_steps": 0, "seconds": 0.0, "finished": False}
    ckpt = run.checkpoint("teacher")
    _, obs = env.reset()
    if ckpt.exists():
        state, key, info = load_training_checkpoint(ckpt, state, key, env)
        if info["iteration"] >= cfg.ppo.iterations:
            return info
        obs = env.snapshot().teacher if hasattr(env, "snapshot") else obs
        log.info("resuming teacher at iteration %d (%d env steps)", info["iteration"], info["env_steps"])
    update = make_update(cfg.ppo, observation_mirror(layout), action_mirror())
    metrics = MetricsLog(run.path, "teacher", int(info["iteration"]))
    tracker = EpisodeTracker(obs.shape[0])
    start, t0, seconds0 = info["iteration"], time.time(), info["seconds"]
    iters = range(start, cfg.ppo.iterations)
    with stop_on_signals("teacher PPO") as stop:
        for it in progress(iters, "teacher PPO") if show_progress else iters:
            key, k1, k2 = jax.random.split(key, 3)
            t_roll = time.time()
            rollout, boot, obs, stats = collect(env, state, obs, k1, cfg.ppo.unroll_length, cfg.ppo.discount, tracker)
            t_upd = time.time()
            if getattr(env, "mesh", None) is not None:  # mjx over several devices (genmimic.policy.sharding)
                from .sharding import replicate, shard_envs

                state, rollout, boot = (replicate(state, env.mesh), shard_envs(rollout, env.mesh, 1),
                                        shard_envs(boot, env.mesh))
            state, loss = update(state, rollout, boot, k2)
            steps = cfg.ppo.unroll_length * obs.shape[0]
            info["env_steps"] += steps
            info["iteration"] = it + 1
            info["seconds"] = seconds0 + time.time() - t0
            metrics.write(it + 1, {
                "env_steps": info["env_steps"], "reward": stats.reward, "episode_return": stats.episode_return,
                "episode_length": stats.episode_length, "fall_rate": stats.fall_rate,
                "tracking_error": stats.tracking_error, "env_steps_per_s": steps / (t_upd - t_roll),
                "update_s": time.time() - t_upd, **{f"loss_{k}": float(v) for k, v in loss._asdict().items()},
                "std": float(np.exp(np.asarray(state.params.log_std)).mean()),
                **{f"term_{k}": float(v) for k, v in zip(RewardTerms._fields, stats.terms, strict=True)},
                **sampling_metrics(env)})
            info["finished"] = it + 1 >= cfg.ppo.iterations
            if (it + 1) % cfg.checkpoint_every == 0:
                save_training_checkpoint(ckpt, state, key, env, info)
            if cfg.max_minutes > 0 and (time.time() - t0) > 60 * cfg.max_minutes:
                log.info("teacher stopped at the time limit (%.1f min)", cfg.max_minutes)
                break
            if stop.requested:
                log.info("teacher PPO stopped by %s at iteration %d", stop.signal_name, it + 1)
                break
    save_training_checkpoint(ckpt, state, key, env, info)
    metrics.close()
    return info


def train(clips: str | Path, run: str | Path, config: TrainConfig | None = None,
          phases: tuple[str, ...] = ("teacher", "student"), show_progress: bool = True) -> dict[str, Any]:
    """Train (or resume) a run: the teacher, then the student; writes ``run/policy.npz`` at the end."""
    run = RunDir(Path(run))
    cfg = run.start(config)
    bank = load_bank(clips, cfg.env.ctrl_dt)
    env = make_env(cfg, bank)
    summary: dict[str, Any] = {}
    try:
        if "teacher" in phases:
            summary["teacher"] = train_teacher(run, cfg, env, show_progress)
        if "student" in phases:
            summary["student"] = train_student(run, cfg, env, show_progress)
            run.export_policy(extra={"clips": int(bank.num_clips)})
    finally:
        env.close()
    return summary
