import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genmimic.policy.config import PPOConfig
from genmimic.policy.mirror import MirrorMap
from genmimic.policy.networks import policy_mean
from genmimic.policy.ppo import (
    EpisodeTracker,
    action_bound_loss,
    adapt_learning_rate,
    clipped_surrogate,
    collect,
    gae,
    gaussian_kl,
    gaussian_log_prob,
    init_state,
    make_update,
    symmetry_loss,
)
from genmimic.policy.toy_env import ACT_MIRROR, OBS_MIRROR, PointEnv


def test_gae_matches_hand_worked_values():
    # one env, 3 steps, gamma 0.5, lambda 0.5; the episode ends after step 2 (index 1)
    r = jnp.array([[1.0], [2.0], [3.0]])
    v = jnp.array([[0.5], [1.0], [2.0]])
    d = jnp.array([[0.0], [1.0], [0.0]])
    adv, ret = gae(r, v, d, jnp.array([4.0]), 0.5, 0.5)
    # deltas: 1 + .5*1 - .5 = 1;  2 + 0 - 1 = 1;  3 + .5*4 - 2 = 3
    # advantages (backwards): A2 = 3;  A1 = 1 (episode ended);  A0 = 1 + .25*1 = 1.25
    np.testing.assert_allclose(adv[:, 0], [1.25, 1.0, 3.0])
    np.testing.assert_allclose(ret[:, 0], [1.75, 2.0, 5.0])


def test_clipped_surrogate_and_log_prob_match_hand_values():
    ratio, adv = jnp.array([0.5, 1.5, 1.1]), jnp.array([1.0, 1.0, -2.0])
    # min(r A, clip(r) A): 0.5, 1.2, -2.2 -> loss = -(0.5 + 1.2 - 2.2) / 3
    assert float(clipped_surrogate(ratio, adv, 0.2)) == pytest.approx(0.5 / 3)
    lp = gaussian_log_prob(jnp.array([0.0, 1.0]), jnp.log(jnp.array([1.0, 2.0])), jnp.array([1.0, 1.0]))
    assert float(lp) == pytest.approx(-0.5 - np.log(2) - np.log(2 * np.pi))


def test_bound_loss_is_zero_inside_the_bounds_and_pulls_a_saturated_mean_back():
    inside = jnp.array([[4.9, -5.0, 0.0], [1.0, 2.0, -3.0]])
    assert float(action_bound_loss(inside, -5.0, 5.0)) == 0.0
    beyond = jnp.array([[7.0, -6.0, 0.0], [5.0, 0.0, 0.0]])  # (2^2 + 1^2) and 0, over 2 rows
    assert float(action_bound_loss(beyond, -5.0, 5.0)) == pytest.approx(2.5)
    grad = jax.grad(lambda m: action_bound_loss(m, -5.0, 5.0))(beyond)
    np.testing.assert_allclose(grad, [[2.0, -1.0, 0.0], [0.0, 0.0, 0.0]])  # back towards the bounds
    low, high = jnp.array([-1.0, -5.0, 0.0]), jnp.array([0.5, 5.0, 2.0])  # per joint
    assert float(action_bound_loss(jnp.array([[1.5, 0.0, -1.0]]), low, high)) == pytest.approx(1.0 + 1.0)


def test_the_default_bounds_are_the_joint_limits_in_action_units():
    """An action at a default bound puts the PD target on the joint's limit (or at the clip); the ankle roll
    (+-0.2618 rad, default 0) is bounded well inside the clip."""
    from genmimic.core import g1_constants as g1
    from genmimic.core.runtime.policy_spec import ACTION_CLIP
    from genmimic.policy.config import action_bounds, action_scale

    low, high = (np.asarray(b) for b in action_bounds())
    target = np.asarray(g1.DEFAULT_DOF_POS) + np.asarray(action_scale()) * high
    upper = np.array([j.upper for j in g1.JOINTS])
    at_limit = np.isclose(target, upper)
    assert np.all(at_limit | np.isclose(high, ACTION_CLIP)) and np.all(target <= upper + 1e-9)
    assert np.all(low < 0) and np.all(high > 0)
    ankle = g1.JOINT_NAMES.index("left_ankle_roll_joint")
    assert high[ankle] == pytest.approx(0.2618 / action_scale()[ankle], rel=1e-3) and high[ankle] < 1.0
    beyond = np.zeros((1, 29), np.float32)
    beyond[0, ankle] = 3.3  # the teacher's ankle-roll mean at 153.7 M steps
    loss = action_bound_loss(jnp.asarray(beyond), low, high)
    assert float(loss) == pytest.approx((3.3 - high[ankle]) ** 2, rel=1e-4)


