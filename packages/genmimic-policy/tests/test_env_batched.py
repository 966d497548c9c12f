"""The batched C MuJoCo env (env_core over NumPy + mujoco.rollout) against the per-env reference
functions, its random numbers, adaptive sampling, snapshots and exact resume of training."""

import dataclasses

import jax.numpy as jnp
import numpy as np
import pytest

from genmimic.policy import env_core as core
from genmimic.policy import observation as obs_mod
from genmimic.policy import sampling
from genmimic.policy.config import SamplingConfig, config_from_dict, default_config
from genmimic.policy.env_cpu import CpuVecEnv, TrackingEnv

CFG = default_config().env


@pytest.fixture(scope="module")
def steady_cfg():
    """No failures for a few steps (so every row of a step is a continuing episode)."""
    return dataclasses.replace(CFG, max_root_relative_error=1e3, max_root_drift=1e3, max_heading_error=4.0,
                               max_joint_position_error=10.0, max_joint_error=10.0,
                               fall_tilt=3.2, fall_height_drop=5.0)


@pytest.mark.parametrize(("student_history", "student_goal_frames"), [(0, ()), (10, ()), (10, (0, 2, 5, 10, -2, -10))])
def test_batched_step_equals_the_per_env_functions(bank, steady_cfg, student_history, student_goal_frames):
    """Same state, same action: observations, reward terms and flags as TrackingEnv (the per-env code), with
    the student's history as the teacher's and longer, and with past goal frames for the student."""
    n = 4
    steady_cfg = dataclasses.replace(steady_cfg, student_history=student_history,
                                     student_goal_frames=student_goal_frames)
    env = CpuVecEnv(bank, steady_cfg, n, threads=2, seed=1, randomize=False)
    env.reset()
    one = TrackingEnv(bank, steady_cfg, seed=0, randomize=False)
    rng = np.random.default_rng(0)
    for _ in range(3):
        before, ep = env.physics.copy(), env.episode
        actions = rng.normal(size=(n, 29)) * 0.5
        out = env.step(actions)
        for i in range(n):
            one.data.qpos[:], one.data.qvel[:] = before[i, env.qpos_cols], before[i, env.qvel_cols]
            one.data.qacc_warmstart[:] = 0.0  # rollouts start each control step cold
            one.clip, one.t, one.steps, one.limit = int(ep.clip[i]), int(ep.t[i]), int(ep.steps[i]), int(ep.limit[i])
            one.last_action, one.prev_kp, one.history = ep.last_action[i], ep.prev_kp[i], ep.history[i].copy()
            s, t, r, term, trunc, err, terms = one.step(actions[i])
            assert term == out.terminated[i] and trunc == out.truncated[i]
            np.testing.assert_allclose(out.terms[i], terms, rtol=1e-6, atol=1e-8)
            assert out.reward[i] == pytest.approx(r, rel=1e-6)
            assert out.tracking_error[i] == pytest.approx(err, rel=1e-6)
            np.testing.assert_allclose(out.final_teacher[i], t, rtol=1e-5, atol=1e-5)
            if not (term or trunc):
                np.testing.assert_allclose(out.student[i], s, rtol=1e-5, atol=1e-5)


def test_shapes_finite_values_resets_and_randomised_models(bank):
    n = 8
    with CpuVecEnv(bank, CFG, n, threads=2, seed=0) as env:
        s, t = env.reset()
        assert s.shape == (n, 507) and t.shape == (n, 662) and s.dtype == np.float32
        np.testing.assert_array_equal(t[:, :507], s)
        frictions = {round(float(m.geom_friction[env.floor, 0]), 6) for m in env.models}
        assert len(frictions) == n  # each env has its own model
        np.testing.assert_allclose([m.body_mass[env.torso] for m in env.models],
                                   env._nominal[1] + env.episode.dr[:, 1], rtol=1e-6)
        ended = 0
        for _ in range(60):  # zero actions: the G1 falls within a few seconds, envs restart
            out = env.step(np.zeros((n, 29)))
            assert all(np.isfinite(x).all() for x in (out.student, out.teacher, out.reward, out.terms))
            ended += int((out.terminated | out.truncated).sum())
        assert ended > 0 and env.sampler.total_failures.sum() > 0 and int(env.sampler.updates[0]) == 60
        assert (env.episode.t < bank.clip_len[env.episode.clip]).all()


