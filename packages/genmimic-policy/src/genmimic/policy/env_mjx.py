"""The tracking environment on MJX (JAX): batched, jitted, for GPU training.

Everything but the physics is :mod:`env_core` with ``xp = jax.numpy`` (the same functions, random
numbers and adaptive sampling as the C MuJoCo backend, so both give the same episodes and noise for the
same seed); the physics is ``mjx.step`` vmapped over envs, each env stepping its own copy of the model's
floor friction, torso mass and actuator gains (rebuilt inside the vmapped step from its ``dr``). Resets
happen inside the jitted step: a fresh reference state is built for every env each step and selected
where an episode ended.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from mujoco import mjx

from genmimic.core import g1_constants as g1
from genmimic.core.g1_model import joint_dof_indices, joint_qpos_indices, load_mujoco_model

from . import env_core as core
from . import observation as obs_layout
from . import rewards as rw
from . import sampling
from .config import SIM_DT, EnvConfig
from .env_core import StepBatch
from .env_cpu import keypoint_site_ids
from .reference import ReferenceBank


class MjxState(NamedTuple):
    """The batched env state: MJX data (N leading), episode, random and sampling state, observations."""

    data: Any
    episode: core.Episode
    rng: core.Rng
    sampler: sampling.SamplerState
    student: Any
    teacher: Any


class MjxTracking:
    """The MJX model and the pure batched functions of the env (``reset``, ``step`` over :class:`MjxState`)."""

    def __init__(self, bank: ReferenceBank, cfg: EnvConfig, randomize: bool | None = None) -> None:
        self.cfg = cfg
        model = load_mujoco_model(gains=g1.TRACKING_GAINS)  # no extra sensors: MJX reads site_xpos directly
        model.opt.timestep = SIM_DT
        if cfg.mjx_solver_iterations > 0:
            model.opt.iterations = cfg.mjx_solver_iterations
        if cfg.mjx_ls_iterations > 0:
            model.opt.ls_iterations = cfg.mjx_ls_iterations
        if cfg.mjx_feet_only_contacts:
            feet = {model.body(f"{side}_ankle_roll_link").id for side in ("left", "right")}
            for g in range(model.ngeom):
                if model.geom_bodyid[g] not in feet and model.geom_conaffinity[g]:
                    model.geom_contype[g] = model.geom_conaffinity[g] = 0
        self.mj_model = model
        self.model = mjx.put_model(model)
        self.sites = jnp.asarray(keypoint_site_ids(model))
        self.floor = model.geom("floor").id
        self.torso = model.body("torso_link").id
        randomize = cfg.randomize if randomize is None else randomize
        self.statics = core.make_statics(jnp, bank, cfg, joint_qpos_indices(model), joint_dof_indices(model),
                                         model.nq, model.nv, randomize, jnp.float32)
        self.nf = cfg.goal_noise_frames

    def model_for(self, dr) -> mjx.Model:
        """The model with one env's friction scale, torso mass offset and gain scale (``dr`` (3,))."""
        m = self.model
        return m.replace(
            geom_friction=m.geom_friction.at[self.floor, 0].multiply(dr[0]),
            body_mass=m.body_mass.at[self.torso].add(dr[1]),
            actuator_gainprm=m.actuator_gainprm.at[:, 0].multiply(dr[2]),
            actuator_biasprm=m.actuator_biasprm.at[:, 1:3].multiply(dr[2]))

    def _forward(self, qpos, qvel, ctrl):
        return mjx.forward(self.model, mjx.make_data(self.model).replace(qpos=qpos, qvel=qvel, ctrl=ctrl))

    def _substeps(self, data, dr, ctrl, kick):
        data = data.replace(ctrl=ctrl, qvel=data.qvel.at[0:2].add(kick))
        model = self.model_for(dr)
        return jax.lax.fori_loop(0, self.cfg.n_substeps, lambda _, d: mjx.step(model, d), data)

    def start(self, st: core.Statics, sampler, rng: core.Rng, n: int):
        """Fresh episodes for all ``n`` envs: (data, episode, student, teacher)."""
        noise = core.reset_noise(jnp, rng, n, self.nf)
        draw = core.draw_resets(jnp, st, self.cfg, sampler, noise)
        qpos, qvel, ctrl = core.reference_state(jnp, st, draw.clip, draw.start, noise.dof)
        data = jax.vmap(self._forward)(qpos, qvel, ctrl)
        ep, s, t = core.begin(jnp, st, self.cfg, draw, data.qpos, data.qvel, data.site_xpos[:, self.sites], noise.obs)
        return data, ep, s, t

    def blank(self, rng: core.Rng, sampler, n: int) -> MjxState:
        """A placeholder state of the right shapes (the model's default pose) that :meth:`step` with
        ``force`` turns into fresh episodes: one compiled function serves reset and step."""
        data = jax.tree.map(lambda x: jnp.broadcast_to(x, (n,) + x.shape), mjx.make_data(self.model))
        i = jnp.zeros(n, jnp.int32)
        f = lambda *shape: jnp.zeros((n,) + shape, jnp.float32)  # noqa: E731
        ep = core.Episode(i, i, i, i + 1, f(29), f(self.cfg.history_frames, 93), f(len(g1.KEYPOINT_NAMES), 3),
                          i + 10**6, f() + 1.0, f(3) + jnp.asarray(core.NOMINAL_DR, jnp.float32))
        size = lambda blocks: sum(b.size for b in blocks)  # noqa: E731
        s = f(size(obs_layout.student_layout(self.cfg.student_frames, self.cfg.student_goals)))
        t = f(size(obs_layout.teacher_layout(self.cfg.history, self.cfg.future_frames)))
        return MjxState(data, ep, rng, sampler, s, t)

    def step(self, st: core.Statics, state: MjxState, action, force) -> tuple[MjxState, StepBatch]:
        """One control step of every env; ``force`` (bool scalar) restarts all of them (a reset: then the
        sampler is not updated)."""
        cfg, n = self.cfg, action.shape[0]
        a = core.clip_action(jnp, st, action)
        noise = core.step_noise(jnp, state.rng, n, self.nf)
        ep, kick = core.pushes(jnp, cfg, st, state.episode, noise)
        data = jax.vmap(self._substeps)(state.data, ep.dr, core.controls(st, a), kick)
        sim = core.SimArrays(data.qpos, data.qvel, data.site_xpos[:, self.sites], data.actuator_force)
        ep, out = core.after_physics(jnp, st, cfg, ep, sim, a, noise.obs)
        updated = sampling.update(jnp, state.sampler, st.bins, cfg.sampling, ep.clip, ep.t, ep.t - ep.steps,
                                  out.terminated, out.terminated | out.truncated)
        sampler = jax.tree.map(lambda old, new: jnp.where(force, old, new), state.sampler, updated)
        end = out.terminated | out.truncated | force
        fresh_data, fresh_ep, s0, t0 = self.start(st, sampler, state.rng, n)

        def pick(x, y):
            return jnp.where(end.reshape(end.shape + (1,) * (x.ndim - 1)), x, y)

        data = jax.tree.map(pick, fresh_data, data)
        ep = jax.tree.map(pick, fresh_ep, ep)
        student, teacher = pick(s0, out.student), pick(t0, out.teacher)
        new = MjxState(data, ep, core.rng_next(jnp, state.rng), sampler, student, teacher)
        return new, out._replace(student=student, teacher=teacher)
