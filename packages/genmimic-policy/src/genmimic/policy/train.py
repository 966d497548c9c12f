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

from genmimic.core import g1_constants as g1
from genmimic.core.cli_support import progress
from genmimic.core.runtime import observation as obs_mod
from genmimic.core.runtime.policy_spec import ACTION_CLIP
from genmimic.core.stopping import stop_on_signals

from .checkpoint import (  # noqa: F401  (read_checkpoint, load_teacher, ...: also this module's names)
    ACT_SIZE,
    STOP_THEN,
    MetricsLog,
    load_teacher,
    load_training_checkpoint,
    read_checkpoint,
    read_teacher,
    sampling_metrics,
    save_checkpoint,
    save_training_checkpoint,
    teacher_sizes,
)
from .config import TrainConfig, action_bounds, action_scale, default_config
from .corpus import GOALS_DIR, load_clip_dir, load_goal_clips
from .distill import train_student
from .errors import ConfigError
from .mirror import MirrorMap, action_mirror, observation_mirror
from .ppo import EpisodeTracker, ReferencePrior, collect, init_state, make_update
from .reference import ReferenceBank, make_bank, reference_from_clip
from .rewards import RewardTerms
from .run_dir import RunDir

log = logging.getLogger(__name__)


def load_bank(clips: str | Path, ctrl_dt: float) -> ReferenceBank:
    """All G1 clips of a directory (or one file) resampled to the control period, each with the student's goals
    from its corrupted version in the folder's ``goals/`` where there is one (:func:`~.corpus.load_goal_clips`).

    Raises:
        PolicyError: no clips, a bad clip, or a goal clip without its motion or with another frame count.
    """
    named = load_clip_dir(clips)
    goal_files = [str(Path(clips) / GOALS_DIR / Path(name).name) for name, _ in named]
    refs = [reference_from_clip(c, ctrl_dt, source=name) for name, c in named]
    goals = [None if g is None else reference_from_clip(g, ctrl_dt, source=f)
             for g, f in zip(load_goal_clips(clips, [n for n, _ in named]), goal_files, strict=True)]
    return make_bank(refs, goals, names=goal_files)


def make_env(cfg: TrainConfig, bank: ReferenceBank, num_envs: int | None = None, seed: int | None = None,
             randomize: bool | None = None):
    """The vector env of ``cfg.backend``: "cpu" (C MuJoCo, batched, ``cfg.threads`` physics threads, 0: all
    cores) or "mjx" (JAX). Both take the same seed to the same episodes and noise. In a run of several
    processes each process's envs take the seed plus its process index and run on its own devices."""
    n = cfg.num_envs if num_envs is None else num_envs
    s = (cfg.seed if seed is None else seed) + jax.process_index()
    if cfg.backend == "cpu":
        from .env_cpu import CpuVecEnv

        return CpuVecEnv(bank, cfg.env, n, cfg.threads or os.cpu_count(), s, randomize)
    if cfg.backend == "mjx":
        from .env_mjx import MjxVecEnv
        from .sharding import local_mesh, process_count, training_mesh

        mesh = local_mesh(cfg.devices) if process_count() > 1 else training_mesh(cfg.backend, cfg.devices)
        return MjxVecEnv(bank, cfg.env, n, s, randomize, mesh=mesh)
    raise ConfigError(f"unknown backend {cfg.backend!r} (known: cpu, mjx)")


def drop_env_state(path: Path, cfg: TrainConfig) -> None:
    """Rewrite the teacher checkpoint ``path`` without its env snapshot (learner state, key and info only).

    A snapshot holds every env's physics and sampling state: 34 MB for 4,096 MJX envs, and useless on a
    machine with another number of envs. What travels between machines (and is committed) is the learner.
    Raises CheckpointError if ``path`` is unreadable.
    """
    obs_size, act_size = teacher_sizes(cfg)
    key = jax.random.PRNGKey(cfg.seed)
    state, key, _, info = read_teacher(path, init_state(key, obs_size, act_size, cfg.ppo), key)
    save_checkpoint(path, (state, key), info)


