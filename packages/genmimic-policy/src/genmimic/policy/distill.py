"""Teacher-student distillation with DAgger: the student (proprioception and goals only) drives the
robot (the teacher with probability ``beta``, decaying), every visited state is labelled with the
teacher's action, and the student is fitted to the labels of the last few rollouts (plus the
symmetry loss on its own observation)."""

from __future__ import annotations

import logging
import time
from collections import deque
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from genmimic.core.cli_support import progress
from genmimic.core.runtime import observation as obs_mod
from genmimic.core.stopping import stop_on_signals

from .checkpoint import (
    STOP_THEN,
    MetricsLog,
    load_teacher,
    load_training_checkpoint,
    read_checkpoint,
    sampling_metrics,
    save_training_checkpoint,
)
from .config import DistillConfig, TrainConfig
from .errors import CheckpointError
from .mirror import MirrorMap, action_mirror, observation_mirror
from .networks import MLP, Normalizer, normalizer_init, normalizer_update, policy_mean
from .ppo import EpisodeTracker, minibatch_epochs, strong_types, symmetry_loss
from .run_dir import RunDir

log = logging.getLogger(__name__)


class StudentState(NamedTuple):
    """The student learner: ``params`` (trained), ``opt_state`` (Adam), ``normalizer`` (observation
    statistics) and ``average``, the moving average of ``params`` that is exported
    (``DistillConfig.ema_decay``; equal to ``params`` when off)."""

    params: dict
    opt_state: Any
    normalizer: Normalizer
    average: dict


class _StudentStateV1(NamedTuple):
    """The student checkpoint's layout before ``average`` (runs distilled before 2026-12-01)."""

    params: dict
    opt_state: Any
    normalizer: Normalizer


def student_size(cfg: TrainConfig) -> int:
    return obs_mod.layout_size(obs_mod.student_layout(cfg.env.student_frames, cfg.env.student_goals))


def init_student(key: jax.Array, obs_size: int, cfg: DistillConfig) -> StudentState:
    params = MLP(tuple(cfg.hidden), 29).init(key, jnp.zeros((1, obs_size)))
    return strong_types(StudentState(params, optax.adam(cfg.learning_rate).init(params), normalizer_init(obs_size),
                                     params))


def moving_average(average: dict, params: dict, decay: float) -> dict:
    """``decay * average + (1 - decay) * params``, leaf by leaf (``params`` itself when ``decay`` is 0)."""
    return jax.tree.map(lambda a, p: decay * a + (1.0 - decay) * p, average, params)


def read_student(path: Path, template: StudentState, key: jax.Array):
    """(student state, PRNG key, env snapshot or None, info) from ``path`` (see ``read_checkpoint``).
    A checkpoint from before ``StudentState.average`` loads with the average set to its parameters.
    Raises CheckpointError if unreadable."""
    try:
        return read_checkpoint(path, template, key)
    except CheckpointError:
        old, key, snap, info = read_checkpoint(path, _StudentStateV1(*template[:3]), key)
        return StudentState(*old, old.params), key, snap, info


def dagger_loss(params: dict, norm: Normalizer, obs: jax.Array, labels: jax.Array, sym_coef: float,
                om: MirrorMap, am: MirrorMap) -> jax.Array:
    """Mean squared error to the teacher's actions plus ``sym_coef`` times the symmetry loss."""
    fn = lambda o: policy_mean(params, norm, o)  # noqa: E731
    mse = jnp.mean(jnp.sum((fn(obs) - labels) ** 2, -1))
    return mse + sym_coef * symmetry_loss(fn, obs, om, am)


