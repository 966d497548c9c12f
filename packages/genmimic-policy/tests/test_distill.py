import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genmimic.policy import observation as obs_mod
from genmimic.policy.checkpoint import save_checkpoint
from genmimic.policy.config import DistillConfig
from genmimic.policy.distill import _StudentStateV1, init_student, make_student_update, read_student
from genmimic.policy.errors import CheckpointError
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


def _student_case(ema_decay: float):
    layout = obs_mod.student_layout(1, (0,))
    size = obs_mod.layout_size(layout)
    cfg = DistillConfig(hidden=(16,), learning_rate=1e-2, num_epochs=1, num_minibatches=2, ema_decay=ema_decay)
    rng = np.random.default_rng(1)
    obs = jnp.asarray(rng.normal(size=(64, size)).astype(np.float32))
    labels = jnp.asarray(rng.normal(size=(64, 29)).astype(np.float32))
    update = make_student_update(cfg, 0.5, observation_mirror(layout), action_mirror())
    return init_student(jax.random.PRNGKey(0), size, cfg), update, obs, labels


@pytest.mark.parametrize("decay", [0.0, 0.9])
def test_the_student_average_follows_its_parameters_by_the_decay(decay):
    """Known answer: after an update, average = decay * previous average + (1 - decay) * new parameters."""
    state, update, obs, labels = _student_case(decay)
    for i in range(3):
        new, _ = update(state, obs, labels, jax.random.PRNGKey(i))
        want = jax.tree.map(lambda a, p: decay * a + (1 - decay) * p, state.average, new.params)
        for got, exp in zip(jax.tree.leaves(new.average), jax.tree.leaves(want), strict=True):
            np.testing.assert_allclose(got, exp, rtol=1e-5, atol=1e-7)
        assert not np.allclose(jax.tree.leaves(new.params)[0], jax.tree.leaves(state.params)[0])
        state = new
    leaves = zip(jax.tree.leaves(state.average), jax.tree.leaves(state.params), strict=True)
    same = all(np.array_equal(a, p) for a, p in leaves)
    assert same == (decay == 0.0)


def test_a_student_checkpoint_from_before_the_average_loads_with_its_parameters(tmp_path):
    """Runs distilled before ``StudentState.average`` (a 3-field state) still load and resume."""
    state, update, obs, labels = _student_case(0.9)
    state, _ = update(state, obs, labels, jax.random.PRNGKey(0))
    key = jax.random.PRNGKey(7)
    save_checkpoint(tmp_path / "student.msgpack", (_StudentStateV1(*state[:3]), key), {"iteration": 3})
    fresh, _, _, _ = _student_case(0.9)
    loaded, _, snap, info = read_student(tmp_path / "student.msgpack", fresh, key)
    assert info == {"iteration": 3} and snap is None
    for a, b in zip(jax.tree.leaves((loaded.params, loaded.average)), jax.tree.leaves((state.params, state.params)),
                    strict=True):
        np.testing.assert_array_equal(a, b)
    (tmp_path / "broken.msgpack").write_bytes(b"not msgpack")
    with pytest.raises(CheckpointError):
        read_student(tmp_path / "broken.msgpack", fresh, key)