def reference_prior(cfg: TrainConfig) -> ReferencePrior:
    """The G1 teacher's reference prior (:func:`genmimic.policy.ppo.reference_action_loss`): the mean actions of
    the joints named by ``cfg.ppo.reference_joints`` (arms, hip and waist yaw: 17 of 29 by default) pulled
    towards the reference's angles, read from the teacher observation's ``ref_dof_pos`` block, at the action
    scale of :func:`config.action_scale`; the joints named by ``cfg.ppo.reference_feedback_joints`` pulled
    towards ``r + k (r - q)`` with ``k = cfg.ppo.reference_feedback`` (none when 0), ``q`` the teacher
    observation's ``dof_pos[t]``."""
    layout = obs_mod.teacher_layout(cfg.env.history, cfg.env.future_frames)
    names = [b.name for b in layout]
    start = sum(b.size for b in layout[:names.index("ref_dof_pos")])
    dof_start = sum(b.size for b in layout[:names.index("dof_pos[t]")])

    def named(parts: tuple[str, ...]) -> np.ndarray:
        return np.asarray([any(w in name for w in parts) for name in g1.JOINT_NAMES], np.float32)

    k = cfg.ppo.reference_feedback
    fed = named(cfg.ppo.reference_feedback_joints) if k > 0 else np.zeros(g1.NUM_DOF, np.float32)
    weight = np.maximum(named(cfg.ppo.reference_joints), fed)
    return ReferencePrior(start, np.asarray(action_scale(), np.float32), weight,
                          k * fed if k > 0 else None, dof_start)


