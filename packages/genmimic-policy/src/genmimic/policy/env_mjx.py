"""The tracking environment on MJX (JAX): batched, jitted, for GPU training.

Same observation, reward and termination functions as the C MuJoCo backend (:mod:`observation`,
:mod:`rewards`, with ``xp = jax.numpy``), same ``reset() / step(actions) -> StepBatch`` interface.
Randomised as in the CPU backend: observation and goal noise, goal limb scaling and dropped frames,
pushes, and per episode the floor friction, torso mass and PD gains (each env steps its own copy of
the model's friction, mass and actuator arrays, rebuilt inside the vmapped step).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct
from mujoco import mjx

from genmimic.core import g1_constants as g1
from genmimic.core.g1_model import joint_dof_indices, joint_qpos_indices, load_mujoco_model

from . import observation as obs_mod
from . import rewards as rw
from .config import SIM_DT, EnvConfig
from .env_cpu import ACTION_CLIP, ACTION_SCALE, DEFAULT, StepBatch, keypoint_site_ids
from .reference import ReferenceBank


@struct.dataclass
class EnvState:
    """One env's state (batched over a leading axis in :class:`MjxVecEnv`)."""

    data: mjx.Data
    clip: jax.Array
    t: jax.Array
    steps: jax.Array
    limit: jax.Array
    last_action: jax.Array
    history: jax.Array  # (H, 93)
    prev_kp: jax.Array  # (19, 3)
    push_in: jax.Array
    limb_scale: jax.Array
    dr: jax.Array  # (3,) friction scale, torso mass offset [kg], PD gain scale
    key: jax.Array