class MjxVecEnv:
    """``num_envs`` MJX envs, jitted, behind the CPU backend's interface (NumPy in and out).

    Same arguments as :class:`~genmimic.policy.env_cpu.CpuVecEnv` (no threads). ``statics`` (with the
    ``randomize`` flag) is an argument of the jitted functions, so switching randomisation does not
    recompile."""

    def __init__(self, bank: ReferenceBank, cfg: EnvConfig, num_envs: int, seed: int = 0,
                 randomize: bool | None = None, mesh=None) -> None:
        self.mesh = mesh  # a jax.sharding.Mesh: envs split over its devices (genmimic.policy.sharding)
        self.env = MjxTracking(bank, cfg, randomize)
        self.cfg, self.num_envs, self.seed = cfg, num_envs, seed
        self.statics = self.env.statics
        self.rng = core.rng_init(jnp, seed)
        self.sampler = jax.tree.map(jnp.asarray, sampling.init_state(sampling.make_bins(bank.clip_len, cfg.ctrl_dt,
                                                                                          cfg.sampling)))
        self._step = jax.jit(self.env.step)
        self.state: MjxState | None = None

    @property
    def randomize(self) -> bool:
        return bool(self.statics.randomize > 0)

    def set_randomize(self, on: bool) -> None:
        """Switch noise, pushes and domain randomisation (from the next reset on; no recompile)."""
        self.statics = self.statics._replace(randomize=jnp.asarray(1.0 if on else 0.0, jnp.float32))

    def reseed(self, seed: int) -> None:
        """Fresh random and sampling state, as a new env with ``seed`` (call :meth:`reset` next)."""
        self.seed, self.rng = seed, core.rng_init(jnp, seed)
        self.sampler = jax.tree.map(jnp.asarray, sampling.init_state(
            sampling.SamplingBins(*(np.asarray(x) for x in self.statics.bins))))

    def reset(self) -> tuple[np.ndarray, np.ndarray]:
        """Start every env anew; returns the student (N, Ds) and teacher (N, Dt) observations."""
        blank = self._place(self.env.blank(self.rng, self.sampler, self.num_envs))
        self.state, _ = self._step(self.statics, blank, jnp.zeros((self.num_envs, 29), jnp.float32),
                                   jnp.asarray(True))
        self.rng = self.state.rng
        return np.asarray(self.state.student), np.asarray(self.state.teacher)

    def step(self, actions: np.ndarray) -> StepBatch:
        """Advance all envs one control step with ``actions`` (N, 29); ended episodes restart at once."""
        self.state, out = self._step(self.statics, self.state, jnp.asarray(actions, jnp.float32), jnp.asarray(False))
        self.rng, self.sampler = self.state.rng, self.state.sampler
        return StepBatch(*(np.asarray(x) for x in out))

    def snapshot(self) -> core.EnvSnapshot:
        """The env's complete state (see :class:`~genmimic.policy.env_core.EnvSnapshot`)."""
        s = self.state
        return core.EnvSnapshot(*(np.asarray(x) for x in (s.data.qpos, s.data.qvel, s.data.ctrl,
                                                          s.data.qacc_warmstart)),
                                jax.tree.map(np.asarray, s.episode), jax.tree.map(np.asarray, s.rng),
                                jax.tree.map(np.asarray, s.sampler), np.asarray(s.student), np.asarray(s.teacher))

    def restore(self, snap: core.EnvSnapshot) -> tuple[np.ndarray, np.ndarray]:
        """Continue from a snapshot of an env of the same size and bank; returns its observations."""
        f32 = lambda x: jnp.asarray(x, jnp.float32)  # noqa: E731
        data = jax.jit(jax.vmap(self.env._forward))(f32(snap.qpos), f32(snap.qvel), f32(snap.ctrl))
        data = data.replace(qacc_warmstart=f32(snap.warmstart))
        ep = core.Episode(*(jnp.asarray(x) for x in snap.episode))
        rng = core.Rng(*(jnp.asarray(np.asarray(x, np.uint32).reshape(1)) for x in snap.rng))
        sampler = sampling.SamplerState(*(jnp.asarray(x) for x in snap.sampler))
        self.state = self._place(MjxState(data, ep, rng, sampler, f32(snap.student), f32(snap.teacher)))
        self.rng, self.sampler = rng, sampler
        return np.asarray(snap.student), np.asarray(snap.teacher)

    def _place(self, state: MjxState) -> MjxState:
        """``state`` with its per-env arrays split over the mesh (random and sampling state replicated);
        unchanged without a mesh. The jitted step keeps that layout."""
        if self.mesh is None:
            return state
        from .sharding import replicate, shard_envs

        data, episode, student, teacher = shard_envs((state.data, state.episode, state.student, state.teacher),
                                                     self.mesh)
        rng, sampler = replicate((state.rng, state.sampler), self.mesh)
        return MjxState(data, episode, rng, sampler, student, teacher)

    def close(self) -> None:
        self.state = None


