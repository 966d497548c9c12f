"""Both backends (C MuJoCo and MJX) built by the same factory, `train.make_env`, through one test body:
shapes, finite values, and the same episodes, noise and observations for the same seed. MJX compiles
slowly on a CPU: one env (one compiled step, which also serves reset) for the whole module."""

import numpy as np
import pytest

from genmimic.policy import env_core as core
from genmimic.policy.config import config_from_dict
from genmimic.policy.rewards import RewardTerms
from genmimic.policy.train import make_env

pytestmark = pytest.mark.slow
N = 4
SEED = 3


def _cfg(backend):
    # the reset's joint noise on, so that the agreement covers the reference state init's perturbation
    return config_from_dict({"backend": backend, "num_envs": N, "threads": 1, "seed": SEED,
                             "env": {"randomization": {"reset_joint_noise": 0.2}}})


@pytest.fixture(scope="module")
def envs(bank):
    pytest.importorskip("mujoco.mjx")
    made = {b: make_env(_cfg(b), bank) for b in ("cpu", "mjx")}
    yield made
    for e in made.values():
        e.close()


@pytest.mark.parametrize("backend", ["cpu", "mjx"])
def test_reset_and_step_give_finite_batches_of_the_documented_shapes(envs, backend):
    env = envs[backend]
    env.set_randomize(True)
    s, t = env.reset()
    assert s.shape == (N, 507) and t.shape == (N, 662) and np.isfinite(t).all()
    for _ in range(3):
        out = env.step(np.random.default_rng(0).normal(size=(N, 29)) * 0.3)
        assert out.student.shape == (N, 507) and out.teacher.shape == (N, 662) and out.final_teacher.shape == (N, 662)
        assert out.reward.shape == out.terminated.shape == out.truncated.shape == out.tracking_error.shape == (N,)
        assert out.terms.shape == (N, len(RewardTerms._fields)) and out.terminated.dtype == bool
        assert all(np.isfinite(np.asarray(x)).all() for x in out)
    snap = env.snapshot()
    assert snap.qpos.shape[0] == N and snap.episode.history.shape == (N, 3, 93)


@pytest.mark.parametrize("randomize", [True, False])
def test_cpu_and_mjx_agree_on_the_same_states(envs, randomize):
    """Same seed: the same clips, start frames, randomisation and noise, so the same first observations;
    after one control step (different physics engines) the same rewards to within the engines' difference."""
    cpu, mjx = envs["cpu"], envs["mjx"]
    for env in (cpu, mjx):
        env.set_randomize(randomize)
        env.reseed(SEED)
    sc, tc = cpu.reset()
    sm, tm = mjx.reset()
    ec, em = cpu.episode, mjx.state.episode
    np.testing.assert_array_equal(ec.clip, np.asarray(em.clip))
    np.testing.assert_array_equal(ec.t, np.asarray(em.t))
    np.testing.assert_allclose(ec.dr, np.asarray(em.dr), rtol=1e-6)
    if randomize:
        assert len({round(float(x), 5) for x in ec.dr[:, 0]}) == N  # randomised, and identically so
    else:
        np.testing.assert_array_equal(ec.dr, np.tile(core.NOMINAL_DR, (N, 1)))
    np.testing.assert_allclose(sm, sc, atol=2e-4, rtol=1e-4)
    np.testing.assert_allclose(tm, tc, atol=2e-4, rtol=1e-4)
    a = np.random.default_rng(1).normal(size=(N, 29)) * 0.2
    oc, om = cpu.step(a), mjx.step(a)
    np.testing.assert_array_equal(oc.terminated, om.terminated)
    np.testing.assert_allclose(om.reward, oc.reward, atol=0.05)
    np.testing.assert_allclose(om.tracking_error, oc.tracking_error, atol=2e-3)