class MjxTracking:
    """Pure functions of the MJX tracking env over :class:`EnvState` (unbatched; vmap them)."""

    def __init__(self, bank: ReferenceBank, cfg: EnvConfig, randomize: bool | None = None) -> None:
        self.cfg = cfg
        self.randomize = cfg.randomize if randomize is None else randomize
        model = load_mujoco_model(gains=g1.TRACKING_GAINS)
        model.opt.timestep = SIM_DT
        self.mj_model = model
        self.model = mjx.put_model(model)
        self.qidx = jnp.asarray(joint_qpos_indices(model))
        self.didx = jnp.asarray(joint_dof_indices(model))
        self.sites = jnp.asarray(keypoint_site_ids(model))
        self.bank = ReferenceBank(*(jnp.asarray(np.asarray(a, np.float32 if np.asarray(a).dtype.kind == "f"
                                                           else np.int32)) for a in bank))
        self.future = jnp.asarray(cfg.future_frames)
        self.scale = jnp.asarray(ACTION_SCALE, jnp.float32)
        self.default = jnp.asarray(DEFAULT, jnp.float32)
        self.floor = model.geom("floor").id
        self.torso = model.body("torso_link").id

    def _frame(self, clip, t):
        return self.bank.clip_start[clip] + jnp.minimum(t, self.bank.clip_len[clip] - 1)

    def _ref(self, row) -> rw.RefFrame:
        b = self.bank
        return rw.RefFrame(b.root_pos[row], b.root_quat[row], b.dof_pos[row], b.keypoints[row])

    def _sample_dr(self, key):
        r = self.cfg.randomization
        if not self.randomize:
            return jnp.asarray([1.0, 0.0, 1.0])
        lo, hi = jnp.asarray([r.friction[0], r.torso_mass_offset[0], r.gain_scale[0]]), \
            jnp.asarray([r.friction[1], r.torso_mass_offset[1], r.gain_scale[1]])
        return jax.random.uniform(key, (3,), minval=lo, maxval=hi)

    def model_for(self, dr) -> mjx.Model:
        """The model with this episode's friction scale, torso mass offset and gain scale (``dr`` (3,))."""
        m = self.model
        return m.replace(
            geom_friction=m.geom_friction.at[self.floor, 0].multiply(dr[0]),
            body_mass=m.body_mass.at[self.torso].add(dr[1]),
            actuator_gainprm=m.actuator_gainprm.at[:, 0].multiply(dr[2]),
            actuator_biasprm=m.actuator_biasprm.at[:, 1:3].multiply(dr[2]))

    def _push_interval(self, key):
        lo, hi = self.cfg.randomization.push_interval_s
        return (jax.random.uniform(key, minval=lo, maxval=hi) / self.cfg.ctrl_dt).astype(jnp.int32)

    def reference_data(self, clip, t) -> mjx.Data:
        """MJX data in the reference state of frame ``t`` of ``clip`` (forward kinematics done)."""
        b, row = self.bank, self._frame(clip, t)
        data = mjx.make_data(self.model)
        qpos = data.qpos.at[0:3].set(b.root_pos[row]).at[3:7].set(b.root_quat[row]).at[self.qidx].set(b.dof_pos[row])
        qvel = data.qvel.at[0:3].set(b.root_lin_vel[row]).at[3:6].set(b.root_ang_vel[row]) \
            .at[self.didx].set(b.dof_vel[row])
        data = data.replace(qpos=qpos, qvel=qvel, ctrl=b.dof_pos[row])
        return mjx.forward(self.model, data)

    def _goals(self, state: EnvState, key):
        n = self.cfg.noise
        k1, k2 = jax.random.split(key)
        f = state.t + self.future
        if self.randomize:
            f = f - (jax.random.uniform(k1, f.shape) < n.goal_drop_prob).astype(f.dtype)
        rows = self._frame(state.clip, jnp.maximum(f, 0))
        kp = self.bank.keypoints[rows]
        if self.randomize:
            root = self.bank.root_pos[rows][:, None, :]
            kp = root + state.limb_scale * (kp - root) + n.goal_jitter * jax.random.normal(k2, kp.shape)
        return kp

    def _proprio(self, data, last_action, key):
        p = obs_mod.proprioception(jnp, data.qpos[self.qidx], data.qvel[self.didx], data.qvel[3:6], data.qpos[3:7],
                                   last_action)
        if self.randomize:
            n, k = self.cfg.noise, g1.NUM_DOF
            amp = jnp.concatenate([jnp.full(k, n.dof_pos), jnp.full(k, n.dof_vel * obs_mod.DOF_VEL_SCALE),
                                   jnp.full(3, n.gyro * obs_mod.GYRO_SCALE), jnp.full(3, n.gravity), jnp.zeros(k)])
            p = p + amp * jax.random.uniform(key, p.shape, minval=-1, maxval=1)
        return p

    def robot(self, data, prev_kp) -> rw.RobotFrame:
        return rw.robot_frame(jnp, data.qpos, data.qvel, data.site_xpos[self.sites], data.actuator_force, prev_kp,
                              self.cfg, self.qidx, self.didx)

    def observe(self, state: EnvState, robot: rw.RobotFrame, key):
        ref = self._ref(self._frame(state.clip, state.t))
        goals = obs_mod.goal_features(jnp, self._goals(state, key), ref.root_pos, robot.root_quat)
        student = jnp.concatenate([state.history.reshape(-1), goals])
        priv = obs_mod.privileged(jnp, robot.root_pos, robot.root_quat, robot.root_lin_vel, robot.keypoints,
                                  ref.keypoints, ref.dof_pos, ref.root_quat, robot.contacts, state.dr)
        return student, jnp.concatenate([student, priv])

    def reset_at(self, key, clip, start) -> tuple[EnvState, jax.Array, jax.Array]:
        k1, k2, k3, k4, k5 = jax.random.split(key, 5)
        data = self.reference_data(clip, start)
        row = self._frame(clip, start)
        last = jnp.clip((self.bank.dof_pos[row] - self.default) / self.scale, -ACTION_CLIP, ACTION_CLIP)
        length = self.bank.clip_len[clip]
        limb = 1.0 + self.cfg.noise.goal_limb_scale * jax.random.uniform(k1, minval=-1, maxval=1) \
            if self.randomize else jnp.asarray(1.0)
        p = self._proprio(data, last, k2)
        kp = data.site_xpos[self.sites]
        state = EnvState(data, clip, start, jnp.asarray(0), jnp.maximum(1, jnp.minimum(self.cfg.episode_length,
                                                                                      length - 1 - start)),
                         last, jnp.tile(p, (self.cfg.history, 1)), kp, self._push_interval(k3), limb,
                         self._sample_dr(k5), k4)
        s, t = self.observe(state, self.robot(data, kp), k2)
        return state, s, t

    def reset(self, key) -> tuple[EnvState, jax.Array, jax.Array]:
        k1, k2, k3 = jax.random.split(key, 3)
        clip = jax.random.randint(k1, (), 0, self.bank.clip_start.shape[0])
        start = jax.random.randint(k2, (), 0, jnp.maximum(1, self.bank.clip_len[clip] - 10))
        return self.reset_at(k3, clip, start)

    def step(self, state: EnvState, action):
        key, k_push, k_obs, k_goal, k_reset = jax.random.split(state.key, 5)
        a = jnp.clip(jnp.nan_to_num(action), -ACTION_CLIP, ACTION_CLIP)
        data = state.data.replace(ctrl=self.default + self.scale * a)
        push_in = state.push_in - 1
        if self.randomize:
            v = self.cfg.randomization.push_velocity
            kick = jnp.where(push_in <= 0, jax.random.uniform(k_push, (2,), minval=-v, maxval=v), 0.0)
            data = data.replace(qvel=data.qvel.at[0:2].add(kick))
            push_in = jnp.where(push_in <= 0, self._push_interval(k_push), push_in)
        model = self.model_for(state.dr)
        data = jax.lax.fori_loop(0, self.cfg.n_substeps, lambda _, d: mjx.step(model, d), data)
        t, steps = state.t + 1, state.steps + 1
        robot = self.robot(data, state.prev_kp)
        ref = self._ref(self._frame(state.clip, t))
        bad = ~jnp.all(jnp.isfinite(data.qpos))
        done = rw.terminated(jnp, robot, ref, self.cfg) | bad
        terms = rw.reward_terms(jnp, robot, ref, a, state.last_action, done, self.cfg)
        reward = jnp.where(bad, 0.0, rw.total_reward(terms, self.cfg.reward_scales))
        err = rw.mean_keypoint_error(jnp, robot.keypoints, ref.keypoints)
        p = self._proprio(data, a, k_obs)
        history = jnp.roll(state.history, 1, 0).at[0].set(p)
        new = state.replace(data=data, t=t, steps=steps, last_action=a, history=history,
                            prev_kp=robot.keypoints, push_in=push_in, key=key)
        s, te = self.observe(new, robot, k_goal)
        trunc = (~done) & (steps >= state.limit)
        fresh, s0, t0 = self.reset(k_reset)
        end = done | trunc
        pick = lambda x, y: jnp.where(end, x, y)  # noqa: E731
        out_state = jax.tree.map(pick, fresh, new)
        return out_state, StepBatch(pick(s0, s), pick(t0, te), reward, done, trunc, te, err, jnp.stack(terms))