def train_teacher(run: RunDir | Path, cfg: TrainConfig, env, show_progress: bool = True,
                  mirrors: tuple[MirrorMap, MirrorMap] | None = None) -> dict[str, Any]:
    """PPO on the teacher observation; resumes from the run's teacher checkpoint. Returns its info.

    ``mirrors``: (observation, action) mirror maps of another env than the G1's (their sizes are the
    policy's; the toy env of the tests). In a run of several processes (:mod:`sharding`) each process
    rolls out its own envs and the update is over every process's rollouts together
    (:func:`~genmimic.policy.sharding.data_parallel_update`), so all processes hold the same learner after
    every iteration; only process 0 writes checkpoints and metrics (and resumes from its checkpoint,
    whose learner it hands to the others)."""
    from .sharding import data_parallel_update, device_mesh, params_digest, process_count

    run = RunDir.of(run)
    layout = obs_mod.teacher_layout(cfg.env.history, cfg.env.future_frames)
    obs_mirror, act_mirror = mirrors or (observation_mirror(layout), action_mirror())
    obs_size, act_size = (len(obs_mirror.index), len(act_mirror.index)) if mirrors else teacher_sizes(cfg)
    multi = process_count() > 1
    writes = jax.process_index() == 0
    mesh = device_mesh("all") if multi else None
    key = jax.random.PRNGKey(cfg.seed)
    state = init_state(key, obs_size, act_size, cfg.ppo)
    info: dict[str, Any] = {"iteration": 0, "env_steps": 0, "seconds": 0.0, "finished": False}
    ckpt = run.checkpoint("teacher")
    _, obs = env.reset()
    if multi:  # process 0's checkpoint (if any) is the run's: every process starts from its learner
        from jax.experimental.multihost_utils import broadcast_one_to_all

        if writes and ckpt.exists():
            state, key, info = load_training_checkpoint(ckpt, state, key, env, read=read_teacher)
            obs = env.snapshot().teacher if hasattr(env, "snapshot") else obs
        state, key, done = broadcast_one_to_all((state, key, np.array([info["iteration"], info["env_steps"]])))
        info |= {"iteration": int(done[0]), "env_steps": int(done[1])}
        if info["iteration"] >= cfg.ppo.iterations:
            return info
    elif ckpt.exists():
        state, key, info = load_training_checkpoint(ckpt, state, key, env, read=read_teacher)
        if info["iteration"] >= cfg.ppo.iterations:
            return info
        obs = env.snapshot().teacher if hasattr(env, "snapshot") else obs
        log.info("resuming teacher at iteration %d (%d env steps)", info["iteration"], info["env_steps"])
    # the G1's joints bound the actions that act; another env's (the tests' toy) only the clip
    bounds = action_bounds(cfg.env.action_clip_to_limits) if mirrors is None else (-ACTION_CLIP, ACTION_CLIP)
    prior = reference_prior(cfg) if mirrors is None and cfg.ppo.reference_coef > 0 else None
    update = make_update(cfg.ppo, obs_mirror, act_mirror, bounds, prior)
    metrics = MetricsLog(run.path, "teacher", int(info["iteration"])) if writes else None
    tracker = EpisodeTracker(obs.shape[0])
    start, t0, seconds0 = info["iteration"], time.time(), info["seconds"]
    iters = range(start, cfg.ppo.iterations)
    with stop_on_signals("teacher PPO", STOP_THEN) as stop:
        for it in progress(iters, "teacher PPO") if show_progress and writes else iters:
            key, k1, k2 = jax.random.split(key, 3)
            t_roll = time.time()
            k_roll = jax.random.fold_in(k1, jax.process_index()) if multi else k1  # each process's own noise
            rollout, boot, obs, stats = collect(env, state, obs, k_roll, cfg.ppo.unroll_length, cfg.ppo.discount,
                                                tracker)
            t_upd = time.time()
            if multi:
                state, loss = data_parallel_update(update, state, rollout, boot, k2, mesh)
            elif getattr(env, "mesh", None) is not None:  # mjx over several devices (genmimic.policy.sharding)
                from .sharding import replicate, shard_envs

                state, rollout, boot = (replicate(state, env.mesh), shard_envs(rollout, env.mesh, 1),
                                        shard_envs(boot, env.mesh))
            if not multi:
                state, loss = update(state, rollout, boot, k2)
            steps = cfg.ppo.unroll_length * obs.shape[0] * process_count()
            info["env_steps"] += steps
            info["iteration"] = it + 1
            info["seconds"] = seconds0 + time.time() - t0
            info["finished"] = it + 1 >= cfg.ppo.iterations
            if writes:
                metrics.write(it + 1, {
                    "env_steps": info["env_steps"], "reward": stats.reward, "episode_return": stats.episode_return,
                    "episode_length": stats.episode_length, "fall_rate": stats.fall_rate,
                    "tracking_error": stats.tracking_error, "env_steps_per_s": steps / (t_upd - t_roll),
                    "update_s": time.time() - t_upd, **{f"loss_{k}": float(v) for k, v in loss._asdict().items()},
                    "std": float(np.exp(np.asarray(state.params.log_std)).mean()),
                    "learning_rate": float(state.learning_rate),
                    **{f"term_{k}": float(v) for k, v in zip(RewardTerms._fields, stats.terms, strict=True)},
                    **sampling_metrics(env)})
            if writes and (it + 1) % cfg.checkpoint_every == 0:
                save_training_checkpoint(ckpt, state, key, env, info)
            late = cfg.max_minutes > 0 and (time.time() - t0) > 60 * cfg.max_minutes
            if multi:  # the processes stop together: at the first one's time limit or signal
                from jax.experimental.multihost_utils import process_allgather

                late, stop_all = (bool(x) for x in process_allgather(np.array([late, stop.requested])).any(0))
            else:
                stop_all = stop.requested
            if late:
                log.info("teacher stopped at the time limit (%.1f min)", cfg.max_minutes)
                break
            if stop_all:
                log.info("teacher PPO stopped by %s at iteration %d", stop.signal_name or "another process",
                         it + 1)
                break
    if multi:  # every process logs it: equal digests show one learner
        info["params_sha256"] = params_digest(state.params)
        log.info("process %d: teacher parameters %s", jax.process_index(), info["params_sha256"])
    if writes:
        save_training_checkpoint(ckpt, state, key, env, info)
        metrics.close()
    return info


def train(clips: str | Path, run: str | Path, config: TrainConfig | None = None,
          phases: tuple[str, ...] = ("teacher", "student"), show_progress: bool = True) -> dict[str, Any]:
    """Train (or resume) a run: the teacher, then the student; writes ``run/policy.npz`` at the end.

    In a run of several processes (``genmimic-policy train --coordinator``) only the teacher trains (the
    student phase raises PolicyError) and only process 0 writes to ``run``; the others read its config
    from ``config`` (or the defaults) and write nothing."""
    from .sharding import require_single_process

    if "student" in phases:
        require_single_process("the student (DAgger) phase")
    run = RunDir(Path(run))
    planned = config or (run.read_config() if run.is_run() else default_config())
    # the clips first: a bad --clips must not leave a run (config.json) behind that a corrected rerun resumes
    bank = load_bank(clips, planned.env.ctrl_dt)
    cfg = run.start(planned) if jax.process_index() == 0 else planned
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
