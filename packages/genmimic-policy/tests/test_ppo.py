import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genmimic.policy.config import PPOConfig
from genmimic.policy.mirror import MirrorMap
from genmimic.policy.ppo import (
    EpisodeTracker,
    action_bound_loss,
    clipped_surrogate,
    collect,
    gae,
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