class MjxVecEnv:
    """``num_envs`` MJX envs, vmapped and jitted, behind the CPU backend's interface (NumPy in and out)."""

    def __init__(self, bank: ReferenceBank, cfg: EnvConfig, num_envs: int, seed: int = 0,
                 randomize: bool | None = None) -> None:
        self.env = MjxTracking(bank, cfg, randomize)
        self.num_envs = num_envs
        self.key = jax.random.PRNGKey(seed)
        self._reset = jax.jit(jax.vmap(self.env.reset))
        self._step = jax.jit(jax.vmap(self.env.step))
        self.state: Any = None

    def reset(self) -> tuple[np.ndarray, np.ndarray]:
        self.key, k = jax.random.split(self.key)
        self.state, s, t = self._reset(jax.random.split(k, self.num_envs))
        return np.asarray(s), np.asarray(t)

    def step(self, actions: np.ndarray) -> StepBatch:
        self.state, out = self._step(self.state, jnp.asarray(actions, jnp.float32))
        return StepBatch(*(np.asarray(x) for x in out))

    def close(self) -> None:
        self.state = None


def evaluate_state(env: MjxTracking, qpos, qvel, ctrl, prev_kp, action, last_action, clip, t):
    """Observations (fresh history) and unscaled reward terms of a given simulator state at frame ``t`` of
    ``clip`` (forward kinematics by MJX). The CPU twin is ``TrackingEnv`` on the same state; used to check
    that both backends agree."""
    data = mjx.forward(env.model, mjx.make_data(env.model).replace(qpos=qpos, qvel=qvel, ctrl=ctrl))
    robot = env.robot(data, prev_kp)
    p = env._proprio(data, last_action, jax.random.PRNGKey(0))
    state = EnvState(data, clip, t, jnp.asarray(0), jnp.asarray(1), last_action, jnp.tile(p, (env.cfg.history, 1)),
                     prev_kp, jnp.asarray(0), jnp.asarray(1.0), jnp.asarray([1.0, 0.0, 1.0]), jax.random.PRNGKey(0))
    s, te = env.observe(state, robot, jax.random.PRNGKey(0))
    ref = env._ref(env._frame(clip, t))
    done = rw.terminated(jnp, robot, ref, env.cfg)
    return s, te, jnp.stack(rw.reward_terms(jnp, robot, ref, action, last_action, done, env.cfg))
