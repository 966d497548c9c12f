"""The tracking environment on C MuJoCo (CPU), one env per ``MjData``, in parallel worker processes.

Observation, reward and termination come from :mod:`observation` and :mod:`rewards` (shared with the
MJX backend); this module only steps the physics, samples references, noise and randomisation.
"""

from __future__ import annotations

import multiprocessing as mp
from typing import NamedTuple

import mujoco
import numpy as np

from genmimic.core import g1_constants as g1
from genmimic.core.g1_model import KEYPOINT_PREFIX, joint_dof_indices, joint_qpos_indices, load_mujoco_model

from . import observation as obs_mod
from . import rewards as rw
from .config import SIM_DT, EnvConfig, action_scale
from .reference import ReferenceBank

ACTION_CLIP = 5.0
ACTION_SCALE = np.asarray(action_scale(), np.float64)
DEFAULT = np.asarray(g1.DEFAULT_DOF_POS, np.float64)


class StepBatch(NamedTuple):
    """What a (vector) env returns after a step, one row per env.

    student (N, Ds) and teacher (N, Dt) observations (of the next episode's first state after a reset);
    reward (N,); terminated (N,) bool (failure); truncated (N,) bool (time or clip end); final_teacher
    (N, Dt): the teacher observation of the last state where truncated (for bootstrapping);
    tracking_error (N,) [m]; terms (N, 10) unscaled reward terms.
    """

    student: np.ndarray
    teacher: np.ndarray
    reward: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    final_teacher: np.ndarray
    tracking_error: np.ndarray
    terms: np.ndarray


class SimArrays(NamedTuple):
    qpos: np.ndarray
    qvel: np.ndarray
    keypoints: np.ndarray
    torque: np.ndarray


def keypoint_site_ids(model: mujoco.MjModel) -> np.ndarray:
    return np.array([model.site(KEYPOINT_PREFIX + n).id for n in g1.KEYPOINT_NAMES])


def ref_frame(bank: ReferenceBank, row) -> rw.RefFrame:
    return rw.RefFrame(bank.root_pos[row], bank.root_quat[row], bank.dof_pos[row], bank.keypoints[row])


class TrackingEnv:
    """One G1 tracking a reference drawn at random from ``bank`` (C MuJoCo, 50 Hz over 4 x 5 ms)."""

    def __init__(self, bank: ReferenceBank, cfg: EnvConfig, seed: int = 0, randomize: bool | None = None) -> None:
        self.bank, self.cfg = bank, cfg
        self.randomize = cfg.randomize if randomize is None else randomize
        self.rng = np.random.default_rng(seed)
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

    def set_reference_state(self, clip: int, t: int) -> None:
        """Put the robot exactly in the reference state of frame ``t`` of ``clip`` (RSI)."""
        b, row = self.bank, self.bank.frame(clip, t)
        self.clip, self.t = clip, t
        d = self.data
        mujoco.mj_resetData(self.model, d)
        d.qpos[0:3], d.qpos[3:7], d.qpos[self.qpos_idx] = b.root_pos[row], b.root_quat[row], b.dof_pos[row]
        d.qvel[0:3], d.qvel[3:6], d.qvel[self.qvel_idx] = b.root_lin_vel[row], b.root_ang_vel[row], b.dof_vel[row]
        d.ctrl[:] = b.dof_pos[row]
        mujoco.mj_forward(self.model, d)
        self.last_action = np.clip((b.dof_pos[row] - DEFAULT) / ACTION_SCALE, -ACTION_CLIP, ACTION_CLIP)
        self.prev_kp = d.site_xpos[self.sites].copy()

    def _goals(self) -> np.ndarray:
        """Noisy goal keypoints (F, 19, 3) world: limb scaling, jitter and dropped (stale) frames."""
        b, n = self.bank, self.cfg.noise
        f = self.t + self.future
        if self.randomize:
            f = f - (self.rng.random(f.shape) < n.goal_drop_prob)
        rows = b.frame(self.clip, np.maximum(f, 0))
        kp = b.keypoints[rows]
        if self.randomize:
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
        self.history = np.tile(p, (self.cfg.history, 1)) if self.history is None else np.roll(self.history, 1, 0)
        self.history[0] = p
        row = self.bank.frame(self.clip, self.t)
        ref = ref_frame(self.bank, row)
        goals = obs_mod.goal_features(np, self._goals(), ref.root_pos, robot.root_quat)
        student = np.concatenate([self.history.reshape(-1), goals])
        priv = obs_mod.privileged(np, robot.root_pos, robot.root_quat, robot.root_lin_vel, robot.keypoints,
                                  ref.keypoints, ref.dof_pos, ref.root_quat, robot.contacts, self.dr)
        return student.astype(np.float32), np.concatenate([student, priv]).astype(np.float32)

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
        self.set_reference_state(clip, start)
        self.steps, self.limit = 0, max(1, min(self.cfg.episode_length, length - 1 - start))
        self.push_in = self._next_push()
        self.history = None
        sim = self.sim_arrays()
        return self.observe(sim, self.robot(sim))

    def physics_step(self, action: np.ndarray) -> None:
        a = np.clip(np.nan_to_num(action, nan=0.0), -ACTION_CLIP, ACTION_CLIP)
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
        a = np.clip(action, -ACTION_CLIP, ACTION_CLIP)
        terms = rw.reward_terms(np, robot, ref, a, self.last_action, np.asarray(done), self.cfg)
        reward = float(rw.total_reward(terms, self.cfg.reward_scales))
        err = float(rw.mean_keypoint_error(np, robot.keypoints, ref.keypoints))
        self.last_action = a
        student, teacher = self.observe(sim, robot)
        self.prev_kp = sim.keypoints
        truncated = (not done) and self.steps >= self.limit
        return student, teacher, (reward if not bad else 0.0), done, truncated, err, np.asarray(terms, np.float64)


