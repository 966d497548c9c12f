"""The tracking environment, written once over an array namespace ``xp`` with a leading batch axis.

Everything but the physics lives here as pure functions, state in and state out, used by both
backends: :mod:`env_cpu` (``xp = numpy``, C MuJoCo stepped by ``mujoco.rollout`` threads) and
:mod:`env_mjx` (``xp = jax.numpy``, MJX, jitted). Observations and rewards come from
:mod:`observation` and :mod:`rewards`; start states from :mod:`sampling`.

Randomness is explicit and identical on both backends: :class:`Rng` is a seed and a step counter, and
every random number is a hash of (seed, counter, stream, element index) (a counter-based generator in
the manner of Salmon et al. 2011, "Parallel random numbers: as easy as 1, 2, 3", with a 32-bit integer
finaliser as the mixing function), so the same seed gives the same noise in NumPy and JAX, for any
subset of envs, without carrying generator objects. One env step uses one counter value.

Randomisation is the array flag ``Statics.randomize`` (0.0 or 1.0), not a Python branch, so switching it
does not recompile the MJX step.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from genmimic.core import g1_constants as g1

from . import observation as obs_mod
from . import rewards as rw
from . import sampling
from .config import EnvConfig, action_clip, action_scale
from .reference import ReferenceBank

ACTION_SCALE = np.asarray(action_scale(), np.float64)
DEFAULT = np.asarray(g1.DEFAULT_DOF_POS, np.float64)
NOMINAL_DR = (1.0, 0.0, 1.0)  # friction scale, torso mass offset [kg], PD gain scale


class StepBatch(NamedTuple):
    """What a vector env returns after a step, one row per env.

    student (N, Ds) and teacher (N, Dt) observations (of the next episode's first state after a reset);
    reward (N,); terminated (N,) bool (failure); truncated (N,) bool (time or clip end); final_teacher
    (N, Dt): the teacher observation of the last state where truncated (for bootstrapping);
    tracking_error (N,) [m]; terms (N, 10) unscaled reward terms.
    """

    student: Any
    teacher: Any
    reward: Any
    terminated: Any
    truncated: Any
    final_teacher: Any
    tracking_error: Any
    terms: Any


class SimArrays(NamedTuple):
    """What the physics gives back after a control step (N leading): qpos (N, nq), qvel (N, nv), keypoint
    site positions (N, 19, 3) world [m] and actuator forces (N, 29) [Nm] (both from the last substep's
    forward pass, as ``MjData.site_xpos`` after ``mj_step``)."""

    qpos: Any
    qvel: Any
    keypoints: Any
    torque: Any


class Statics(NamedTuple):
    """Constant arrays of an env: the reference bank, the teacher's future frame offsets (F,) and the
    student's goal frame offsets (Fs,) (:attr:`config.EnvConfig.student_goals`), action scale and default
    pose (29,), joint addresses in qpos/qvel (29,), the qpos column order of a reference state (nq,),
    observation-noise amplitudes (93,), the sampling bins, ``randomize`` (scalar 0.0 or 1.0), the
    actions' clip (29,) (:func:`config.action_clip`), the reset's joint-noise amplitudes (29,) [rad]
    (:attr:`config.RandomizationConfig.reset_joint_noise`) and the joints' lower and upper limits (29,) [rad]."""

    bank: ReferenceBank
    future: Any
    student_future: Any
    action_scale: Any
    default: Any
    qpos_idx: Any
    qvel_idx: Any
    qpos_order: Any
    qvel_order: Any
    noise_amp: Any
    bins: sampling.SamplingBins
    randomize: Any
    action_clip: Any
    reset_joint_noise: Any
    dof_lower: Any
    dof_upper: Any


class Rng(NamedTuple):
    """Counter-based random state: ``seed`` (1,) uint32 and ``counter`` (1,) uint32 (env steps drawn)."""

    seed: Any
    counter: Any


class Episode(NamedTuple):
    """Per-env episode state (N leading): clip, t (frame), steps, limit (N,) int32; last_action (N, 29);
    history (N, H, 93) proprioception, newest first; prev_kp (N, 19, 3) keypoints one step ago [m];
    push_in (N,) int32 control steps to the next push; limb_scale (N,); dr (N, 3) friction scale, torso
    mass offset [kg], PD gain scale."""

    clip: Any
    t: Any
    steps: Any
    limit: Any
    last_action: Any
    history: Any
    prev_kp: Any
    push_in: Any
    limb_scale: Any
    dr: Any


class ObsNoise(NamedTuple):
    """Uniforms in [0, 1): proprio (N, 93), goal_drop (N, F); goal_jitter (N, F, 19, 3) standard normal."""

    proprio: Any
    goal_drop: Any
    goal_jitter: Any


class StepNoise(NamedTuple):
    """One step's uniforms: push (N, 2), push_interval (N,), and the observation noise."""

    push: Any
    push_interval: Any
    obs: ObsNoise


class ResetNoise(NamedTuple):
    """A reset's uniforms: bin, frame, push_interval, limb (N,), dr (N, 3), dof (N, 29) (the joint noise of
    the reference state init), and the first observation's noise."""

    bin: Any
    frame: Any
    push_interval: Any
    limb: Any
    dr: Any
    dof: Any
    obs: ObsNoise


class ResetDraw(NamedTuple):
    """Where new episodes start: clip, start (N,) int32, dr (N, 3), limb_scale (N,), push_in (N,) int32."""

    clip: Any
    start: Any
    dr: Any
    limb_scale: Any
    push_in: Any


class EnvSnapshot(NamedTuple):
    """Everything a vector env needs to continue exactly (saved in training checkpoints; the same on both
    backends): qpos (N, nq), qvel (N, nv), ctrl (N, 29), warmstart (N, nv) (MJX's ``qacc_warmstart``;
    zeros on the CPU, whose rollouts start cold every control step), the episode state, the random state,
    the adaptive-sampling state and the current student (N, Ds) and teacher (N, Dt) observations."""

    qpos: Any
    qvel: Any
    ctrl: Any
    warmstart: Any
    episode: Episode
    rng: Rng
    sampler: sampling.SamplerState
    student: Any
    teacher: Any


# ---------------------------------------------------------------- construction


def make_statics(xp: Any, bank: ReferenceBank, cfg: EnvConfig, qpos_idx: np.ndarray, qvel_idx: np.ndarray,
                 nq: int, nv: int, randomize: bool, dtype: Any) -> Statics:
    """The constant arrays in ``xp`` (floats as ``dtype``)."""
    def f(a):
        return xp.asarray(np.asarray(a), dtype=dtype)

    def i(a):
        return xp.asarray(np.asarray(a), dtype=xp.int32)

    fb = ReferenceBank(*(f(a) if np.asarray(a).dtype.kind == "f" else i(a) for a in bank))
    n, k = cfg.noise, g1.NUM_DOF
    amp = np.concatenate([np.full(k, n.dof_pos), np.full(k, n.dof_vel * obs_mod.DOF_VEL_SCALE),
                          np.full(3, n.gyro * obs_mod.GYRO_SCALE), np.full(3, n.gravity), np.zeros(k)])
    # a reference state is [root_pos, root_quat, dof_pos] / [lin_vel, ang_vel, dof_vel] gathered into qpos/qvel
    qorder = np.zeros(nq, np.int32)
    qorder[np.asarray(qpos_idx)] = 7 + np.arange(k)
    qorder[:7] = np.arange(7)
    vorder = np.zeros(nv, np.int32)
    vorder[np.asarray(qvel_idx)] = 6 + np.arange(k)
    vorder[:6] = np.arange(6)
    bins = sampling.make_bins(np.asarray(bank.clip_len), cfg.ctrl_dt, cfg.sampling)
    return Statics(fb, i(cfg.future_frames), i(cfg.student_goals), f(ACTION_SCALE), f(DEFAULT), i(qpos_idx),
                   i(qvel_idx), i(qorder), i(vorder), f(amp),
                   sampling.SamplingBins(f(bins.valid), i(bins.frames), i(bins.bin_frames)),
                   f(1.0 if randomize else 0.0), f(action_clip(cfg.action_clip_to_limits)), f(reset_joint_noise(cfg)),
                   f([j.lower for j in g1.JOINTS]), f([j.upper for j in g1.JOINTS]))


def reset_joint_noise(cfg: EnvConfig) -> np.ndarray:
    """Amplitudes (29,) [rad], SDK order, of the reset's joint noise: ``randomization.reset_joint_noise`` on
    the joints named by ``randomization.reset_joint_noise_joints`` (substrings of the joint names), else 0."""
    r = cfg.randomization
    return np.array([r.reset_joint_noise if any(w in name for w in r.reset_joint_noise_joints) else 0.0
                     for name in g1.JOINT_NAMES])


def rng_init(xp: Any, seed: int) -> Rng:
    return Rng(xp.asarray([seed & 0xFFFFFFFF], dtype=xp.uint32), xp.zeros(1, dtype=xp.uint32))


def rng_next(xp: Any, rng: Rng) -> Rng:
    return Rng(rng.seed, rng.counter + xp.asarray(1, dtype=xp.uint32))


# ---------------------------------------------------------------- random numbers


def _mix(xp: Any, x: Any) -> Any:
    """A 32-bit integer finaliser (xorshift-multiply, two rounds): uint32 in, well-mixed uint32 out."""
    x = x ^ (x >> xp.uint32(16))
    x = x * xp.uint32(0x7FEB352D)
    x = x ^ (x >> xp.uint32(15))
    x = x * xp.uint32(0x846CA68B)
    return x ^ (x >> xp.uint32(16))


def _index(xp: Any, shape: tuple[int, ...], rows: Any) -> tuple[Any, tuple[int, ...]]:
    """Flat element indices of ``shape`` (all of it, or only the leading-axis ``rows``) and their shape."""
    if rows is None:
        return xp.arange(int(np.prod(shape)), dtype=xp.uint32).reshape(shape), shape
    inner = int(np.prod(shape[1:]))
    idx = xp.asarray(rows, dtype=xp.uint32)[:, None] * xp.uint32(inner) + xp.arange(inner, dtype=xp.uint32)
    out = (len(rows),) + tuple(shape[1:])
    return idx.reshape(out), out


def uniform(xp: Any, rng: Rng, stream: int, shape: tuple[int, ...], rows: Any = None) -> Any:
    """Uniforms in [0, 1) of ``shape`` (float32, multiples of 2^-24): identical in NumPy and JAX. With
    ``rows`` (R,), only those rows of the leading axis (the same numbers as in the full draw)."""
    salt = xp.uint32((stream * 0x632BE5AB + 1) & 0xFFFFFFFF)
    base = _mix(xp, rng.seed ^ _mix(xp, rng.counter * xp.uint32(0x9E3779B9) + salt))
    idx, out = _index(xp, shape, rows)
    h = _mix(xp, idx * xp.uint32(0x9E3779B1) + base)
    return ((h >> xp.uint32(8)).astype(xp.float32) * xp.float32(2.0**-24)).reshape(out)


def normal(xp: Any, rng: Rng, stream: int, shape: tuple[int, ...], rows: Any = None) -> Any:
    """Standard normals of ``shape`` (float32) by the Box-Muller transform of two uniform streams."""
    u1 = 1.0 - uniform(xp, rng, stream, shape, rows)  # (0, 1]
    u2 = uniform(xp, rng, stream + 1, shape, rows)
    return (xp.sqrt(-2.0 * xp.log(u1)) * xp.cos(xp.float32(2 * np.pi) * u2)).astype(xp.float32)


def _obs_noise(xp: Any, rng: Rng, stream: int, n: int, num_future: int, rows: Any = None) -> ObsNoise:
    return ObsNoise(uniform(xp, rng, stream, (n, obs_mod.PROPRIO_SIZE), rows),
                    uniform(xp, rng, stream + 1, (n, num_future), rows),
                    normal(xp, rng, stream + 2, (n, num_future, obs_mod.NUM_KEYPOINTS, 3), rows))


def step_noise(xp: Any, rng: Rng, n: int, num_future: int) -> StepNoise:
    return StepNoise(uniform(xp, rng, 1, (n, 2)), uniform(xp, rng, 2, (n,)), _obs_noise(xp, rng, 3, n, num_future))


def reset_noise(xp: Any, rng: Rng, n: int, num_future: int, rows: Any = None) -> ResetNoise:
    """A reset's random numbers for ``n`` envs, or only for ``rows`` of them (the same numbers)."""
    return ResetNoise(uniform(xp, rng, 10, (n,), rows), uniform(xp, rng, 11, (n,), rows),
                      uniform(xp, rng, 12, (n,), rows), uniform(xp, rng, 13, (n,), rows),
                      uniform(xp, rng, 14, (n, 3), rows), uniform(xp, rng, 15, (n, g1.NUM_DOF), rows),
                      _obs_noise(xp, rng, 20, n, num_future, rows))


# ---------------------------------------------------------------- pieces


def frame(xp: Any, st: Statics, clip: Any, t: Any) -> Any:
    """Bank rows of frame ``t`` of ``clip`` (held at the last frame past the end)."""
    return st.bank.clip_start[clip] + xp.minimum(t, st.bank.clip_len[clip] - 1)


def ref_frame(st: Statics, rows: Any) -> rw.RefFrame:
    b = st.bank
    return rw.RefFrame(b.root_pos[rows], b.root_quat[rows], b.dof_pos[rows], b.keypoints[rows], b.keypoint_vel[rows])


def interval(xp: Any, cfg: EnvConfig, u: Any) -> Any:
    """Control steps to the next push from uniforms ``u`` (N,)."""
    lo, hi = cfg.randomization.push_interval_s
    return ((lo + u * (hi - lo)) / cfg.ctrl_dt).astype(xp.int32)


def goal_keypoints(xp: Any, st: Statics, cfg: EnvConfig, clip: Any, t: Any, limb_scale: Any, noise: ObsNoise,
                   offsets: Any, clean: bool = False) -> Any:
    """Noisy goal keypoints (N, F, 19, 3) world [m] of the frames ``t + offsets`` (offsets (F,), control steps;
    held at a clip's first and last frames): limb scaling, jitter and dropped (stale) frames, about the
    bank's ``goal_keypoints`` (a corrupted version of a motion where the corpus pairs one), or about the
    motion's own ``keypoints`` when ``clean``. ``noise`` covers at least F frames; the first F are used."""
    r, num = st.randomize, offsets.shape[0]
    f = t[:, None] + offsets[None, :]
    f = f - ((noise.goal_drop[:, :num] < cfg.noise.goal_drop_prob) & (r > 0)).astype(f.dtype)
    rows = frame(xp, st, clip[:, None], xp.maximum(f, 0))
    kp = (st.bank.keypoints if clean else st.bank.goal_keypoints)[rows]
    root = st.bank.root_pos[rows][:, :, None, :]
    scale = limb_scale[:, None, None, None]
    jitter = (r * cfg.noise.goal_jitter) * noise.goal_jitter[:, :num]
    return root + scale * (kp - root) + jitter.astype(kp.dtype)


def proprio(xp: Any, st: Statics, qpos: Any, qvel: Any, last_action: Any, u: Any) -> Any:
    """Noisy proprioception (N, 93) from qpos (N, nq), qvel (N, nv), the last action and uniforms (N, 93)."""
    p = obs_mod.proprioception(xp, qpos[:, st.qpos_idx], qvel[:, st.qvel_idx], qvel[:, 3:6], qpos[:, 3:7],
                               last_action)
    return p + (st.randomize * st.noise_amp * (2.0 * u - 1.0)).astype(p.dtype)


def observe(xp: Any, st: Statics, cfg: EnvConfig, ep: Episode, robot: rw.RobotFrame,
            noise: ObsNoise) -> tuple[Any, Any]:
    """Student (N, Ds) and teacher (N, Dt) observations of the current state (float32)."""
    ref = ref_frame(st, frame(xp, st, ep.clip, ep.t))

    def features(offsets: Any, limb_scale: Any, obs_noise: ObsNoise, clean: bool) -> Any:
        kp = goal_keypoints(xp, st, cfg, ep.clip, ep.t, limb_scale, obs_noise, offsets, clean)
        return obs_mod.goal_features(xp, kp, ref.root_pos, robot.root_quat)

    goals = features(st.student_future, ep.limb_scale, noise, False)
    if cfg.noise.teacher_clean_goals:  # no dropped frame, no jitter, no limb scaling
        quiet = noise._replace(goal_drop=xp.ones_like(noise.goal_drop), goal_jitter=xp.zeros_like(noise.goal_jitter))
        teacher_goals = features(st.future, xp.ones_like(ep.limb_scale), quiet, True)
    elif cfg.student_goals == tuple(cfg.future_frames):
        teacher_goals = goals
    else:
        teacher_goals = features(st.future, ep.limb_scale, noise, False)
    n = ep.history.shape[0]
    student = xp.concatenate([ep.history[:, :cfg.student_frames].reshape(n, -1), goals], -1)
    priv = obs_mod.privileged(xp, robot.root_pos, robot.root_quat, robot.root_lin_vel, robot.keypoints,
                              ref.keypoints, ref.dof_pos, ref.root_quat, robot.contacts,
                              ep.dr.astype(robot.root_pos.dtype))
    teacher = xp.concatenate([ep.history[:, :cfg.history].reshape(n, -1), teacher_goals, priv], -1)
    return student.astype(xp.float32), teacher.astype(xp.float32)


def robot_frame(xp: Any, st: Statics, cfg: EnvConfig, sim: SimArrays, prev_kp: Any) -> rw.RobotFrame:
    return rw.robot_frame(xp, sim.qpos, sim.qvel, sim.keypoints, sim.torque, prev_kp, cfg, st.qpos_idx, st.qvel_idx)


# ---------------------------------------------------------------- reset


def draw_resets(xp: Any, st: Statics, cfg: EnvConfig, sampler: sampling.SamplerState, noise: ResetNoise) -> ResetDraw:
    """Start clips and frames (adaptive sampling), randomisation and push timers for every env."""
    clip, start = sampling.draw(xp, sampler, st.bins, cfg.sampling, noise.bin, noise.frame)
    r = cfg.randomization
    lo = xp.asarray([r.friction[0], r.torso_mass_offset[0], r.gain_scale[0]], dtype=xp.float32)
    hi = xp.asarray([r.friction[1], r.torso_mass_offset[1], r.gain_scale[1]], dtype=xp.float32)
    nominal = xp.asarray(NOMINAL_DR, dtype=xp.float32)
    dr = xp.where(st.randomize > 0, lo + noise.dr * (hi - lo), nominal)
    limb = 1.0 + (st.randomize * cfg.noise.goal_limb_scale) * (2.0 * noise.limb - 1.0)
    return ResetDraw(clip, start, dr.astype(xp.float32), limb.astype(xp.float32),
                     interval(xp, cfg, noise.push_interval))


def reference_state(xp: Any, st: Statics, clip: Any, start: Any, dof_noise: Any = None) -> tuple[Any, Any, Any]:
    """qpos (N, nq), qvel (N, nv) and ctrl (N, 29) of the reference state at frame ``start`` of ``clip``
    (reference state initialisation: root pose and velocities, joints). ``dof_noise``: uniforms (N, 29) in
    [0, 1) (:attr:`ResetNoise.dof`) that move each joint by up to +- ``st.reset_joint_noise`` [rad] (when
    ``st.randomize``), within its limits; the PD targets (ctrl) are the perturbed angles."""
    b, row = st.bank, frame(xp, st, clip, start)
    dof = b.dof_pos[row]
    if dof_noise is not None:
        amp = st.randomize * st.reset_joint_noise
        dof = xp.clip(dof + amp * (2.0 * dof_noise - 1.0), st.dof_lower, st.dof_upper).astype(dof.dtype)
    pos = xp.concatenate([b.root_pos[row], b.root_quat[row], dof], -1)
    vel = xp.concatenate([b.root_lin_vel[row], b.root_ang_vel[row], b.dof_vel[row]], -1)
    return pos[:, st.qpos_order], vel[:, st.qvel_order], dof


def begin(xp: Any, st: Statics, cfg: EnvConfig, draw: ResetDraw, qpos: Any, qvel: Any, keypoints: Any,
          noise: ObsNoise) -> tuple[Episode, Any, Any]:
    """New episodes in the reference state (keypoints (N, 19, 3) from forward kinematics of it): the
    episode state and the first student and teacher observations."""
    row = frame(xp, st, draw.clip, draw.start)
    last = xp.clip((st.bank.dof_pos[row] - st.default) / st.action_scale, -st.action_clip, st.action_clip)
    p = proprio(xp, st, qpos, qvel, last, noise.proprio)
    length = st.bank.clip_len[draw.clip]
    limit = xp.maximum(1, xp.minimum(cfg.episode_length, length - 1 - draw.start)).astype(xp.int32)
    zeros = xp.zeros_like(draw.start)
    ep = Episode(draw.clip, draw.start, zeros, limit, last, xp.repeat(p[:, None, :], cfg.history_frames, 1), keypoints,
                 draw.push_in, draw.limb_scale, draw.dr)
    sim = SimArrays(qpos, qvel, keypoints, xp.zeros_like(last))
    s, t = observe(xp, st, cfg, ep, robot_frame(xp, st, cfg, sim, keypoints), noise)
    return ep, s, t


# ---------------------------------------------------------------- step


def clip_action(xp: Any, st: Statics, action: Any) -> Any:
    """Actions (N, 29) with NaN as 0, each clipped to +- its ``st.action_clip``."""
    return xp.clip(xp.nan_to_num(action, nan=0.0), -st.action_clip, st.action_clip)


def controls(st: Statics, action: Any) -> Any:
    """PD position targets (N, 29) [rad]: default pose + action_scale * clipped action."""
    return st.default + st.action_scale * action


def pushes(xp: Any, cfg: EnvConfig, st: Statics, ep: Episode, noise: StepNoise) -> tuple[Episode, Any]:
    """Count down to the next push; returns the episode state and the root velocity kick (N, 2) [m/s]."""
    push_in = ep.push_in - 1
    due = (push_in <= 0) & (st.randomize > 0)
    v = cfg.randomization.push_velocity
    kick = xp.where(due[:, None], v * (2.0 * noise.push - 1.0), 0.0)
    push_in = xp.where(due, interval(xp, cfg, noise.push_interval), push_in)
    return ep._replace(push_in=push_in.astype(xp.int32)), kick


def after_physics(xp: Any, st: Statics, cfg: EnvConfig, ep: Episode, sim: SimArrays, action: Any,
                  noise: ObsNoise) -> tuple[Episode, StepBatch]:
    """Observation, reward and termination after a control step (``action`` already clipped). The
    returned StepBatch has the observations of the state reached (``final_teacher`` equals ``teacher``);
    the backend replaces the rows of ended episodes by their reset."""
    t, steps = ep.t + 1, ep.steps + 1
    robot = robot_frame(xp, st, cfg, sim, ep.prev_kp)
    ref = ref_frame(st, frame(xp, st, ep.clip, t))
    bad = ~xp.all(xp.isfinite(sim.qpos), -1)
    done = rw.terminated(xp, robot, ref, cfg) | bad
    terms = rw.reward_terms(xp, robot, ref, action, ep.last_action, done, cfg)
    reward = xp.where(bad, 0.0, rw.total_reward(terms, cfg.reward_scales))
    err = rw.mean_keypoint_error(xp, robot.keypoints, ref.keypoints)
    p = proprio(xp, st, sim.qpos, sim.qvel, action, noise.proprio)
    history = xp.concatenate([p[:, None, :], ep.history[:, :-1]], 1)
    new = ep._replace(t=t, steps=steps, last_action=action, history=history, prev_kp=sim.keypoints)
    s, te = observe(xp, st, cfg, new, robot, noise)
    trunc = (~done) & (steps >= ep.limit)
    return new, StepBatch(s, te, reward, done, trunc, te, err, xp.stack(terms, -1))
