"""Networks (Flax) and the running observation normaliser, as pure functions over immutable pytrees.

A policy is an MLP (ELU) from normalised observations to the mean action; the PPO actor adds a
state-independent log standard deviation; the critic is a separate MLP to one value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from genmimic.core.runtime.inference import NORM_CLIP, STD_EPS, NumpyPolicy


class MLP(nn.Module):
    hidden: Sequence[int]
    out: int
    final_scale: float = 0.01

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        for i, h in enumerate(self.hidden):
            x = nn.elu(nn.Dense(h, name=f"dense_{i}")(x))
        init = nn.initializers.variance_scaling(self.final_scale, "fan_avg", "uniform")
        return nn.Dense(self.out, kernel_init=init, name=f"dense_{len(self.hidden)}")(x)


class Normalizer(NamedTuple):
    """Running mean and variance of observations (D,), over ``count`` samples."""

    mean: jax.Array
    var: jax.Array
    count: jax.Array


def normalizer_init(size: int) -> Normalizer:
    return Normalizer(jnp.zeros(size), jnp.ones(size), jnp.asarray(1e-4))


def normalizer_update(norm: Normalizer, batch: jax.Array, max_count: float = 0.0) -> Normalizer:
    """Merge a batch (..., D) into the running statistics (parallel Welford). ``max_count`` > 0: the
    statistics so far count as at most ``max_count - n`` samples against the batch's n, so they follow a
    changing distribution (an exponential forgetting once the cap is reached); 0: every sample alike."""
    x = batch.reshape(-1, batch.shape[-1])
    n = x.shape[0]
    mean_b, var_b = jnp.mean(x, 0), jnp.var(x, 0)
    prior = jnp.minimum(norm.count, max(max_count - n, 1.0)) if max_count > 0 else norm.count
    total = prior + n
    delta = mean_b - norm.mean
    mean = norm.mean + delta * n / total
    m2 = norm.var * prior + var_b * n + delta**2 * prior * n / total
    return Normalizer(mean, m2 / total, total)




def normalize(norm: Normalizer, obs: jax.Array) -> jax.Array:
    return jnp.clip((obs - norm.mean) / jnp.sqrt(norm.var + STD_EPS), -NORM_CLIP, NORM_CLIP)


class ActorCriticParams(NamedTuple):
    policy: dict
    value: dict
    log_std: jax.Array


def init_actor_critic(key: jax.Array, obs_size: int, act_size: int, hidden: Sequence[int],
                      init_log_std: float) -> ActorCriticParams:
    k1, k2 = jax.random.split(key)
    x = jnp.zeros((1, obs_size))
    return ActorCriticParams(
        policy=MLP(tuple(hidden), act_size).init(k1, x),
        value=MLP(tuple(hidden), 1, final_scale=1.0).init(k2, x),
        log_std=jnp.full(act_size, init_log_std),
    )


def mlp_apply(params: dict, x: jax.Array) -> jax.Array:
    """Apply an :class:`MLP` whose sizes are read from its parameters."""
    layers = params["params"]
    n = len(layers)
    hidden = tuple(layers[f"dense_{i}"]["kernel"].shape[1] for i in range(n - 1))
    return MLP(hidden, layers[f"dense_{n - 1}"]["kernel"].shape[1]).apply(params, x)


def policy_mean(params: dict, norm: Normalizer, obs: jax.Array) -> jax.Array:
    return mlp_apply(params, normalize(norm, obs))


def value_fn(params: dict, norm: Normalizer, obs: jax.Array) -> jax.Array:
    return mlp_apply(params, normalize(norm, obs))[..., 0]


def numpy_policy(params: dict, norm: Normalizer) -> NumpyPolicy:
    layers = params["params"]
    n = len(layers)
    f32 = lambda a: np.asarray(a, np.float32)  # noqa: E731
    return NumpyPolicy(f32(norm.mean), f32(np.sqrt(np.asarray(norm.var) + STD_EPS)),
                       tuple(f32(layers[f"dense_{i}"]["kernel"]) for i in range(n)),
                       tuple(f32(layers[f"dense_{i}"]["bias"]) for i in range(n)))