def test_random_numbers_are_uniform_counter_based_and_subset_free():
    rng = core.rng_init(np, 7)
    u = core.uniform(np, rng, 3, (4000,))
    assert u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.02 and abs(u.var() - 1 / 12) < 0.005
    np.testing.assert_array_equal(u, core.uniform(np, rng, 3, (4000,)))  # a pure function of the state
    assert not np.array_equal(u, core.uniform(np, core.rng_next(np, rng), 3, (4000,)))
    assert not np.array_equal(u, core.uniform(np, rng, 4, (4000,)))
    assert abs(np.corrcoef(u, core.uniform(np, rng, 4, (4000,)))[0, 1]) < 0.05
    z = core.normal(np, rng, 5, (20000,))
    assert abs(z.mean()) < 0.03 and abs(z.std() - 1) < 0.03
    # the draws of N envs are the first rows of the draws of more envs
    a, b = core.step_noise(np, rng, 3, 4), core.step_noise(np, rng, 5, 4)
    for x, y in zip(a.obs, b.obs, strict=True):
        np.testing.assert_array_equal(x, y[:3])


def test_adaptive_sampling_probabilities_known_answer_and_draws():
    clip_len = np.array([160, 60])  # start frames [0, 150) and [0, 50): 3 bins and 1 bin of 50 frames
    cfg = SamplingConfig(bin_s=1.0, uniform_floor=0.2, lookahead=0.5, decay=0.5, max_clip_share=1.0,
                         weighting="count")
    bins = sampling.make_bins(clip_len, 0.02, cfg)
    assert bins.valid.tolist() == [[1, 1, 1], [1, 0, 0]] and bins.frames.tolist() == [[50, 50, 50], [50, 0, 0]]
    state = sampling.init_state(bins)
    np.testing.assert_allclose(sampling.probabilities(np, state, bins, cfg), bins.valid / 4)  # uniform
    # two failures at frame 120 of clip 0 (bin 2), one at frame 10 of clip 1
    failed = np.array([True, True, True, False])
    state = sampling.update(np, state, bins, cfg, np.array([0, 0, 1, 1]), np.array([120, 120, 10, 10]),
                            np.array([100, 100, 0, 0]), failed, failed)
    np.testing.assert_allclose(state.failures, [[0, 0, 2], [1, 0, 0]])
    # score: bin (0,1) gets 0.5 * 2 from the bin after it; total 2 + 1 + 1 = 4
    p = sampling.probabilities(np, state, bins, cfg)
    np.testing.assert_allclose(p, 0.2 * bins.valid / 4 + 0.8 * np.array([[0, 1, 2], [1, 0, 0]]) / 4)
    state = sampling.update(np, state, bins, cfg, np.array([0]), np.array([0]), np.array([0]), np.array([False]),
                            np.array([False]))
    np.testing.assert_allclose(state.failures, [[0, 0, 1], [0.5, 0, 0]])  # decay 0.5 per env step
    assert state.updates.tolist() == [2] and state.total_failures.tolist() == [2, 1]
    r = core.rng_init(np, 0)
    u_bin, u_frame = core.uniform(np, r, 0, (20000,)), core.uniform(np, r, 1, (20000,))
    clip, start = sampling.draw(np, state, bins, cfg, u_bin, u_frame)
    bin_of = np.where(clip == 0, start // 50, 0)
    freq = np.array([[np.mean((clip == c) & (bin_of == b)) for b in range(3)] for c in range(2)])
    np.testing.assert_allclose(freq, sampling.probabilities(np, state, bins, cfg), atol=0.01)
    assert (start < np.maximum(1, clip_len[clip] - 10)).all() and (start >= 0).all()
    s = sampling.summary(state, bins, cfg)
    assert s.top_clip == 0 and 0 < s.entropy < 1
    uniform = sampling.summary(sampling.init_state(bins), bins, cfg)
    assert uniform.entropy == pytest.approx(1.0) and uniform.top_share == pytest.approx(0.75)


def test_no_clip_takes_more_than_its_share_of_the_failure_weighted_draws():
    """Ten clips, all failures on one: capped at 10 % of the adaptive part, the rest is drawn uniformly."""
    cfg = SamplingConfig(bin_s=1.0, uniform_floor=0.2, lookahead=0.0, decay=1.0, max_clip_share=0.1,
                         weighting="count")
    bins = sampling.make_bins(np.full(10, 60), 0.02, cfg)  # one bin per clip
    state = sampling.update(np, sampling.init_state(bins), bins, cfg, np.zeros(5, int), np.zeros(5, int),
                            np.zeros(5, int), np.ones(5, bool), np.ones(5, bool))
    p = sampling.probabilities(np, state, bins, cfg)[:, 0]
    # the failing clip: 0.2 x 1/10 + 0.8 x (0.1 + 0.9 x 1/10); every other clip: 0.2/10 + 0.8 x 0.9/10
    np.testing.assert_allclose(p, [0.02 + 0.8 * 0.19] + [0.02 + 0.072] * 9, rtol=1e-6)
    assert p.sum() == pytest.approx(1.0)
    uncapped = sampling.probabilities(np, state, bins, dataclasses.replace(cfg, max_clip_share=1.0))[:, 0]
    assert uncapped[0] == pytest.approx(0.02 + 0.8)
    assert np.asarray(sampling.probabilities(jnp, state, bins, cfg))[:, 0] == pytest.approx(p, rel=1e-5)


def test_failure_rates_weigh_a_rarely_drawn_failing_bin_as_much_as_a_often_drawn_one():
    """``weighting="rate"``: a bin's weight is the share of its episodes that failed (a moving average over
    its own episodes), not how often it was seen failing, so a clip drawn rarely but failing every time is
    not drowned by a clip drawn often and failing sometimes; the counts would say the opposite."""
    cfg = SamplingConfig(bin_s=1.0, uniform_floor=0.0, lookahead=0.0, decay=1.0, max_clip_share=1.0,
                         rate_step=0.5)
    bins = sampling.make_bins(np.full(2, 60), 0.02, cfg)  # two clips, one bin each
    state = sampling.init_state(bins)
    np.testing.assert_allclose(state.fail_rate, sampling.RATE_PRIOR)
    # clip 0: 2 episodes, both failed; clip 1: 40 episodes, 10 failed
    clip = np.array([0] * 2 + [1] * 40)
    failed = np.array([True] * 2 + [True] * 10 + [False] * 30)
    for i in range(len(clip)):  # one episode ends per env step, started at frame 3, ended at frame 20
        state = sampling.update(np, state, bins, cfg, clip[i:i + 1], np.array([20]), np.array([3]), failed[i:i + 1],
                                np.array([True]))
    assert state.fail_rate[0, 0] == pytest.approx(1 - 0.7 * 0.25)  # 0.3 -> 0.65 -> 0.825
    assert state.fail_rate[1, 0] == pytest.approx(0.0, abs=1e-5)  # its last 30 episodes succeeded
    p = sampling.probabilities(np, state, bins, cfg)[:, 0]
    assert p[0] > 0.99
    counts = sampling.probabilities(np, state, bins, dataclasses.replace(cfg, weighting="count"))[:, 0]
    np.testing.assert_allclose(counts, [2 / 12, 10 / 12], rtol=1e-6)
    # an env step that ends no episode leaves the rates alone; the same update in JAX gives the same
    same = sampling.update(np, state, bins, cfg, np.array([0]), np.array([20]), np.array([3]), np.array([False]),
                           np.array([False]))
    np.testing.assert_array_equal(same.fail_rate, state.fail_rate)
    in_jax = sampling.update(jnp, state, bins, cfg, jnp.array([0, 1]), jnp.array([20, 20]), jnp.array([3, 3]),
                             jnp.array([False, True]), jnp.array([True, True]))
    np.testing.assert_allclose(np.asarray(in_jax.fail_rate)[:, 0], [0.825 * 0.5, 0.5 * state.fail_rate[1, 0] + 0.5],
                               rtol=1e-5)
    with pytest.raises(ValueError, match="'rate' or 'count'"):
        sampling.make_bins(np.full(2, 60), 0.02, dataclasses.replace(cfg, weighting="often"))


def test_a_checkpoint_from_before_failure_rates_resumes_with_the_prior(tmp_path):
    """Snapshots written before ``SamplerState.fail_rate`` load; every bin starts at ``RATE_PRIOR``."""
    from genmimic.policy.checkpoint import read_checkpoint, save_checkpoint
    from genmimic.policy.env_core import EnvSnapshot

    bins = sampling.make_bins(np.full(3, 120), 0.02, SamplingConfig())
    new = sampling.init_state(bins)
    old = sampling.SamplerStateV1(new.failures + 1.0, new.updates + 5, new.total_failures + 2)
    snap = EnvSnapshot(*([np.zeros(2)] * 4), core.Episode(*([np.zeros(2)] * len(core.Episode._fields))),
                       core.rng_init(np, 0), old, np.zeros(2), np.zeros(2))
    save_checkpoint(tmp_path / "t.msgpack", ({"w": np.ones(3)}, np.zeros(2, np.uint32), snap), {"iteration": 1})
    _, _, loaded, info = read_checkpoint(tmp_path / "t.msgpack", {"w": np.zeros(3)}, np.zeros(2, np.uint32))
    assert isinstance(loaded.sampler, sampling.SamplerState) and info == {"iteration": 1}
    np.testing.assert_array_equal(loaded.sampler.failures, old.failures)
    np.testing.assert_allclose(loaded.sampler.fail_rate, np.full(new.failures.shape, sampling.RATE_PRIOR))


def test_a_teacher_checkpoint_from_before_the_learning_rate_loads_at_the_configured_rate(tmp_path):
    """Teacher checkpoints written before ``PPOState.learning_rate`` (the committed run's until 2026-12-05)
    load with the configured rate and everything else as saved; a new one round-trips its own rate."""
    import jax

    from genmimic.policy.checkpoint import read_teacher, save_checkpoint
    from genmimic.policy.config import PPOConfig
    from genmimic.policy.ppo import PPOStateV1, init_state

    cfg = PPOConfig(hidden=(8,), learning_rate=3e-4)
    key = jax.random.PRNGKey(0)
    state = init_state(key, 4, 2, cfg)
    trained = state._replace(iteration=jnp.asarray(7, jnp.int32),
                             learning_rate=jnp.asarray(5e-5, jnp.float32))
    save_checkpoint(tmp_path / "old.msgpack", (PPOStateV1(*trained[:4]), key), {"iteration": 7})
    save_checkpoint(tmp_path / "new.msgpack", (trained, key), {"iteration": 7})
    old, _, snap, info = read_teacher(tmp_path / "old.msgpack", state, key)
    assert int(old.iteration) == 7 and float(old.learning_rate) == pytest.approx(3e-4) and snap is None
    new, _, _, _ = read_teacher(tmp_path / "new.msgpack", state, key)
    assert float(new.learning_rate) == pytest.approx(5e-5) and info == {"iteration": 7}


def test_snapshot_restore_continues_exactly(bank):
    a = CpuVecEnv(bank, CFG, 6, threads=2, seed=4)
    a.reset()
    rng = np.random.default_rng(1)
    for _ in range(30):
        a.step(rng.normal(size=(6, 29)) * 0.3)
    b = CpuVecEnv(bank, CFG, 6, threads=1, seed=99)
    b.reset()
    b.restore(a.snapshot())
    for _ in range(30):
        act = rng.normal(size=(6, 29)) * 0.3
        oa, ob = a.step(act), b.step(act)
        for x, y in zip(oa, ob, strict=True):
            np.testing.assert_array_equal(x, y)
    for x, y in zip(a.snapshot(), b.snapshot(), strict=True):
        for u, v in zip(np.atleast_1d(x) if not isinstance(x, tuple) else x,
                        np.atleast_1d(y) if not isinstance(y, tuple) else y, strict=True):
            np.testing.assert_array_equal(u, v)


@pytest.mark.slow
def test_resumed_training_equals_an_uninterrupted_run(bank, tmp_path):
    """Teacher PPO for 4 iterations in one go, and 2 + 2 with a checkpoint in between: the same sampling
    weights, counters, env state, parameters and optimiser state."""
    import jax

    from genmimic.policy.checkpoint import load_checkpoint
    from genmimic.policy.train import make_env, read_checkpoint, train_teacher

    def cfg(iterations):
        return config_from_dict({"num_envs": 4, "threads": 2, "checkpoint_every": 100,
                                 "ppo": {"iterations": iterations, "unroll_length": 8, "hidden": [16]}})

    def run(path, plan):
        for iterations in plan:
            env = make_env(cfg(iterations), bank)
            train_teacher(path, cfg(iterations), env, show_progress=False)
            env.close()
        from genmimic.policy.ppo import init_state
        from genmimic.policy.train import teacher_sizes

        c = cfg(plan[-1])
        key = jax.random.PRNGKey(0)
        return read_checkpoint(path / "teacher.msgpack", init_state(key, *teacher_sizes(c), c.ppo), key)

    straight = run(tmp_path / "a", [4])
    resumed = run(tmp_path / "b", [2, 4])
    assert straight[3]["iteration"] == resumed[3]["iteration"] == 4
    assert straight[3]["env_steps"] == resumed[3]["env_steps"] == 4 * 8 * 4
    snap = straight[2]
    assert int(snap.sampler.updates[0]) == 32 and int(snap.rng.counter[0]) == 33  # 1 reset + 32 steps
    for x, y in zip(jax.tree.leaves(straight[:3]), jax.tree.leaves(resumed[:3]), strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    # the checkpoint round-trips: what was saved is what loads
    (_, _, again), _ = load_checkpoint(tmp_path / "a" / "teacher.msgpack", (straight[0], straight[1], snap))
    for x, y in zip(jax.tree.leaves(snap), jax.tree.leaves(again), strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def test_checkpoints_without_or_with_a_mismatched_env_snapshot_still_load(bank, tmp_path, caplog):
    """Runs from before env snapshots (a 2-tuple) resume; a snapshot for another number of envs is skipped."""
    import jax

    from genmimic.policy.checkpoint import save_checkpoint
    from genmimic.policy.ppo import init_state
    from genmimic.policy.train import load_training_checkpoint, save_training_checkpoint, teacher_sizes

    cfg = config_from_dict({"ppo": {"hidden": [8]}})
    key = jax.random.PRNGKey(0)
    state = init_state(key, *teacher_sizes(cfg), cfg.ppo)
    old = tmp_path / "old.msgpack"
    save_checkpoint(old, (state, key), {"iteration": 7})
    env = CpuVecEnv(bank, CFG, 2, threads=1, seed=0)
    _, t0 = env.reset()
    got, _, info = load_training_checkpoint(old, init_state(jax.random.PRNGKey(1), *teacher_sizes(cfg), cfg.ppo),
                                            key, env)
    assert info["iteration"] == 7
    np.testing.assert_array_equal(got.params.log_std, state.params.log_std)
    np.testing.assert_array_equal(env.snapshot().teacher, t0)  # the env keeps its fresh reset
    four = CpuVecEnv(bank, CFG, 4, threads=1, seed=5)
    four.reset()
    new = tmp_path / "new.msgpack"
    save_training_checkpoint(new, state, key, four, {"iteration": 8})
    with caplog.at_level("WARNING"):
        _, _, info = load_training_checkpoint(new, state, key, env)
    assert info["iteration"] == 8 and "another number of envs" in caplog.text
    np.testing.assert_array_equal(env.snapshot().teacher, t0)


@pytest.mark.parametrize("to_limits", [False, True])
def test_both_envs_clip_each_action_to_its_joints_clip(bank, to_limits):
    """A wrist-pitch action of 20 reaches the PD target with the clip to limits (the batched env and the
    single one alike) and is held at ACTION_CLIP without it; NaN acts as 0."""
    from genmimic.core.runtime.policy_spec import ACTION_CLIP
    from genmimic.policy.config import action_scale

    cfg = dataclasses.replace(CFG, action_clip_to_limits=to_limits)
    wrist = 20  # left_wrist_pitch_joint
    action = np.zeros((2, 29))
    action[:, wrist] = 20.0
    action[1, 0] = np.nan
    expected = 20.0 if to_limits else ACTION_CLIP
    target = np.asarray(core.DEFAULT)[wrist] + action_scale()[wrist] * expected
    with CpuVecEnv(bank, cfg, 2, threads=1, seed=0, randomize=False) as env:
        env.reset()
        env.step(action)
        np.testing.assert_allclose(env.ctrl[:, wrist], target)
        assert env.ctrl[1, 0] == pytest.approx(core.DEFAULT[0])
    single = TrackingEnv(bank, cfg, seed=0, randomize=False)
    single.reset(clip=0, start=0)
    single.physics_step(action[0])
    assert single.data.ctrl[wrist] == pytest.approx(target)


@pytest.mark.parametrize("randomize", [True, False])
def test_reset_joint_noise_moves_only_the_named_joints_within_amplitude_and_limits(bank, randomize):
    """Reference state init with joint noise: the arm joints start up to +-0.3 rad off the reference (the PD
    targets with them), every other joint on it; without randomisation, or in the single env without noise,
    exactly on it."""
    cfg = dataclasses.replace(CFG, randomization=dataclasses.replace(CFG.randomization, reset_joint_noise=0.3))
    arm = np.array(["shoulder" in n or "elbow" in n or "wrist" in n for n in core.g1.JOINT_NAMES])
    lower = np.array([j.lower for j in core.g1.JOINTS])
    upper = np.array([j.upper for j in core.g1.JOINTS])
    with CpuVecEnv(bank, cfg, 16, threads=1, seed=4, randomize=randomize) as env:
        env.reset()
        ep = env.episode
        ref = bank.dof_pos[core.frame(np, env.statics, ep.clip, ep.t)]
        q = env.physics[:, env.qpos_cols][:, np.asarray(env.statics.qpos_idx)]
        off = q - ref
        np.testing.assert_allclose(env.ctrl, q, atol=1e-6)
        np.testing.assert_allclose(off[:, ~arm], 0.0, atol=1e-6)
        assert (q >= lower - 1e-6).all() and (q <= upper + 1e-6).all()
        if randomize:
            assert np.abs(off[:, arm]).max() <= 0.3 + 1e-6 and np.abs(off[:, arm]).mean() > 0.05
        else:
            np.testing.assert_allclose(off, 0.0, atol=1e-6)
    single = TrackingEnv(bank, cfg, seed=0, randomize=randomize)
    single.reset(clip=0, start=5)
    off = single.data.qpos[single.qpos_idx] - bank.dof_pos[bank.frame(0, 5)]
    np.testing.assert_allclose(off[~arm], 0.0, atol=1e-9)
    assert np.abs(off).max() <= 0.3 + 1e-9 and (np.abs(off[arm]).max() > 0.0) == randomize


def test_teacher_clean_goals_gives_the_teacher_the_goals_without_their_noise(bank):
    """With ``noise.teacher_clean_goals`` the teacher sees exactly what it would see with no goal noise at all,
    while the student keeps the noisy goals; physics and proprioception noise are unchanged."""
    noise = CFG.noise
    split = dataclasses.replace(CFG, noise=dataclasses.replace(noise, teacher_clean_goals=True))
    quiet = dataclasses.replace(CFG, noise=dataclasses.replace(noise, goal_jitter=0.0, goal_drop_prob=0.0,
                                                               goal_limb_scale=0.0))
    n, steps = 4, 5
    with CpuVecEnv(bank, split, n, threads=2, seed=3) as a, CpuVecEnv(bank, quiet, n, threads=2, seed=3) as b:
        (sa, ta), (sb, tb) = a.reset(), b.reset()
        for _ in range(steps):
            np.testing.assert_allclose(ta, tb, rtol=1e-6, atol=1e-6)
            assert np.abs(sa - sb).max() > 1e-3  # the student's goals still carry the noise
            np.testing.assert_allclose(sb, tb[:, :sb.shape[1]], rtol=1e-6, atol=1e-6)
            oa, ob = a.step(np.zeros((n, 29))), b.step(np.zeros((n, 29)))
            sa, ta, sb, tb = oa.student, oa.teacher, ob.student, ob.teacher


def test_a_paired_motion_gives_the_student_its_goal_keypoints_and_the_teacher_the_clean_ones(bank):
    """A bank whose goal keypoints differ from its keypoints (a corpus's ``goals/`` pair): the teacher's
    observations, the rewards and the physics are those of the unpaired bank, only the student's goals move,
    in the batched env and in the per-env one alike."""
    cfg = dataclasses.replace(CFG, noise=dataclasses.replace(CFG.noise, teacher_clean_goals=True))
    paired = bank._replace(goal_keypoints=bank.keypoints + np.array([0.0, 0.0, 0.1]))
    n = 4
    with CpuVecEnv(bank, cfg, n, threads=2, seed=3) as a, CpuVecEnv(paired, cfg, n, threads=2, seed=3) as b:
        (sa, ta), (sb, tb) = a.reset(), b.reset()
        for _ in range(3):
            np.testing.assert_array_equal(ta, tb)
            assert np.abs(sa - sb).max() > 0.05
            oa, ob = a.step(np.zeros((n, 29))), b.step(np.zeros((n, 29)))
            np.testing.assert_array_equal(oa.reward, ob.reward)
            sa, ta, sb, tb = oa.student, oa.teacher, ob.student, ob.teacher
    one, two = TrackingEnv(bank, cfg, seed=0, randomize=False), TrackingEnv(paired, cfg, seed=0, randomize=False)
    (s1, t1), (s2, t2) = one.reset(clip=0, start=5), two.reset(clip=0, start=5)
    np.testing.assert_array_equal(t1, t2)
    assert np.abs(s1 - s2).max() > 0.05


@pytest.mark.parametrize("clean", [False, True])
def test_past_goal_frames_extend_only_the_students_observation(bank, clean):
    """``student_goal_frames`` with past frames: the teacher's observations, the rewards and the physics are
    those of the default config, the student's observation starts as before, and each past frame's block
    holds that frame's goal keypoints (held at the clip's first frame before its start), known answer."""
    noise = dataclasses.replace(CFG.noise, teacher_clean_goals=clean)
    base = dataclasses.replace(CFG, noise=noise)
    past = dataclasses.replace(base, student_goal_frames=(*CFG.future_frames, -3, -50))
    block = 19 * 3
    n = 4
    with (CpuVecEnv(bank, base, n, threads=2, seed=3, randomize=False) as a,
          CpuVecEnv(bank, past, n, threads=2, seed=3, randomize=False) as b):
        (sa, ta), (sb, tb) = a.reset(), b.reset()
        for _ in range(3):
            np.testing.assert_array_equal(ta, tb)
            assert sb.shape == (n, sa.shape[1] + 2 * block)
            np.testing.assert_array_equal(sb[:, :sa.shape[1]], sa)
            ep, st = b.episode, b.statics
            robot_quat = b.physics[:, b.qpos_cols][:, 3:7]
            ref_root = st.bank.root_pos[core.frame(np, st, ep.clip, ep.t)]
            for j, back in enumerate((3, 50)):
                rows = core.frame(np, st, ep.clip, np.maximum(ep.t - back, 0))
                want = obs_mod.goal_features(np, st.bank.keypoints[rows][:, None], ref_root, robot_quat)
                got = sb[:, sa.shape[1] + j * block:sa.shape[1] + (j + 1) * block]
                np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
            oa, ob = a.step(np.zeros((n, 29))), b.step(np.zeros((n, 29)))
            np.testing.assert_array_equal(oa.reward, ob.reward)
            sa, ta, sb, tb = oa.student, oa.teacher, ob.student, ob.teacher
