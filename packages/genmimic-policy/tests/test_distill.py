import jax
import jax.numpy as jnp
import numpy as np

from genmimic.policy import observation as obs_mod
from genmimic.policy.config import DistillConfig
from genmimic.policy.distill import init_student, make_student_update
from genmimic.policy.mirror import action_mirror, observation_mirror
from genmimic.policy.networks import policy_mean


def test_dagger_update_fits_the_teacher_labels():
    """The student update regresses teacher actions (here a fixed mirror-equivariant linear map)."""
    layout = obs_mod.student_layout(1, (0,))
    size = obs_mod.layout_size(layout)
    om, am = observation_mirror(layout), action_mirror()
    rng = np.random.default_rng(0)
    obs = rng.normal(size=(512, size)).astype(np.float32)
    w = rng.normal(size=(size, 29)) / np.sqrt(size)
    w = 0.5 * (w + (om.sign[:, None] * w[om.index][:, am.index] * am.sign[None, :]))  # equivariant: T_a W T_s = W
    labels = (obs @ w).astype(np.float32)
    np.testing.assert_allclose(am(om(obs) @ w), labels, atol=1e-4)
    cfg = DistillConfig(hidden=(64,), learning_rate=3e-3, num_epochs=4, num_minibatches=4)
    state = init_student(jax.random.PRNGKey(0), size, cfg)
    update = make_student_update(cfg, 0.5, om, am)

    def mse(s):
        return float(jnp.mean(jnp.sum((policy_mean(s.params, s.normalizer, jnp.asarray(obs)) - labels) ** 2, -1)))

    before = mse(state)
    for i in range(30):
        state, _ = update(state, jnp.asarray(obs), jnp.asarray(labels), jax.random.PRNGKey(i))
    assert mse(state) < 0.2 * before