def test_symmetry_loss_is_zero_for_an_equivariant_policy_only():
    m_obs = MirrorMap(np.arange(4), np.array([1.0, -1.0, 1.0, -1.0]))
    m_act = MirrorMap(np.arange(2), np.array([1.0, -1.0]))
    x = jax.random.normal(jax.random.PRNGKey(0), (16, 4))
    good = lambda o: o[:, 2:] - o[:, :2]  # noqa: E731 - moves toward the target: mirror-equivariant
    bad = lambda o: o[:, 2:] - o[:, :2] + jnp.array([0.0, 0.3])  # noqa: E731 - a bias to the left
    assert float(symmetry_loss(good, x, m_obs, m_act)) == pytest.approx(0.0, abs=1e-10)
    assert float(symmetry_loss(bad, x, m_obs, m_act)) == pytest.approx(0.36, rel=1e-5)


def test_a_short_ppo_run_improves_the_return_on_a_tiny_task():
    cfg = PPOConfig(hidden=(32, 32), learning_rate=3e-3, unroll_length=20, num_minibatches=4, num_epochs=4,
                    init_log_std=-0.5, entropy_coef=0.0)
    env = PointEnv(num_envs=32, horizon=20, seed=0)
    key = jax.random.PRNGKey(0)
    state = init_state(key, 4, 2, cfg)
    update = make_update(cfg, OBS_MIRROR, ACT_MIRROR)
    obs, _ = env.reset()
    tracker = EpisodeTracker(32)
    returns = []
    for _ in range(30):
        key, k1, k2 = jax.random.split(key, 3)
        rollout, boot, obs, stats = collect(env, state, obs, k1, cfg.unroll_length, cfg.discount, tracker)
        state, loss = update(state, rollout, boot, k2)
        returns.append(stats.episode_return)
        assert np.isfinite(float(loss.total))
    first, last = np.mean(returns[:3]), np.mean(returns[-3:])
    assert last > first + 0.3 * abs(first), (first, last)


def test_the_action_noise_never_exceeds_max_std_after_an_update():
    """``PPOConfig.max_std`` projects log_std after each update: a large entropy bonus pushes the noise up,
    the cap holds it (and, without a cap, the same update raises it past the cap)."""
    env = PointEnv(num_envs=16, horizon=10, seed=0)
    key = jax.random.PRNGKey(0)
    for max_std, below in ((0.3, True), (0.0, False)):
        cfg = PPOConfig(hidden=(16,), learning_rate=5e-2, unroll_length=10, num_minibatches=2, num_epochs=2,
                        init_log_std=np.log(0.29), entropy_coef=10.0, max_std=max_std)
        state = init_state(key, 4, 2, cfg)
        update = make_update(cfg, OBS_MIRROR, ACT_MIRROR)
        obs, _ = env.reset()
        for i in range(3):
            rollout, boot, obs, _ = collect(env, state, obs, jax.random.PRNGKey(i), 10, cfg.discount,
                                            EpisodeTracker(16))
            state, _ = update(state, rollout, boot, jax.random.PRNGKey(100 + i))
        std = np.exp(np.asarray(state.params.log_std))
        assert (std <= 0.3 + 1e-6).all() == below, std