# ---------------------------------------------------------------------- vector env


class _Envs:
    """A list of envs stepped in turn, with automatic reset (runs in a worker or in-process)."""

    def __init__(self, bank: ReferenceBank, cfg: EnvConfig, seeds: list[int]) -> None:
        self.envs = [TrackingEnv(bank, cfg, s) for s in seeds]

    def reset(self) -> tuple[np.ndarray, np.ndarray]:
        outs = [e.reset() for e in self.envs]
        return np.stack([o[0] for o in outs]), np.stack([o[1] for o in outs])

    def step(self, actions: np.ndarray) -> StepBatch:
        rows = []
        for env, a in zip(self.envs, actions, strict=True):
            s, t, r, term, trunc, err, terms = env.step(a)
            final = t
            if term or trunc:
                s, t = env.reset()
            rows.append((s, t, r, term, trunc, final, err, terms))
        return StepBatch(*(np.stack([row[i] for row in rows]) for i in range(8)))


def _worker(conn, bank, cfg, seeds) -> None:
    envs = _Envs(bank, cfg, seeds)
    try:
        while True:
            cmd, arg = conn.recv()
            if cmd == "reset":
                conn.send(envs.reset())
            elif cmd == "step":
                conn.send(envs.step(arg))
            elif cmd == "close":
                break
    except (EOFError, KeyboardInterrupt):
        pass
    finally:
        conn.close()


class CpuVecEnv:
    """``num_envs`` tracking envs split over ``workers`` processes (0: in this process)."""

    def __init__(self, bank: ReferenceBank, cfg: EnvConfig, num_envs: int, workers: int = 2, seed: int = 0) -> None:
        self.num_envs, self.cfg = num_envs, cfg
        seeds = [seed * 100_003 + i for i in range(num_envs)]
        self._local = None
        self._conns = []
        self._procs = []
        if workers <= 0:
            self._local = _Envs(bank, cfg, seeds)
            return
        ctx = mp.get_context("spawn")
        for chunk in np.array_split(np.arange(num_envs), workers):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_worker, args=(child, bank, cfg, [seeds[i] for i in chunk]), daemon=True)
            proc.start()
            child.close()
            self._conns.append((parent, len(chunk)))
            self._procs.append(proc)

    def reset(self) -> tuple[np.ndarray, np.ndarray]:
        if self._local is not None:
            return self._local.reset()
        for c, _ in self._conns:
            c.send(("reset", None))
        outs = [c.recv() for c, _ in self._conns]
        return np.concatenate([o[0] for o in outs]), np.concatenate([o[1] for o in outs])

    def step(self, actions: np.ndarray) -> StepBatch:
        actions = np.asarray(actions, np.float64)
        if self._local is not None:
            return self._local.step(actions)
        i = 0
        for c, n in self._conns:
            c.send(("step", actions[i:i + n]))
            i += n
        outs = [c.recv() for c, _ in self._conns]
        return StepBatch(*(np.concatenate(parts) for parts in zip(*outs, strict=True)))

    def close(self) -> None:
        for c, _ in self._conns:
            try:
                c.send(("close", None))
                c.close()
            except (BrokenPipeError, OSError):
                pass
        for p in self._procs:
            p.join(timeout=5)
        self._conns, self._procs = [], []

    def __enter__(self) -> CpuVecEnv:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
