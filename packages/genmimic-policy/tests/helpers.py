"""Small real objects the tests share (no mocks): procedural clips, a reference bank, a fresh policy."""

from __future__ import annotations

import dataclasses

import jax
import numpy as np

from genmimic.policy.config import EnvConfig, default_config
from genmimic.policy.corpus import joint_space_motion
from genmimic.policy.distill import init_student, student_size
from genmimic.policy.networks import numpy_policy
from genmimic.policy.policy_file import policy_spec
from genmimic.policy.reference import make_bank, reference_from_clip


def small_bank(kinds=("wave", "squat", "arms"), duration: float = 3.0):
    return make_bank([reference_from_clip(joint_space_motion(k, i, duration)) for i, k in enumerate(kinds)])


def fresh_policy(cfg: EnvConfig | None = None, seed: int = 0):
    """An untrained student (real network, random weights, normaliser with non-trivial statistics)."""
    full = default_config()
    cfg = cfg or full.env
    state = init_student(jax.random.PRNGKey(seed), student_size(dataclasses.replace(full, env=cfg)), full.distill)
    rng = np.random.default_rng(seed)
    norm = state.normalizer._replace(mean=rng.normal(size=state.normalizer.mean.shape) * 0.1,
                                     var=rng.uniform(0.5, 2.0, size=state.normalizer.var.shape))
    return numpy_policy(state.params, norm), policy_spec(cfg), state.params, norm
