"""PPO with a symmetry loss, a bounds loss and a reference prior, ``L = L_PPO + sym_coef * L_SYM + bound_coef *
L_BOUND + reference_coef * L_REF``, as small pure JAX functions.

``gae`` and the losses are plain functions (tested against hand-worked values); :func:`make_update`
builds one jitted update over an immutable :class:`PPOState`; :func:`collect` runs a rollout on any
vector env with the ``reset() / step(actions) -> StepBatch`` interface (CPU or MJX backend).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from genmimic.core.runtime.policy_spec import ACTION_CLIP

from .config import PPOConfig
from .mirror import MirrorMap
from .networks import (
    ActorCriticParams,
    Normalizer,
    init_actor_critic,
    normalizer_init,
    normalizer_update,
    policy_mean,
    value_fn,
)


class Transition(NamedTuple):
    """A rollout, each field (T, N, ...): obs, action, log_prob, reward, done (1.0 where the episode
    ended by failure or truncation), value (critic at obs), and ``action_mean`` (T, N, A), the policy's
    mean at obs (the KL divergence of the updated policy from the rollout's is taken against it)."""

    obs: Any
    action: Any
    log_prob: Any
    reward: Any
    done: Any
    value: Any
    action_mean: Any


class PPOState(NamedTuple):
    """The learner: ``learning_rate`` is the rate of the next step (``PPOConfig.schedule`` "adaptive" moves it,
    :func:`adapt_learning_rate`; kept in the checkpoint so a resumed run continues at it)."""

    params: ActorCriticParams
    opt_state: Any
    normalizer: Normalizer
    iteration: Any
    learning_rate: Any


class PPOStateV1(NamedTuple):
    """:class:`PPOState` as checkpoints before 2026-12-05 hold it (no learning rate;
    :func:`genmimic.policy.checkpoint.read_teacher` reads them)."""

    params: ActorCriticParams
    opt_state: Any
    normalizer: Normalizer
    iteration: Any


class LossInfo(NamedTuple):
    total: Any
    policy: Any
    value: Any
    entropy: Any
    symmetry: Any
    approx_kl: Any
    bound: Any
    reference: Any
    kl: Any  # mean KL divergence of the policy from the rollout's (diagonal Gaussians, exact)


class ReferencePrior(NamedTuple):
    """Where the policy's mean actions are pulled towards the reference's own joint angles
    (:func:`reference_action_loss`): ``start``, the offset in the (raw) observation of the block of reference
    joint angles relative to the default pose (A,) [rad] (the teacher's ``ref_dof_pos`` block); ``scale`` (A,)
    [rad per action unit], the action scale; ``weight`` (A,), how much each action is pulled (0: not);
    ``feedback`` (A,) [1], a gain ``k`` that moves a joint's target from the reference's angle ``r`` to
    ``r + k (r - q)``, ``q`` the robot's own angle about the default pose read from the block at
    ``dof_start`` (the teacher's ``dof_pos[t]``): the lead a PD joint needs to reach ``r`` under load
    (None: no feedback on any joint)."""

    start: int
    scale: Any
    weight: Any
    feedback: Any = None
    dof_start: int = 0


def gae(rewards: jax.Array, values: jax.Array, dones: jax.Array, bootstrap: jax.Array, discount: float,
        lam: float) -> tuple[jax.Array, jax.Array]:
    """Generalised advantage estimation over time-major arrays (T, N).

    ``dones[t]`` = 1 when the episode ended after step t (no bootstrapping through it);
    ``bootstrap`` (N,) is the value of the state after the last step. Returns (advantages, returns).
    """
    next_values = jnp.concatenate([values[1:], bootstrap[None]], 0)
    deltas = rewards + discount * (1.0 - dones) * next_values - values

    def back(carry, x):
        delta, done = x
        adv = delta + discount * lam * (1.0 - done) * carry
        return adv, adv

    _, adv = jax.lax.scan(back, jnp.zeros_like(bootstrap), (deltas, dones), reverse=True)
    return adv, adv + values


def gaussian_log_prob(mean: jax.Array, log_std: jax.Array, x: jax.Array) -> jax.Array:
    """Log density (...,) of a diagonal Gaussian, summed over the last axis."""
    z = (x - mean) * jnp.exp(-log_std)
    return jnp.sum(-0.5 * z * z - log_std - 0.5 * jnp.log(2 * jnp.pi), -1)


def gaussian_kl(mean_p: jax.Array, log_std_p: jax.Array, mean_q: jax.Array, log_std_q: jax.Array) -> jax.Array:
    """KL(p || q) (...,) of diagonal Gaussians, summed over the last axis."""
    var_p, var_q = jnp.exp(2 * log_std_p), jnp.exp(2 * log_std_q)
    return jnp.sum(log_std_q - log_std_p + (var_p + (mean_p - mean_q) ** 2) / (2 * var_q) - 0.5, -1)


def adapt_learning_rate(learning_rate: jax.Array, kl: jax.Array, cfg: PPOConfig) -> jax.Array:
    """The next step's learning rate under ``cfg.schedule``: "fixed" is ``cfg.learning_rate`` (also for a learner
    resumed from an adaptive run, whose state carries its own rate); "adaptive" (rsl_rl's schedule,
    the one BeyondMimic and legged_gym train with) divides it by 1.5 where ``kl`` (the mean KL divergence of
    the current policy from the rollout's) exceeds ``2 cfg.desired_kl`` and multiplies it by 1.5 where ``kl``
    is positive and under ``cfg.desired_kl / 2``, within ``cfg.learning_rate_bounds``."""
    if cfg.schedule == "fixed":
        return jnp.asarray(cfg.learning_rate, jnp.asarray(learning_rate).dtype)
    low, high = cfg.learning_rate_bounds
    lr = jnp.where(kl > 2 * cfg.desired_kl, learning_rate / 1.5,
                   jnp.where((kl < cfg.desired_kl / 2) & (kl > 0), learning_rate * 1.5, learning_rate))
    return jnp.clip(lr, low, high).astype(jnp.asarray(learning_rate).dtype)


def gaussian_entropy(log_std: jax.Array) -> jax.Array:
    return jnp.sum(log_std + 0.5 * jnp.log(2 * jnp.pi * jnp.e))


def clipped_surrogate(ratio: jax.Array, adv: jax.Array, eps: float) -> jax.Array:
    """PPO's policy loss (to minimise): ``-mean(min(r A, clip(r, 1-eps, 1+eps) A))``."""
    return -jnp.mean(jnp.minimum(ratio * adv, jnp.clip(ratio, 1 - eps, 1 + eps) * adv))


def symmetry_loss(mean_fn: Callable[[jax.Array], jax.Array], obs: jax.Array, obs_mirror: MirrorMap,
                  act_mirror: MirrorMap) -> jax.Array:
    """``mean ||pi(s) - T_a(pi(T_s(s)))||^2`` over the batch (deterministic means)."""
    mirrored = act_mirror(mean_fn(obs_mirror(obs)))
    return jnp.mean(jnp.sum((mean_fn(obs) - mirrored) ** 2, -1))


def action_bound_loss(mean: jax.Array, low: Any = -ACTION_CLIP, high: Any = ACTION_CLIP) -> jax.Array:
    """``mean sum_j (max(low_j - mu_j, 0)^2 + max(mu_j - high_j, 0)^2)`` over the batch: the policy's mean
    actions (..., A) beyond the actions that still act, ``low`` and ``high`` scalars or (A,) (the G1's:
    :func:`config.action_bounds`, the PD target within the joint's limits, which the actuators clamp it to,
    and within ``ACTION_CLIP``). Past them
    every sampled action acts the same, so no advantage tells the mean to come back. The bounds loss of
    rl_games' PPO (``bounds_loss_coef``) does the same with one bound for all.

    Measured: 2026-12-01 at 123.1 M steps the teacher's shoulder-yaw means sat at ~7 against the clip of 5
    (the arms turned 126 deg about their own axes) and did not move in 2.9 M steps of a joint-angle reward and
    termination; hence the loss, then with the clip as bound. 2026-12-02 at 153.7 M steps the ankle-roll means
    sat at +-3.3 (targets 1.4 rad past the reference, 1.2 rad past the 0.26 rad limit: the ankles pressed
    against their limits) and the waist-pitch mean at -3.1 (the torso at its limit, 29 deg RMS off); hence the
    joints' own bounds."""
    return jnp.mean(jnp.sum(jnp.maximum(low - mean, 0.0) ** 2 + jnp.maximum(mean - high, 0.0) ** 2, -1))


def reference_action_loss(mean: jax.Array, obs: jax.Array, prior: ReferencePrior, low: Any = -ACTION_CLIP,
                          high: Any = ACTION_CLIP) -> jax.Array:
    """``mean sum_j w_j (s_j (mu_j - clip(r_j / s_j, low_j, high_j)))^2`` over the batch: the PD targets of the
    policy's mean actions (..., A) against the reference's joint angles ``r`` [rad] (read from ``obs`` (..., O)
    at ``prior.start``; ``s`` the action scale), the reference's kept within the bounds of
    :func:`action_bound_loss`. In radians, not action units: the G1's wrist pitch and yaw (scale 0.075 rad)
    would otherwise weigh 34 times as much as a shoulder (0.44 rad) for the same angle.

    It is a prior, not the objective: with a small coefficient PPO's advantage still sets the offsets a joint
    needs (gravity, dynamics). Applied to the G1's arm and yaw joints (:func:`genmimic.policy.train.reference_prior`)
    because nothing else taught the teacher to read the reference's arm angles: measured 2026-12-02 at
    169.5 M steps, on the bundled demo the teacher's right shoulder-yaw target stayed at 0.0 rad while the
    reference held -1.15 rad (the left elbow's at 0.3 against 1.3), and on the arm-variety held-out set
    (reference arms away from the synth clips' untwisted pose) 5 % of clips were tracked, with wrist roll up
    to 95 deg and shoulder yaw 56 deg off. A keypoint reward barely sees a twist of an upper arm about its own
    axis, and the per-joint termination ends such episodes within 0.1 s, before advantages say much.

    With ``prior.feedback`` the target of a joint is ``r + k (r - q)`` instead (``q`` its measured angle):
    for the arms' pitch, roll and elbow joints, whose PD targets must lead the reference against gravity
    and in fast motion (a pull towards ``r`` alone worked against that lead, 2026-12-02). Measured 2026-12-04
    with the teacher at 414 M env steps: its own right-arm targets sat 0.14-0.39 rad *short* of the
    reference's on a held-out wave (the hand 22-24 cm off while raised, shoulder roll 31 deg off); replacing
    the arms' targets by ``r`` gave 10.5 cm and by ``r + (r - q)`` 6.3 cm, the latter with a higher or equal
    mean reward on each of 8 held-out clips tried (the CMU jumps ran 13.6 s instead of 11.2 s): a local
    optimum, not where the reward pays most (the policy README, "Feedback in the reference prior")."""
    n = mean.shape[-1]
    ref = obs[..., prior.start:prior.start + n]
    if prior.feedback is not None:
        ref = ref + prior.feedback * (ref - obs[..., prior.dof_start:prior.dof_start + n])
    target = jnp.clip(ref / prior.scale, low, high)
    return jnp.mean(jnp.sum(prior.weight * (prior.scale * (mean - target)) ** 2, -1))


def ppo_loss(params: ActorCriticParams, norm: Normalizer, batch: Transition, advantages: jax.Array,
             returns: jax.Array, cfg: PPOConfig, obs_mirror: MirrorMap, act_mirror: MirrorMap,
             bounds: tuple[Any, Any] = (-ACTION_CLIP, ACTION_CLIP), prior: ReferencePrior | None = None,
             old_log_std: jax.Array | None = None) -> tuple[Any, LossInfo]:
    """The loss to minimise and its parts; ``old_log_std``: the rollout policy's log standard deviation
    (state-independent, so not in the batch; default: the current one) for the exact KL divergence."""
    old_log_std = params.log_std if old_log_std is None else old_log_std
    mean = policy_mean(params.policy, norm, batch.obs)
    log_prob = gaussian_log_prob(mean, params.log_std, batch.action)
    ratio = jnp.exp(log_prob - batch.log_prob)
    adv = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
    pol = clipped_surrogate(ratio, adv, cfg.clip_epsilon)
    val = 0.5 * jnp.mean((value_fn(params.value, norm, batch.obs) - returns) ** 2)
    ent = gaussian_entropy(params.log_std)
    sym = symmetry_loss(lambda o: policy_mean(params.policy, norm, o), batch.obs, obs_mirror, act_mirror) \
        if cfg.sym_coef > 0 else jnp.zeros(())
    bound = action_bound_loss(mean, *bounds)
    ref = reference_action_loss(mean, batch.obs, prior, *bounds) if prior is not None else jnp.zeros(())
    total = (pol + cfg.value_coef * val - cfg.entropy_coef * ent + cfg.sym_coef * sym + cfg.bound_coef * bound
             + cfg.reference_coef * ref)
    approx_kl = jnp.mean(batch.log_prob - log_prob)
    kl = jnp.mean(gaussian_kl(batch.action_mean, jax.lax.stop_gradient(old_log_std), jax.lax.stop_gradient(mean),
                              jax.lax.stop_gradient(params.log_std)))
    return total, LossInfo(total, pol, val, ent, sym, approx_kl, bound, ref, kl)


def cap_std(params: ActorCriticParams, max_std: float) -> ActorCriticParams:
    """``params`` with the action noise's log standard deviation projected to at most ``log(max_std)``
    (``PPOConfig.max_std``; 0: unchanged)."""
    if max_std <= 0:
        return params
    return params._replace(log_std=jnp.minimum(params.log_std, jnp.log(max_std)))


def make_optimizer(cfg: PPOConfig) -> optax.GradientTransformation:
    return optax.chain(optax.clip_by_global_norm(cfg.max_grad_norm), optax.adam(cfg.learning_rate))


def strong_types(tree: Any) -> Any:
    """``tree`` with weakly typed leaves (from Python scalars) made concrete, so the jitted update sees
    the same types on its first call as on later ones and compiles once."""
    return jax.tree.map(lambda x: jax.lax.convert_element_type(x, x.dtype), tree)


def init_state(key: jax.Array, obs_size: int, act_size: int, cfg: PPOConfig) -> PPOState:
    params = init_actor_critic(key, obs_size, act_size, cfg.hidden, cfg.init_log_std)
    return strong_types(PPOState(params, make_optimizer(cfg).init(params), normalizer_init(obs_size),
                                 jnp.asarray(0, jnp.int32), jnp.asarray(cfg.learning_rate, jnp.float32)))


def minibatch_epochs(step: Callable, carry: Any, n: int, num_minibatches: int, num_epochs: int, key: jax.Array):
    """``num_epochs`` passes of ``step(carry, idx) -> (carry, out)`` over ``num_minibatches`` shuffled index
    sets of ``n`` samples (a remainder is dropped); returns the final carry and the outputs (E, M, ...)."""
    mb = n // num_minibatches

    def epoch(carry, k):
        perm = jax.random.permutation(k, n)[: mb * num_minibatches].reshape(num_minibatches, mb)
        return jax.lax.scan(step, carry, perm)

    return jax.lax.scan(epoch, carry, jax.random.split(key, num_epochs))


def make_update(cfg: PPOConfig, obs_mirror: MirrorMap, act_mirror: MirrorMap,
                action_bounds: tuple[Any, Any] = (-ACTION_CLIP, ACTION_CLIP), prior: ReferencePrior | None = None):
    """A jitted ``update(state, rollout, bootstrap, key) -> (state, LossInfo)``: normaliser update, GAE,
    then ``num_epochs`` passes of ``num_minibatches`` shuffled minibatches. ``action_bounds``: (low, high),
    scalars or per action, of the bounds loss (:func:`action_bound_loss`); ``prior``: the reference prior
    (:func:`reference_action_loss`, weighted by ``cfg.reference_coef``), None for none."""
    opt = make_optimizer(cfg)
    om, am = obs_mirror.to_jax(), act_mirror.to_jax()
    bounds = tuple(jnp.asarray(b, jnp.float32) for b in action_bounds)
    if prior is not None:
        prior = ReferencePrior(int(prior.start), jnp.asarray(prior.scale, jnp.float32),
                               jnp.asarray(prior.weight, jnp.float32),
                               None if prior.feedback is None else jnp.asarray(prior.feedback, jnp.float32),
                               int(prior.dof_start))
    grad_fn = jax.grad(ppo_loss, has_aux=True)

    @jax.jit
    def update(state: PPOState, rollout: Transition, bootstrap: jax.Array, key: jax.Array):
        adv, ret = gae(rollout.reward, rollout.value, rollout.done, bootstrap, cfg.discount, cfg.gae_lambda)
        norm = normalizer_update(state.normalizer, rollout.obs, cfg.normalizer_max_count)
        flat = jax.tree.map(lambda x: x.reshape((-1,) + x.shape[2:]), (rollout, adv, ret))

        def minibatch(carry, idx):
            params, opt_state, lr = carry
            b = jax.tree.map(lambda x: x[idx], flat)
            grads, info = grad_fn(params, norm, b[0], b[1], b[2], cfg, om, am, bounds, prior, state.params.log_std)
            lr = adapt_learning_rate(lr, info.kl, cfg)  # from the KL before this step, as rsl_rl
            updates, opt_state = opt.update(grads, opt_state, params)
            updates = jax.tree.map(lambda u: u * (lr / cfg.learning_rate), updates)  # Adam's step is linear in lr
            return (optax.apply_updates(params, updates), opt_state, lr), info

        (params, opt_state, lr), info = minibatch_epochs(
            minibatch, (state.params, state.opt_state, state.learning_rate), flat[1].shape[0], cfg.num_minibatches,
            cfg.num_epochs, key)
        params = cap_std(params, cfg.max_std)
        new = PPOState(params, opt_state, norm, state.iteration + 1, lr)
        return new, jax.tree.map(jnp.mean, info)

    return update


@jax.jit
def _act(params: ActorCriticParams, norm: Normalizer, obs: jax.Array, key: jax.Array):
    mean = policy_mean(params.policy, norm, obs)
    action = mean + jnp.exp(params.log_std) * jax.random.normal(key, mean.shape)
    return action, gaussian_log_prob(mean, params.log_std, action), value_fn(params.value, norm, obs), mean


@jax.jit
def _values(params: ActorCriticParams, norm: Normalizer, obs: jax.Array) -> jax.Array:
    return value_fn(params.value, norm, obs)


class RolloutStats(NamedTuple):
    reward: float  # mean reward per step
    episodes: int  # episodes that ended
    episode_return: float  # mean return of the episodes that ended (nan if none)
    episode_length: float
    fall_rate: float  # share of ended episodes that ended by failure
    tracking_error: float  # mean keypoint error [m]
    terms: np.ndarray  # mean unscaled reward terms


class EpisodeTracker:
    """Running returns and lengths of the envs of a vector env."""

    def __init__(self, n: int) -> None:
        self.ret, self.len = np.zeros(n), np.zeros(n)

    def add(self, reward: np.ndarray, ended: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.ret += reward
        self.len += 1
        out = self.ret[ended].copy(), self.len[ended].copy()
        self.ret[ended], self.len[ended] = 0.0, 0.0
        return out


def collect(env, state: PPOState, obs: np.ndarray, key: jax.Array, steps: int, discount: float,
            tracker: EpisodeTracker, obs_index: int = 1):
    """Roll out ``steps`` on ``env`` with the stochastic policy. ``obs_index`` picks the observation
    of a StepBatch the policy reads (0 student, 1 teacher). Returns (rollout, bootstrap, next obs, stats)."""
    cols: dict[str, list] = {k: [] for k in Transition._fields}
    rets, lens, falls, errs, terms = [], [], 0, [], []
    for _ in range(steps):
        key, k = jax.random.split(key)
        action, logp, value, mean = (np.asarray(x) for x in _act(state.params, state.normalizer, jnp.asarray(obs),
                                                                 k))
        out = env.step(action)
        reward = out.reward.astype(np.float32)
        if out.truncated.any():  # bootstrap through time limits
            v = np.asarray(_values(state.params, state.normalizer, jnp.asarray(out.final_teacher)))
            reward = reward + discount * v * out.truncated
        ended = out.terminated | out.truncated
        for name, val in zip(Transition._fields, (obs, action, logp, reward, ended.astype(np.float32), value,
                                                  mean), strict=True):
            cols[name].append(val)
        r, n = tracker.add(out.reward, ended)
        rets += list(r)
        lens += list(n)
        falls += int(out.terminated.sum())
        errs.append(out.tracking_error.mean())
        terms.append(out.terms.mean(0))
        obs = out[obs_index]
    rollout = Transition(*(jnp.asarray(np.stack(cols[k])) for k in Transition._fields))
    bootstrap = _values(state.params, state.normalizer, jnp.asarray(obs))
    n_ep = len(rets)
    stats = RolloutStats(float(np.mean(rollout.reward)), n_ep, float(np.mean(rets)) if n_ep else float("nan"),
                         float(np.mean(lens)) if n_ep else float("nan"), falls / n_ep if n_ep else 0.0,
                         float(np.mean(errs)), np.mean(terms, 0))
    return rollout, bootstrap, obs, stats
