"""The tracking environment on C MuJoCo (CPU).

:class:`CpuVecEnv` is the training env: ``num_envs`` envs as (N, ...) arrays, everything but the physics
from :mod:`env_core` (shared with the MJX backend, ``xp = numpy``), the physics of all envs stepped in
one call of ``mujoco.rollout`` (a persistent pool of C threads that release the GIL; one ``MjModel`` per
env for the randomised friction, torso mass and PD gains; keypoint positions and actuator forces come
back as ``framepos`` / ``actuatorfrc`` sensors, so no per-env forward kinematics in Python).

:class:`TrackingEnv` is one env on one ``MjData`` (NumPy RNG), kept for evaluation and as the reference
the batched env is tested against.
"""

from __future__ import annotations

import copy
import os
import time
from typing import Any

import mujoco
import mujoco.rollout
import numpy as np

from genmimic.core import g1_constants as g1
from genmimic.core.g1_model import KEYPOINT_PREFIX, g1_mjcf, joint_dof_indices, joint_qpos_indices, load_mujoco_model

from . import env_core as core
from . import observation as obs_mod
from . import rewards as rw
from . import sampling
from .config import SIM_DT, EnvConfig, action_clip
from .env_core import ACTION_SCALE, DEFAULT, SimArrays, StepBatch
from .reference import ReferenceBank

__all__ = ["ACTION_SCALE", "DEFAULT", "CpuVecEnv", "SimArrays", "StepBatch",
           "TrackingEnv", "keypoint_site_ids", "ref_frame", "tracking_model"]


def keypoint_site_ids(model: mujoco.MjModel) -> np.ndarray:
    return np.array([model.site(KEYPOINT_PREFIX + n).id for n in g1.KEYPOINT_NAMES])


def ref_frame(bank: ReferenceBank, row) -> rw.RefFrame:
    return rw.RefFrame(bank.root_pos[row], bank.root_quat[row], bank.dof_pos[row], bank.keypoints[row],
                       bank.keypoint_vel[row])