def test_gaussian_kl_matches_the_closed_form_and_a_monte_carlo_estimate():
    mu_p, ls_p, mu_q, ls_q = np.array([0.3, -1.0]), np.log([0.5, 0.2]), np.array([0.1, -0.8]), np.log([0.4, 0.3])
    want = np.sum(np.log(np.exp(ls_q) / np.exp(ls_p)) + (np.exp(ls_p) ** 2 + (mu_p - mu_q) ** 2)
                  / (2 * np.exp(ls_q) ** 2) - 0.5)
    assert float(gaussian_kl(mu_p, ls_p, mu_q, ls_q)) == pytest.approx(want, rel=1e-6)
    x = mu_p + np.exp(ls_p) * np.random.default_rng(0).normal(size=(200_000, 2))
    mc = np.mean(np.asarray(gaussian_log_prob(mu_p, ls_p, x)) - np.asarray(gaussian_log_prob(mu_q, ls_q, x)))
    assert mc == pytest.approx(want, rel=0.02)
    assert float(gaussian_kl(mu_p, ls_p, mu_p, ls_p)) == pytest.approx(0.0, abs=1e-7)


def test_the_adaptive_schedule_follows_rsl_rl_within_its_bounds():
    cfg = PPOConfig(schedule="adaptive", desired_kl=0.01, learning_rate_bounds=(1e-5, 1e-2))
    lr = jnp.float32(3e-4)
    assert float(adapt_learning_rate(lr, 0.05, cfg)) == pytest.approx(2e-4)  # KL over 2 x desired: / 1.5
    assert float(adapt_learning_rate(lr, 0.001, cfg)) == pytest.approx(4.5e-4)  # under half: x 1.5
    assert float(adapt_learning_rate(lr, 0.015, cfg)) == pytest.approx(3e-4)  # in between: kept
    assert float(adapt_learning_rate(lr, 0.0, cfg)) == pytest.approx(3e-4)  # no divergence measured: kept
    assert float(adapt_learning_rate(jnp.float32(1e-5), 1.0, cfg)) == pytest.approx(1e-5)  # the floor
    assert float(adapt_learning_rate(jnp.float32(9e-3), 0.0001, cfg)) == pytest.approx(1e-2)  # the ceiling
    fixed = dataclasses.replace(cfg, schedule="fixed")
    assert float(adapt_learning_rate(lr, 10.0, fixed)) == pytest.approx(3e-4)
    # a learner resumed from an adaptive run at 8e-5 trains at the configured rate once the schedule is fixed
    assert float(adapt_learning_rate(jnp.float32(8e-5), 0.0, fixed)) == pytest.approx(fixed.learning_rate)


def test_an_adaptive_update_keeps_the_policy_near_the_rollouts_where_a_fixed_rate_runs_away():
    """Too high a learning rate moves a fixed-rate policy far from the rollout's (the collapse of the G1
    teacher at 541.9 M env steps began so); the adaptive schedule lowers the rate and keeps the KL divergence
    near ``desired_kl``; the state carries the rate to the next update."""
    env = PointEnv(num_envs=32, horizon=10, seed=0)
    kls, rates = {}, {}
    for schedule in ("fixed", "adaptive"):
        cfg = PPOConfig(hidden=(32, 32), learning_rate=3e-2, unroll_length=10, num_minibatches=4, num_epochs=4,
                        entropy_coef=0.0, schedule=schedule, desired_kl=0.01)
        state = init_state(jax.random.PRNGKey(0), 4, 2, cfg)
        update = make_update(cfg, OBS_MIRROR, ACT_MIRROR)
        obs, _ = env.reset()
        kl = []
        for i in range(4):
            rollout, boot, obs, _ = collect(env, state, obs, jax.random.PRNGKey(i), 10, cfg.discount,
                                            EpisodeTracker(32))
            state, info = update(state, rollout, boot, jax.random.PRNGKey(100 + i))
            kl.append(float(info.kl))
        kls[schedule], rates[schedule] = kl, float(state.learning_rate)
    assert rates["fixed"] == pytest.approx(3e-2) and rates["adaptive"] < 3e-3, rates
    settled = np.mean(kls["adaptive"][1:])  # after the first update's rate came down
    assert settled < 2 * 0.01 and np.mean(kls["fixed"]) > 4 * settled, kls


