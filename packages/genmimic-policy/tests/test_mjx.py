"""The MJX backend (slow on a CPU: one compile of forward kinematics + observation + reward)."""

import jax
import mujoco
import numpy as np
import pytest

from genmimic.policy.config import default_config
from genmimic.policy.env_cpu import TrackingEnv, ref_frame
from genmimic.policy.rewards import reward_terms, terminated

pytestmark = pytest.mark.slow


def test_mjx_and_cpu_backends_give_the_same_observation_and_reward_on_the_same_state(bank):
    from genmimic.policy.env_mjx import MjxTracking, evaluate_state

    cfg = default_config().env
    cpu = TrackingEnv(bank, cfg, seed=0, randomize=False)
    mjx_env = MjxTracking(bank, cfg, randomize=False)
    fn = jax.jit(lambda *a: evaluate_state(mjx_env, *a))
    rng = np.random.default_rng(0)
    for clip, t in ((0, 10), (2, 60)):
        cpu.set_reference_state(clip, t)
        prev_kp = cpu.data.site_xpos[cpu.sites].copy() + rng.normal(size=(19, 3)) * 0.01
        cpu.data.qpos[cpu.qpos_idx] += rng.normal(size=29) * 0.1  # off the reference
        cpu.data.qpos[0:3] += rng.normal(size=3) * 0.03
        cpu.data.qvel[:] += rng.normal(size=cpu.data.qvel.shape) * 0.2
        mujoco.mj_forward(cpu.model, cpu.data)
        cpu.prev_kp = prev_kp
        action, last = rng.normal(size=29) * 0.5, rng.normal(size=29) * 0.5
        cpu.last_action = last
        cpu.history = None
        sim = cpu.sim_arrays()
        robot = cpu.robot(sim)
        s_cpu, t_cpu = cpu.observe(sim, robot)
        ref = ref_frame(bank, bank.frame(clip, t))
        terms_cpu = np.asarray(reward_terms(np, robot, ref, action, last, terminated(np, robot, ref, cfg), cfg))
        s_mjx, t_mjx, terms_mjx = fn(sim.qpos, sim.qvel, cpu.data.ctrl.copy(), prev_kp, action, last, clip, t)
        np.testing.assert_allclose(np.asarray(s_mjx), s_cpu, atol=2e-4, rtol=1e-4)
        np.testing.assert_allclose(np.asarray(t_mjx), t_cpu, atol=2e-4, rtol=1e-4)
        np.testing.assert_allclose(np.asarray(terms_mjx)[:-1], terms_cpu[:-1], atol=1e-3, rtol=1e-3)
        assert bool(terms_mjx[-1]) == bool(terms_cpu[-1])