def evaluate_state(env: MjxTracking, qpos, qvel, ctrl, prev_kp, action, last_action, clip, t):
    """Observations (fresh history, no noise) and unscaled reward terms of one simulator state at frame
    ``t`` of ``clip`` (forward kinematics by MJX); the CPU twin is ``TrackingEnv`` on the same state."""
    st = env.statics._replace(randomize=jnp.asarray(0.0, jnp.float32))
    data = env._forward(qpos, qvel, ctrl)
    b1 = lambda x: jnp.asarray(x)[None]  # noqa: E731
    sim = core.SimArrays(b1(data.qpos), b1(data.qvel), b1(data.site_xpos[env.sites]), b1(data.actuator_force))
    rng = core.rng_init(jnp, 0)
    noise = core.step_noise(jnp, rng, 1, env.nf).obs
    p = core.proprio(jnp, st, sim.qpos, sim.qvel, b1(last_action), noise.proprio)
    ep = core.Episode(b1(clip), b1(t), jnp.zeros(1, jnp.int32), jnp.ones(1, jnp.int32), b1(last_action),
                      jnp.repeat(p[:, None], env.cfg.history_frames, 1), b1(prev_kp), jnp.zeros(1, jnp.int32),
                      jnp.ones(1, jnp.float32), jnp.asarray([core.NOMINAL_DR], jnp.float32))
    robot = core.robot_frame(jnp, st, env.cfg, sim, b1(prev_kp))
    s, te = core.observe(jnp, st, env.cfg, ep, robot, noise)
    ref = core.ref_frame(st, core.frame(jnp, st, ep.clip, ep.t))
    done = rw.terminated(jnp, robot, ref, env.cfg)
    terms = rw.reward_terms(jnp, robot, ref, b1(action), b1(last_action), done, env.cfg)
    return s[0], te[0], jnp.stack(terms, -1)[0]