def test_the_normaliser_is_exact_without_a_cap_and_follows_a_shift_with_one():
    from genmimic.policy.networks import normalizer_init, normalizer_update

    rng = np.random.default_rng(0)
    first, later = rng.normal(0.0, 1.0, (20, 100, 2)), rng.normal(5.0, 2.0, (20, 100, 2))
    exact, capped = normalizer_init(2), normalizer_init(2)
    for batch in (*first, *later):
        exact = normalizer_update(exact, jnp.asarray(batch))
        capped = normalizer_update(capped, jnp.asarray(batch), max_count=500.0)
    both = np.concatenate([first, later]).reshape(-1, 2)
    np.testing.assert_allclose(exact.mean, both.mean(0), atol=1e-4)  # every sample alike
    np.testing.assert_allclose(exact.var, both.var(0), rtol=1e-3)
    assert float(capped.count) == 500.0
    np.testing.assert_allclose(capped.mean, 5.0, atol=0.3)  # the old data forgotten
    np.testing.assert_allclose(np.sqrt(capped.var), 2.0, atol=0.3)


def test_reference_loss_pulls_the_weighted_means_to_the_reference_actions_within_the_bounds():
    """Known answers: zero where the mean is the reference's action, the target clipped to the bounds, and
    unweighted actions left alone; its gradient points towards the target."""
    from genmimic.policy.ppo import ReferencePrior, reference_action_loss

    prior = ReferencePrior(start=1, scale=jnp.array([0.5, 0.5, 1.0]), weight=jnp.array([1.0, 1.0, 0.0]))
    obs = jnp.array([[9.0, 0.5, -1.0, 3.0, 7.0]])  # reference block [0.5, -1.0, 3.0] -> actions [1, -2, 3]
    assert float(reference_action_loss(jnp.array([[1.0, -2.0, -4.0]]), obs, prior)) == 0.0
    # in radians of PD target: (0.5 * 1)^2 + (0.5 * 2)^2
    assert float(reference_action_loss(jnp.array([[0.0, 0.0, 0.0]]), obs, prior)) == pytest.approx(0.25 + 1)
    low, high = jnp.array([-5.0, -1.5, -5.0]), jnp.array([5.0, 5.0, 5.0])  # -2 clipped to -1.5
    assert float(reference_action_loss(jnp.array([[1.0, -1.5, 0.0]]), obs, prior, low, high)) == 0.0
    grad = jax.grad(lambda m: reference_action_loss(m, obs, prior))(jnp.array([[2.0, 0.0, 0.0]]))
    np.testing.assert_allclose(grad, [[0.5, 1.0, 0.0]])  # 2 s^2 (mu - target)


def test_reference_loss_with_feedback_targets_the_lead_a_pd_joint_needs():
    """Known answer: with feedback gain k a joint's target is r + k (r - q), r the reference's angle and q the
    robot's (both read from the observation); joints with k = 0 keep the target r."""
    from genmimic.policy.ppo import ReferencePrior, reference_action_loss

    prior = ReferencePrior(start=2, scale=jnp.array([0.5, 0.5]), weight=jnp.array([1.0, 1.0]),
                           feedback=jnp.array([1.0, 0.0]), dof_start=0)
    obs = jnp.array([[0.2, 0.3, 0.5, -1.0]])  # q = [0.2, 0.3], r = [0.5, -1.0]
    # targets [0.5 + (0.5 - 0.2), -1.0] rad -> actions [1.6, -2.0]
    assert float(reference_action_loss(jnp.array([[1.6, -2.0]]), obs, prior)) == pytest.approx(0.0, abs=1e-12)
    assert float(reference_action_loss(jnp.array([[1.0, -2.0]]), obs, prior)) == pytest.approx((0.5 * 0.6) ** 2)