class TrackingEnv:
    """One G1 tracking a reference drawn at random from ``bank`` (C MuJoCo, 50 Hz over 4 x 5 ms)."""

    def __init__(self, bank: ReferenceBank, cfg: EnvConfig, seed: int = 0, randomize: bool | None = None) -> None:
        self.bank, self.cfg = bank, cfg
        self.randomize = cfg.randomize if randomize is None else randomize
        self.rng = np.random.default_rng(seed)
        self.action_clip = np.asarray(action_clip(cfg.action_clip_to_limits))
        self.model = load_mujoco_model(gains=g1.TRACKING_GAINS)
        self.model.opt.timestep = SIM_DT
        self.data = mujoco.MjData(self.model)
        self.qpos_idx = joint_qpos_indices(self.model)
        self.qvel_idx = joint_dof_indices(self.model)
        self.sites = keypoint_site_ids(self.model)
        self.floor = self.model.geom("floor").id
        self.torso = self.model.body("torso_link").id
        self._nominal = (self.model.geom_friction[self.floor].copy(), float(self.model.body_mass[self.torso]),
                         self.model.actuator_gainprm[:, 0].copy(), self.model.actuator_biasprm[:, 1:3].copy())
        self.future = np.asarray(cfg.future_frames)
        self.student_future = np.asarray(cfg.student_goals)
        self._limits = (np.array([j.lower for j in g1.JOINTS]), np.array([j.upper for j in g1.JOINTS]))
        self.dr = np.array([1.0, 0.0, 1.0])  # friction scale, torso mass offset [kg], gain scale
        self.history: np.ndarray | None = None  # (H, 93) proprioception, newest first
        self.clip = 0
        self.t = 0
        self.steps = 0
        self.limit = 1

    # ------------------------------------------------------------------ pieces
    def sim_arrays(self) -> SimArrays:
        d = self.data
        return SimArrays(d.qpos.copy(), d.qvel.copy(), d.site_xpos[self.sites].copy(), d.actuator_force.copy())

    def _randomize(self) -> None:
        r, m = self.cfg.randomization, self.model
        fr, mass, kp, bias = self._nominal
        if self.randomize:
            f, dm, g = (self.rng.uniform(*r.friction), self.rng.uniform(*r.torso_mass_offset),
                        self.rng.uniform(*r.gain_scale))
        else:
            f, dm, g = 1.0, 0.0, 1.0
        m.geom_friction[self.floor] = fr * np.array([f, 1.0, 1.0])
        m.body_mass[self.torso] = mass + dm
        m.actuator_gainprm[:, 0] = kp * g
        m.actuator_biasprm[:, 1:3] = bias * g
        self.dr = np.array([f, dm, g], np.float64)

    def _next_push(self) -> int:
        lo, hi = self.cfg.randomization.push_interval_s
        return int(self.rng.uniform(lo, hi) / self.cfg.ctrl_dt)

    def set_reference_state(self, clip: int, t: int, dof_offset: np.ndarray | None = None) -> None:
        """Put the robot in the reference state of frame ``t`` of ``clip`` (RSI), its joints moved by
        ``dof_offset`` (29,) [rad] within their limits when given (the PD targets too)."""
        b, row = self.bank, self.bank.frame(clip, t)
        self.clip, self.t = clip, t
        d = self.data
        mujoco.mj_resetData(self.model, d)
        dof = b.dof_pos[row] if dof_offset is None else np.clip(b.dof_pos[row] + dof_offset, *self._limits)
        d.qpos[0:3], d.qpos[3:7], d.qpos[self.qpos_idx] = b.root_pos[row], b.root_quat[row], dof
        d.qvel[0:3], d.qvel[3:6], d.qvel[self.qvel_idx] = b.root_lin_vel[row], b.root_ang_vel[row], b.dof_vel[row]
        d.ctrl[:] = dof
        mujoco.mj_forward(self.model, d)
        self.last_action = np.clip((b.dof_pos[row] - DEFAULT) / ACTION_SCALE, -self.action_clip, self.action_clip)
        self.prev_kp = d.site_xpos[self.sites].copy()

    def _goals(self, offsets: np.ndarray, noisy: bool = True) -> np.ndarray:
        """Goal keypoints (F, 19, 3) world of the frames ``t + offsets`` (F,), from the bank's ``goal_keypoints``
        (``keypoints`` unless ``noisy`` is False); ``noisy`` (and randomised): limb scaling, jitter and dropped
        (stale) frames."""
        b, n = self.bank, self.cfg.noise
        f = self.t + offsets
        randomised = noisy and self.randomize
        if randomised:
            f = f - (self.rng.random(f.shape) < n.goal_drop_prob)
        rows = b.frame(self.clip, np.maximum(f, 0))
        kp = (b.goal_keypoints if noisy else b.keypoints)[rows]
        if randomised:
            root = b.root_pos[rows][:, None, :]
            kp = root + self.limb_scale * (kp - root) + n.goal_jitter * self.rng.normal(size=kp.shape)
        return kp

    def _proprio(self, sim: SimArrays) -> np.ndarray:
        q = sim.qpos
        p = obs_mod.proprioception(np, q[self.qpos_idx], sim.qvel[self.qvel_idx], sim.qvel[3:6], q[3:7],
                                   self.last_action)
        if self.randomize:
            n, k = self.cfg.noise, g1.NUM_DOF
            amp = np.concatenate([np.full(k, n.dof_pos), np.full(k, n.dof_vel * obs_mod.DOF_VEL_SCALE),
                                  np.full(3, n.gyro * obs_mod.GYRO_SCALE), np.full(3, n.gravity), np.zeros(k)])
            p = p + amp * self.rng.uniform(-1, 1, size=p.shape)
        return p

    def observe(self, sim: SimArrays, robot: rw.RobotFrame) -> tuple[np.ndarray, np.ndarray]:
        """Student and teacher observations of the current state (updates the proprio history)."""
        p = self._proprio(sim)
        frames = self.cfg.history_frames
        self.history = np.tile(p, (frames, 1)) if self.history is None else np.roll(self.history, 1, 0)
        self.history[0] = p
        row = self.bank.frame(self.clip, self.t)
        ref = ref_frame(self.bank, row)
        goals = obs_mod.goal_features(np, self._goals(self.student_future), ref.root_pos, robot.root_quat)
        teacher_goals = goals
        clean = self.cfg.noise.teacher_clean_goals
        if clean or self.cfg.student_goals != tuple(self.cfg.future_frames):
            teacher_goals = obs_mod.goal_features(np, self._goals(self.future, noisy=not clean), ref.root_pos,
                                                  robot.root_quat)
        student = np.concatenate([self.history[:self.cfg.student_frames].reshape(-1), goals])
        priv = obs_mod.privileged(np, robot.root_pos, robot.root_quat, robot.root_lin_vel, robot.keypoints,
                                  ref.keypoints, ref.dof_pos, ref.root_quat, robot.contacts, self.dr)
        teacher = np.concatenate([self.history[:self.cfg.history].reshape(-1), teacher_goals, priv])
        return student.astype(np.float32), teacher.astype(np.float32)

    def robot(self, sim: SimArrays) -> rw.RobotFrame:
        return rw.robot_frame(np, sim.qpos, sim.qvel, sim.keypoints, sim.torque, self.prev_kp, self.cfg,
                              self.qpos_idx, self.qvel_idx)

    # ------------------------------------------------------------------ API
    def reset(self, clip: int | None = None, start: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        b = self.bank
        clip = int(self.rng.integers(b.num_clips)) if clip is None else clip
        length = int(b.clip_len[clip])
        start = int(self.rng.integers(max(1, length - 10))) if start is None else start
        self._randomize()
        self.limb_scale = 1.0 + self.cfg.noise.goal_limb_scale * self.rng.uniform(-1, 1) if self.randomize else 1.0
        amp = core.reset_joint_noise(self.cfg) if self.randomize else np.zeros(g1.NUM_DOF)
        self.set_reference_state(clip, start, amp * self.rng.uniform(-1, 1, size=g1.NUM_DOF) if amp.any() else None)
        self.steps, self.limit = 0, max(1, min(self.cfg.episode_length, length - 1 - start))
        self.push_in = self._next_push()
        self.history = None
        sim = self.sim_arrays()
        return self.observe(sim, self.robot(sim))

    def physics_step(self, action: np.ndarray) -> None:
        a = np.clip(np.nan_to_num(action, nan=0.0), -self.action_clip, self.action_clip)
        self.data.ctrl[:] = DEFAULT + ACTION_SCALE * a
        if self.randomize:
            self.push_in -= 1
            if self.push_in <= 0:
                v = self.cfg.randomization.push_velocity
                self.data.qvel[0:2] += self.rng.uniform(-v, v, size=2)
                self.push_in = self._next_push()
        for _ in range(self.cfg.n_substeps):
            mujoco.mj_step(self.model, self.data)

    def step(self, action: np.ndarray):
        """Advance one control step. Returns (student, teacher, reward, terminated, truncated, error, terms);
        the observations are of the new state (no automatic reset here)."""
        action = np.asarray(action, np.float64)
        self.physics_step(action)
        self.t += 1
        self.steps += 1
        sim = self.sim_arrays()
        robot = self.robot(sim)
        ref = ref_frame(self.bank, self.bank.frame(self.clip, self.t))
        bad = not np.all(np.isfinite(sim.qpos))
        done = bool(rw.terminated(np, robot, ref, self.cfg)) or bad
        a = np.clip(action, -self.action_clip, self.action_clip)
        terms = rw.reward_terms(np, robot, ref, a, self.last_action, np.asarray(done), self.cfg)
        reward = float(rw.total_reward(terms, self.cfg.reward_scales))
        err = float(rw.mean_keypoint_error(np, robot.keypoints, ref.keypoints))
        self.last_action = a
        student, teacher = self.observe(sim, robot)
        self.prev_kp = sim.keypoints
        truncated = (not done) and self.steps >= self.limit
        return student, teacher, (reward if not bad else 0.0), done, truncated, err, np.asarray(terms, np.float64)




# ---------------------------------------------------------------------- batched vector env


def tracking_model(gains: g1.PDGains = g1.TRACKING_GAINS) -> mujoco.MjModel:
    """The project's G1 at 5 ms with a ``framepos`` sensor per keypoint site (``kp_<name>``) and an
    ``actuatorfrc`` sensor per actuator (``frc_<joint>``); the dynamics are those of ``load_mujoco_model``."""
    spec = mujoco.MjSpec.from_string(g1_mjcf(gains))
    for name in g1.KEYPOINT_NAMES:
        spec.add_sensor(name="kp_" + name, type=mujoco.mjtSensor.mjSENS_FRAMEPOS, objtype=mujoco.mjtObj.mjOBJ_SITE,
                        objname=KEYPOINT_PREFIX + name)
    model = spec.compile()
    for a in range(model.nu):
        spec.add_sensor(name=f"frc_{a}", type=mujoco.mjtSensor.mjSENS_ACTUATORFRC,
                        objtype=mujoco.mjtObj.mjOBJ_ACTUATOR, objname=model.actuator(a).name)
    model = spec.compile()
    model.opt.timestep = SIM_DT
    return model


def _sensor_columns(model: mujoco.MjModel, names: list[str]) -> np.ndarray:
    return np.concatenate([model.sensor_adr[model.sensor(n).id] + np.arange(model.sensor_dim[model.sensor(n).id])
                           for n in names])


class CpuVecEnv:
    """``num_envs`` tracking envs on C MuJoCo as one batch, ``reset() / step(actions) -> StepBatch``.

    Args:
        bank: the reference motions.
        cfg: the environment config.
        num_envs: N.
        threads: physics threads of the ``mujoco.rollout`` pool (0 or None: ``os.cpu_count()``).
        seed: seed of the counter-based random state (same seed, same episodes and noise as
            :class:`~genmimic.policy.env_mjx.MjxVecEnv`).
        randomize: observation/goal noise, pushes and domain randomisation (default ``cfg.randomize``).

    Per step: one ``Rollout.rollout`` call advances all envs ``cfg.n_substeps`` physics steps (a
    persistent thread pool; the GIL is released), then :mod:`env_core` computes observations, rewards,
    terminations and resets on (N, ...) arrays. The only Python loops over envs are over the envs that
    reset in that step (to set their model's randomised parameters and run forward kinematics of the
    reference state).
    """

    def __init__(self, bank: ReferenceBank, cfg: EnvConfig, num_envs: int, threads: int | None = None,
                 seed: int = 0, randomize: bool | None = None) -> None:
        self.num_envs, self.cfg, self.seed = num_envs, cfg, seed
        self.model = tracking_model()
        m = self.model
        self.threads = int(threads or os.cpu_count() or 1)
        self.models = [copy.copy(m) for _ in range(num_envs)]
        self._datas = [mujoco.MjData(m) for _ in range(self.threads)]
        self._scratch = mujoco.MjData(m)
        self._pool = mujoco.rollout.Rollout(nthread=self.threads)
        self.sites = keypoint_site_ids(m)
        self.floor, self.torso = m.geom("floor").id, m.body("torso_link").id
        self._nominal = (m.geom_friction[self.floor].copy(), float(m.body_mass[self.torso]),
                         m.actuator_gainprm[:, 0].copy(), m.actuator_biasprm[:, 1:3].copy())
        self.kp_cols = _sensor_columns(m, ["kp_" + n for n in g1.KEYPOINT_NAMES])
        self.frc_cols = _sensor_columns(m, [f"frc_{a}" for a in range(m.nu)])
        self.spec = mujoco.mjtState.mjSTATE_FULLPHYSICS
        nstate = mujoco.mj_stateSize(m, self.spec)
        t = mujoco.mj_stateSize(m, mujoco.mjtState.mjSTATE_TIME)
        self.qpos_cols = slice(t, t + m.nq)
        self.qvel_cols = slice(t + m.nq, t + m.nq + m.nv)
        self._out_state = np.empty((num_envs, cfg.n_substeps, nstate))
        self._out_sens = np.empty((num_envs, cfg.n_substeps, m.nsensordata))
        randomize = cfg.randomize if randomize is None else randomize
        self.statics = core.make_statics(np, bank, cfg, joint_qpos_indices(m), joint_dof_indices(m), m.nq, m.nv,
                                         randomize, np.float64)
        self.physics = np.zeros((num_envs, nstate))
        self.ctrl = np.zeros((num_envs, m.nu))
        self.rng = core.rng_init(np, seed)
        self.sampler = sampling.init_state(sampling.make_bins(bank.clip_len, cfg.ctrl_dt, cfg.sampling))
        self.episode: core.Episode | None = None
        self.obs: tuple[np.ndarray, np.ndarray] | None = None
        self.physics_seconds = 0.0  # wall time spent in mujoco.rollout (the physics-only ceiling of a run)

    @property
    def randomize(self) -> bool:
        return bool(self.statics.randomize > 0)

    def set_randomize(self, on: bool) -> None:
        """Switch noise, pushes and domain randomisation (from the next reset on)."""
        self.statics = self.statics._replace(randomize=np.asarray(1.0 if on else 0.0))

    def reseed(self, seed: int) -> None:
        """Fresh random and sampling state, as a new env with ``seed`` (call :meth:`reset` next)."""
        self.seed, self.rng = seed, core.rng_init(np, seed)
        self.sampler = sampling.init_state(sampling.SamplingBins(*(np.asarray(x) for x in self.statics.bins)))

    # ------------------------------------------------------------------ pieces
    def _set_dynamics(self, rows: np.ndarray, dr: np.ndarray) -> None:
        """Friction scale, torso mass offset and gain scale ``dr`` (R, 3) into the models of ``rows``."""
        fr, mass, kp, bias = self._nominal
        for i, (f, dm, g) in zip(rows, np.asarray(dr, np.float64), strict=True):
            m = self.models[i]
            m.geom_friction[self.floor] = fr * np.array([f, 1.0, 1.0])
            m.body_mass[self.torso] = mass + dm
            m.actuator_gainprm[:, 0] = kp * g
            m.actuator_biasprm[:, 1:3] = bias * g

    def _reference_physics(self, qpos: np.ndarray, qvel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Full physics states (R, nstate) at time 0 and their keypoints (R, 19, 3) (forward kinematics)."""
        phys = np.zeros((qpos.shape[0], self.physics.shape[1]))
        phys[:, self.qpos_cols], phys[:, self.qvel_cols] = qpos, qvel
        kp = np.empty((qpos.shape[0], len(self.sites), 3))
        d = self._scratch
        for r in range(qpos.shape[0]):
            d.qpos[:], d.qvel[:] = qpos[r], qvel[r]
            mujoco.mj_kinematics(self.model, d)
            kp[r] = d.site_xpos[self.sites]
        return phys, kp

    def _start(self, rows: np.ndarray) -> tuple[core.Episode, np.ndarray, np.ndarray]:
        """New episodes for ``rows``: draw their random numbers (the same as in a draw for all envs), set
        their physics, return their episode state and first observations."""
        noise = core.reset_noise(np, self.rng, self.num_envs, self.cfg.goal_noise_frames, rows)
        draw = core.draw_resets(np, self.statics, self.cfg, self.sampler, noise)
        qpos, qvel, ctrl = core.reference_state(np, self.statics, draw.clip, draw.start, noise.dof)
        phys, kp = self._reference_physics(qpos, qvel)
        self.physics[rows], self.ctrl[rows] = phys, ctrl
        self._set_dynamics(rows, draw.dr)
        return core.begin(np, self.statics, self.cfg, draw, qpos, qvel, kp, noise.obs)

    # ------------------------------------------------------------------ API
    def reset(self) -> tuple[np.ndarray, np.ndarray]:
        """Start every env anew; returns the student (N, Ds) and teacher (N, Dt) observations."""
        self.episode, s, t = self._start(np.arange(self.num_envs))
        self.rng = core.rng_next(np, self.rng)
        self.obs = (s, t)
        return s, t

    def step(self, actions: np.ndarray) -> StepBatch:
        """Advance all envs one control step with ``actions`` (N, 29); ended episodes restart at once."""
        st, cfg, n = self.statics, self.cfg, self.num_envs
        a = core.clip_action(np, st, np.asarray(actions, np.float64))
        noise = core.step_noise(np, self.rng, n, cfg.goal_noise_frames)
        ep, kick = core.pushes(np, cfg, st, self.episode, noise)
        self.physics[:, self.qvel_cols.start:self.qvel_cols.start + 2] += kick
        self.ctrl = core.controls(st, a)
        t0 = time.perf_counter()
        self._pool.rollout(self.models, self._datas, self.physics, self.ctrl[:, None, :], nstep=cfg.n_substeps,
                           state=self._out_state, sensordata=self._out_sens)
        self.physics_seconds += time.perf_counter() - t0
        self.physics = self._out_state[:, -1].copy()
        self.physics[:, 0] = 0.0  # time: nothing depends on it; kept 0 so a snapshot need not store it
        sens = self._out_sens[:, -1]
        sim = SimArrays(self.physics[:, self.qpos_cols], self.physics[:, self.qvel_cols],
                        sens[:, self.kp_cols].reshape(n, -1, 3), sens[:, self.frc_cols])
        ep, out = core.after_physics(np, st, cfg, ep, sim, a, noise.obs)
        self.sampler = sampling.update(np, self.sampler, st.bins, cfg.sampling, ep.clip, ep.t, ep.t - ep.steps,
                                       out.terminated, out.terminated | out.truncated)
        ended = np.flatnonzero(out.terminated | out.truncated)
        student, teacher = out.student, out.teacher
        if ended.size:
            fresh, s0, t0 = self._start(ended)
            ep = core.Episode(*(_put(x, ended, y) for x, y in zip(ep, fresh, strict=True)))
            student, teacher = _put(student, ended, s0), _put(teacher, ended, t0)
        self.episode, self.rng = ep, core.rng_next(np, self.rng)
        self.obs = (student, teacher)
        return out._replace(student=student, teacher=teacher)

    # ------------------------------------------------------------------ checkpoints
    def snapshot(self) -> core.EnvSnapshot:
        """The env's complete state (see :class:`~genmimic.policy.env_core.EnvSnapshot`)."""
        p = self.physics
        return core.EnvSnapshot(p[:, self.qpos_cols].copy(), p[:, self.qvel_cols].copy(), self.ctrl.copy(),
                                np.zeros_like(p[:, self.qvel_cols]), self.episode, self.rng, self.sampler, *self.obs)

    def restore(self, snap: core.EnvSnapshot) -> tuple[np.ndarray, np.ndarray]:
        """Continue from a snapshot of an env of the same size and bank; returns its observations."""
        self.physics = np.zeros_like(self.physics)
        self.physics[:, self.qpos_cols], self.physics[:, self.qvel_cols] = snap.qpos, snap.qvel
        self.ctrl = np.asarray(snap.ctrl, np.float64).copy()
        self.episode = core.Episode(*(np.asarray(x).copy() for x in snap.episode))
        self.rng = core.Rng(*(np.asarray(x, np.uint32).reshape(1) for x in snap.rng))
        self.sampler = sampling.SamplerState(*(np.asarray(x).copy() for x in snap.sampler))
        self._set_dynamics(np.arange(self.num_envs), self.episode.dr)
        self.obs = (np.asarray(snap.student), np.asarray(snap.teacher))
        return self.obs

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def __enter__(self) -> CpuVecEnv:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _put(x: np.ndarray, rows: np.ndarray, values: np.ndarray) -> np.ndarray:
    out = x.copy()
    out[rows] = values
    return out