def make_student_update(cfg: DistillConfig, sym_coef: float, obs_mirror: MirrorMap, act_mirror: MirrorMap):
    opt = optax.adam(cfg.learning_rate)
    om, am = obs_mirror.to_jax(), act_mirror.to_jax()

    @jax.jit
    def update(state: StudentState, obs: jax.Array, labels: jax.Array, key: jax.Array):
        norm = normalizer_update(state.normalizer, obs[-obs.shape[0] // 4:])

        def step(carry, idx):
            params, opt_state = carry
            loss, grads = jax.value_and_grad(dagger_loss)(params, norm, obs[idx], labels[idx], sym_coef, om, am)
            updates, opt_state = opt.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state), loss

        (params, opt_state), losses = minibatch_epochs(step, (state.params, state.opt_state), obs.shape[0],
                                                       cfg.num_minibatches, cfg.num_epochs, key)
        average = moving_average(state.average, params, cfg.ema_decay)
        return StudentState(params, opt_state, norm, average), jnp.mean(losses)

    return update


_mean = jax.jit(policy_mean)


def train_student(run: RunDir | Path, cfg: TrainConfig, env, show_progress: bool = True) -> dict[str, Any]:
    """DAgger from the run's teacher checkpoint; resumes from its student checkpoint. Returns its info."""
    run = RunDir.of(run)
    teacher, _ = load_teacher(run.checkpoint("teacher"), cfg)
    d = cfg.distill
    s_size = student_size(cfg)
    key = jax.random.PRNGKey(cfg.seed + 1)
    state = init_student(key, s_size, d)
    info: dict[str, Any] = {"iteration": 0, "env_steps": 0, "seconds": 0.0, "finished": False}
    ckpt = run.checkpoint("student")
    s_obs, t_obs = env.reset()
    if ckpt.exists():
        state, key, info = load_training_checkpoint(ckpt, state, key, env, read=read_student)
        if info["iteration"] >= d.iterations:
            return info
        if hasattr(env, "snapshot"):
            s_obs, t_obs = env.snapshot()[-2:]
    layout = obs_mod.student_layout(cfg.env.student_frames, cfg.env.student_goals)
    update = make_student_update(d, cfg.ppo.sym_coef, observation_mirror(layout), action_mirror())
    rng = np.random.default_rng(cfg.seed + int(info["iteration"]))
    buffer: deque = deque(maxlen=d.buffer_iterations)
    metrics = MetricsLog(run.path, "student", int(info["iteration"]))
    tracker = EpisodeTracker(s_obs.shape[0])
    t0, seconds0 = time.time(), info["seconds"]
    iters = range(info["iteration"], d.iterations)
    with stop_on_signals("student DAgger", STOP_THEN) as stop:
        for it in progress(iters, "student DAgger") if show_progress else iters:
            beta = d.beta_start * d.beta_decay**it
            obs_rows, labels, rets, falls, ended_n, errs = [], [], [], 0, 0, []
            for _ in range(d.unroll_length):
                a_teacher = np.asarray(_mean(teacher.params.policy, teacher.normalizer, jnp.asarray(t_obs)))
                a_student = np.asarray(_mean(state.params, state.normalizer, jnp.asarray(s_obs)))
                use_teacher = rng.random(len(a_student)) < beta
                obs_rows.append(s_obs)
                labels.append(a_teacher)
                out = env.step(np.where(use_teacher[:, None], a_teacher, a_student))
                ended = out.terminated | out.truncated
                r, _ = tracker.add(out.reward, ended)
                rets += list(r)
                falls += int(out.terminated.sum())
                ended_n += int(ended.sum())
                errs.append(out.tracking_error.mean())
                s_obs, t_obs = out.student, out.teacher
            buffer.append((np.concatenate(obs_rows), np.concatenate(labels)))
            key, k = jax.random.split(key)
            obs_all = jnp.asarray(np.concatenate([b[0] for b in buffer]))
            lab_all = jnp.asarray(np.concatenate([b[1] for b in buffer]))
            state, loss = update(state, obs_all, lab_all, k)
            steps = d.unroll_length * s_obs.shape[0]
            info.update(iteration=it + 1, env_steps=info["env_steps"] + steps, seconds=seconds0 + time.time() - t0)
            metrics.write(it + 1, {"env_steps": info["env_steps"], "beta": beta, "loss": float(loss),
                                   "episode_return": float(np.mean(rets)) if rets else float("nan"),
                                   "fall_rate": falls / ended_n if ended_n else 0.0,
                                   "tracking_error": float(np.mean(errs)), **sampling_metrics(env)})
            info["finished"] = it + 1 >= d.iterations
            keep = d.keep_every > 0 and (it + 1) % d.keep_every == 0
            if keep or (it + 1) % cfg.checkpoint_every == 0:
                save_training_checkpoint(ckpt, state, key, env, info)
            if keep:
                run.keep_student_copy()
            if cfg.max_minutes > 0 and (time.time() - t0) > 60 * cfg.max_minutes:
                break
            if stop.requested:
                log.info("student DAgger stopped by %s at iteration %d", stop.signal_name, it + 1)
                break
    save_training_checkpoint(ckpt, state, key, env, info)
    metrics.close()
    return info


def load_student(path: Path, cfg: TrainConfig) -> tuple[StudentState, dict[str, Any]]:
    """The student's state and info from its checkpoint ``path``; CheckpointError if unreadable."""
    key = jax.random.PRNGKey(cfg.seed + 1)
    state, _, _, info = read_student(path, init_student(key, student_size(cfg), cfg.distill), key)
    return state, info