def test_the_g1_reference_prior_reads_the_reference_arm_angles_from_the_teacher_observation(bank):
    """The prior's block is the reference's joint angles about the default pose in the teacher observation
    the env builds, and it weights the joints that turn a limb or the body about its own axis only (shoulder
    yaw, the wrists, hip and waist yaw: the configured ``reference_joints``), not the arms' pitch, roll and
    elbow joints, whose PD targets must lead the reference in fast motion."""
    from genmimic.core import g1_constants as g1
    from genmimic.policy.config import action_scale, default_config
    from genmimic.policy.env_cpu import TrackingEnv
    from genmimic.policy.train import reference_prior

    cfg = default_config()
    prior = reference_prior(cfg)
    env = TrackingEnv(bank, dataclasses.replace(cfg.env), seed=0, randomize=False)
    _, teacher = env.reset(clip=0, start=7)
    ref = bank.dof_pos[bank.frame(0, 7)] - np.asarray(g1.DEFAULT_DOF_POS)
    np.testing.assert_allclose(teacher[prior.start:prior.start + 29], ref, atol=1e-6)
    np.testing.assert_allclose(prior.scale, action_scale(), rtol=1e-6)
    pulled = [n for n, w in zip(g1.JOINT_NAMES, prior.weight, strict=True) if w > 0]
    assert set(pulled) == {"left_hip_yaw_joint", "right_hip_yaw_joint", "waist_yaw_joint", "left_shoulder_yaw_joint",
                           "right_shoulder_yaw_joint"} | {f"{side}_wrist_{axis}_joint" for side in ("left", "right")
                                                         for axis in ("roll", "pitch", "yaw")}
    arms_only = reference_prior(dataclasses.replace(cfg, ppo=dataclasses.replace(
        cfg.ppo, reference_joints=("shoulder", "elbow", "wrist"))))
    assert int(np.sum(arms_only.weight)) == 14
    assert prior.feedback is None  # reference_feedback 0: the arms' load-bearing joints not pulled
    fed = reference_prior(dataclasses.replace(cfg, ppo=dataclasses.replace(cfg.ppo, reference_feedback=1.0)))
    led = {n for n, k in zip(g1.JOINT_NAMES, fed.feedback, strict=True) if k == 1.0}
    assert led == {f"{side}_{j}_joint" for side in ("left", "right")
                   for j in ("shoulder_pitch", "shoulder_roll", "elbow")}
    assert set(pulled) | led == {n for n, w in zip(g1.JOINT_NAMES, fed.weight, strict=True) if w > 0}
    q = env.data.qpos[7:] - np.asarray(g1.DEFAULT_DOF_POS)  # the robot's angles at the reference state init
    np.testing.assert_allclose(teacher[fed.dof_start:fed.dof_start + 29], q, atol=1e-5)


@pytest.mark.parametrize("feedback", [None, np.array([1.0, 0.0])], ids=["reference", "with-feedback"])
def test_a_reference_prior_update_moves_the_arm_means_towards_the_reference(feedback):
    """One jitted PPO update with only the prior weighted (no advantage signal: equal rewards) brings the
    weighted means closer to the reference's actions (with feedback: to r + k (r - q)); with coef 0 the
    update is the one without a prior."""
    from genmimic.policy.ppo import ReferencePrior, Transition, reference_action_loss

    obs_mirror = MirrorMap(np.arange(4), np.ones(4))
    act_mirror = MirrorMap(np.arange(2), np.ones(2))
    prior = ReferencePrior(start=2, scale=np.array([0.5, 0.5]), weight=np.array([1.0, 0.0]), feedback=feedback)
    cfg = PPOConfig(hidden=(16,), num_minibatches=1, num_epochs=32, sym_coef=0.0, learning_rate=1e-2,
                    reference_coef=1.0, schedule="fixed")
    key = jax.random.PRNGKey(0)
    T, N = 4, 8
    obs = jax.random.normal(key, (T, N, 4))
    rollout = Transition(obs, jnp.zeros((T, N, 2)), jnp.zeros((T, N)), jnp.ones((T, N)), jnp.zeros((T, N)),
                         jnp.zeros((T, N)), jnp.zeros((T, N, 2)))
    state = init_state(key, 4, 2, cfg)
    loss = lambda s: float(reference_action_loss(  # noqa: E731
        policy_mean(s.params.policy, s.normalizer, obs.reshape(-1, 4)), obs.reshape(-1, 4), prior))
    new, info = make_update(cfg, obs_mirror, act_mirror, prior=prior)(state, rollout, jnp.zeros(N), key)
    assert float(info.reference) > 0 and loss(new) < 0.5 * loss(state)
    zero = dataclasses.replace(cfg, reference_coef=0.0)
    off, _ = make_update(zero, obs_mirror, act_mirror, prior=prior)(state, rollout, jnp.zeros(N), key)
    plain, info_plain = make_update(zero, obs_mirror, act_mirror)(state, rollout, jnp.zeros(N), key)
    assert float(info_plain.reference) == 0.0
    for a, b in zip(jax.tree.leaves(off.params), jax.tree.leaves(plain.params), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)  # coef 0: the prior is off
