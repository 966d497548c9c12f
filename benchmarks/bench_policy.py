"""genmimic-policy: rollout speed (C MuJoCo + NumPy policy, one core), CPU-backend throughput (physics
ceiling, env rollout, PPO rollout + update, in one run), MJX env steps/s on the CPU, and tracking quality
of the shipped policy on held-out procedural clips."""

from __future__ import annotations

import os
import time
from pathlib import Path

import jax
import numpy as np
from common import Result

from genmimic.core.tracking import SUCCESS_MEAN_ERROR_M as SUCCESS_ERROR
from genmimic.policy import observation as obs_mod
from genmimic.policy.config import action_bounds, default_config, load_config
from genmimic.policy.controllers import PolicyController
from genmimic.policy.corpus import KINDS, joint_space_motion, synth_retarget_available
from genmimic.policy.env_cpu import CpuVecEnv
from genmimic.policy.mirror import action_mirror, observation_mirror
from genmimic.policy.policy_file import load_policy
from genmimic.policy.ppo import EpisodeTracker, collect, init_state, make_update
from genmimic.policy.reference import make_bank, reference_from_clip
from genmimic.policy.track import simulate, success, track_clip
from genmimic.policy.train import teacher_sizes

CPU_CONFIG = Path(__file__).resolve().parents[1] / "packages" / "genmimic-policy" / "configs" / "cpu.json"
HELD_OUT_SEED = 9000  # the training corpus of the shipped policy used seeds 1000-1055


def _rollout_speed(policy, meta) -> list[Result]:
    clip = joint_space_motion("arms", HELD_OUT_SEED, duration=10.0)
    ref = reference_from_clip(clip)
    simulate(ref, PolicyController(policy, meta))  # warm up
    start = time.perf_counter()
    simulate(ref, PolicyController(policy, meta))
    wall = time.perf_counter() - start
    sim_s = (ref.num_frames - 1) * ref.dt
    return [Result("track rollout, C MuJoCo + NumPy student, one core", sim_s / wall, "x real time",
                   f"{sim_s:.0f} s clip in {wall:.2f} s (4 physics steps + 1 inference per 20 ms)", ">= 20x")]


def _cpu_throughput(bank) -> list[Result]:
    """Physics ceiling, env rollout and PPO (rollout + update) on the batched C MuJoCo env, one run, same
    envs and threads; the PPO settings are those of configs/cpu.json."""
    cfg = load_config(CPU_CONFIG)
    n, threads = cfg.num_envs, cfg.threads or os.cpu_count()
    steps = cfg.ppo.unroll_length
    obs_size, act = teacher_sizes(cfg)
    key = jax.random.PRNGKey(0)
    state = init_state(key, obs_size, act, cfg.ppo)
    update = make_update(cfg.ppo, observation_mirror(obs_mod.teacher_layout(3, cfg.env.future_frames)),
                         action_mirror(), action_bounds(cfg.env.action_clip_to_limits))
    with CpuVecEnv(bank, cfg.env, n, threads, seed=0) as env:
        _, obs = env.reset()
        tracker = EpisodeTracker(n)
        rollout, boot, obs, _ = collect(env, state, obs, key, steps, cfg.ppo.discount, tracker)
        jax.block_until_ready(update(state, rollout, boot, key))  # compile
        rng = np.random.default_rng(0)
        actions = rng.normal(size=(steps, n, 29)).astype(np.float32) * 0.3

        def env_rollout() -> int:
            for a in actions:
                env.step(a)
            return n * steps

        def ppo() -> int:
            nonlocal obs, state
            k = jax.random.PRNGKey(1)
            ro, bo, obs, _ = collect(env, state, obs, k, steps, cfg.ppo.discount, tracker)
            state, info = update(state, ro, bo, k)
            jax.block_until_ready(info)
            return n * steps

        # the physics-only ceiling is the time the same env rollouts spent inside mujoco.rollout (same
        # states, controls, models and threads, measured simultaneously, so the machine's changing load
        # hits both alike); PPO rounds are interleaved with the env rounds
        spent, done, physics_s = np.zeros(2), np.zeros(2), 0.0
        for _ in range(4):
            for i, fn in enumerate((env_rollout, ppo)):
                p0, t0 = env.physics_seconds, time.perf_counter()
                done[i] += fn()
                spent[i] += time.perf_counter() - t0
                physics_s += (env.physics_seconds - p0) if i == 0 else 0.0
        roll, train = (float(x) for x in done / spent)
        ceiling = float(done[0] / physics_s)
    load = os.getloadavg()[0]
    setting = f"{n} envs, {threads} threads, load average {load:.1f} on {os.cpu_count()} cores (shared)"
    return [Result("CPU env: physics-only ceiling (time inside mujoco.rollout)", ceiling, "env steps/s", setting),
            Result("CPU env: rollout (physics + observation, reward, resets)", roll, "env steps/s",
                   f"{100 * roll / ceiling:.0f} % of the ceiling", ">= 60 % of the ceiling"),
            Result("CPU env: PPO rollout + update (configs/cpu.json)", train, "env steps/s",
                   f"{100 * train / ceiling:.0f} % of the ceiling; {cfg.ppo.num_epochs} epochs x "
                   f"{cfg.ppo.num_minibatches} minibatches of {n * steps // cfg.ppo.num_minibatches}", ">= 5,000")]


def _mjx(bank) -> list[Result]:
    from genmimic.policy.env_mjx import MjxVecEnv

    cfg = default_config().env
    n = 8
    env = MjxVecEnv(bank, cfg, n, seed=0)
    t0 = time.perf_counter()
    env.reset()
    env.step(np.zeros((n, 29)))
    compile_s = time.perf_counter() - t0
    steps = 10
    t0 = time.perf_counter()
    for _ in range(steps):
        env.step(np.zeros((n, 29)))
    wall = time.perf_counter() - t0
    return [Result(f"MJX env on CPU ({n} envs, 4 substeps per env step)", n * steps / wall, "env steps/s",
                   f"compile (reset + step) {compile_s:.0f} s; use C MuJoCo on a CPU, MJX on a GPU")]


def _tracking(policy, meta) -> list[Result]:
    sets = {"joint-space": [joint_space_motion(k, HELD_OUT_SEED + i, duration=8.0) for i, k in enumerate(KINDS)]}
    make = synth_retarget_available()
    if make is not None:
        from genmimic.lift import synth

        sets["synth+retarget"] = [make(k, HELD_OUT_SEED + i, 8.0) for i, k in enumerate(synth.KINDS)]
    rows = []
    for name, clips in sets.items():
        trajs = [track_clip(c, policy, meta) for c in clips]
        errors = [float(t.tracking_error.mean()) for t in trajs]
        ok = [success(t) for t in trajs]
        falls = sum(t.fell for t in trajs)
        rows += [Result(f"shipped student: success on held-out {name} clips", 100 * np.mean(ok), "%",
                        f"{len(ok)} clips x 8 s, one per kind, unseen seeds; success = no fall and mean keypoint "
                        f"error < {SUCCESS_ERROR} m; falls {falls}"),
                 Result(f"shipped student: mean keypoint error, held-out {name}", float(np.mean(errors)), "m",
                        f"median {np.median(errors):.3f} m")]
    return rows


def run() -> list[Result]:
    policy, meta = load_policy()
    bank = make_bank([reference_from_clip(joint_space_motion(k, HELD_OUT_SEED + 50 + i, 6.0))
                      for i, k in enumerate(KINDS)])
    rows = _rollout_speed(policy, meta)
    rows += _tracking(policy, meta)
    rows += _cpu_throughput(bank)
    rows += _mjx(bank)
    return rows
