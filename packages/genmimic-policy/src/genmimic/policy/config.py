"""Configuration as plain, frozen data: the environment apart from the learners.

``default_config()`` returns a fresh :class:`TrainConfig` each call; :func:`config_from_dict` applies a
JSON file's nested overrides (unknown keys are errors). Reward-scale field names equal the reward-term
function names in :mod:`genmimic.policy.rewards` (a test checks it).
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from genmimic.core import g1_constants as g1
from genmimic.core.files import missing_file_hint
from genmimic.core.tracking import FALL_HEIGHT_DROP_M, FALL_TILT_RAD

from .errors import ConfigError

CTRL_DT = 0.02  #: policy period [s] (50 Hz)
SIM_DT = 0.005  #: physics step [s]


def action_scale(gains: g1.PDGains = g1.ARMATURE_GAINS) -> tuple[float, ...]:
    """Per-joint action scale [rad] in SDK order: ``0.25 * effort / kp`` (BeyondMimic/mjlab), by default at
    the armature gains (:data:`genmimic.core.g1_constants.ARMATURE_GAINS`, which the tracking gains stiffen
    at the waist: a policy's action keeps the meaning it was trained with)."""
    return tuple(0.25 * j.motor.effort / kp for j, kp in zip(g1.JOINTS, gains.kp, strict=True))


def action_clip(to_limits: bool = False, gains: g1.PDGains = g1.ARMATURE_GAINS) -> tuple[float, ...]:
    """Per-joint clip of the actions (29,), SDK order: +-``ACTION_CLIP`` for every joint, or with
    ``to_limits`` (:attr:`EnvConfig.action_clip_to_limits`) widened where that clip would keep the PD
    target ``default + scale * a`` from one of the joint's limits (the G1's wrist pitch and yaw: 21.7 for
    +-1.61 rad at a scale of 0.075 rad; knees, hips and shoulders a little)."""
    from genmimic.core.runtime.policy_spec import ACTION_CLIP

    if not to_limits:
        return (ACTION_CLIP,) * g1.NUM_DOF
    scale = np.asarray(action_scale(gains))
    default = np.asarray(g1.DEFAULT_DOF_POS)
    upper, lower = np.array([j.upper for j in g1.JOINTS]), np.array([j.lower for j in g1.JOINTS])
    reach = np.maximum(upper - default, default - lower)
    return tuple(np.maximum(reach / scale, ACTION_CLIP).tolist())


def action_bounds(to_limits: bool = False, gains: g1.PDGains = g1.ARMATURE_GAINS
                  ) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-joint (low, high) of the actions that still act, SDK order: the PD target ``default + scale * a``
    within the joint's limits (the model's actuators clamp the target to them, ``ctrlrange``) and within
    the clip (:func:`action_clip` of ``to_limits``). Past them every action acts the same."""
    scale = np.asarray(action_scale(gains))
    default = np.asarray(g1.DEFAULT_DOF_POS)
    clip = np.asarray(action_clip(to_limits, gains))
    low = np.maximum((np.array([j.lower for j in g1.JOINTS]) - default) / scale, -clip)
    high = np.minimum((np.array([j.upper for j in g1.JOINTS]) - default) / scale, clip)
    return tuple(low.tolist()), tuple(high.tolist())


def _default_keypoint_weights() -> dict[str, float]:
    """End effectors (hands, head, toes) highest, upper body next, lower body lowest."""
    w = {"pelvis": 1.0, "torso": 1.5, "head": 2.0}
    for side in ("left", "right"):
        w |= {f"{side}_hip": 0.5, f"{side}_knee": 0.5, f"{side}_ankle": 1.0, f"{side}_toe": 2.0,
              f"{side}_shoulder": 1.5, f"{side}_elbow": 1.5, f"{side}_wrist": 2.0, f"{side}_hand": 3.0}
    return w


@dataclass(frozen=True)
class RewardScales:
    """Weight of each reward term; the field names are the term names (functions in ``rewards``)."""

    keypoint_local: float = 2.0
    keypoint_global: float = 1.0
    keypoint_velocity: float = 1.0
    root_orientation: float = 0.5
    root_height: float = 0.5
    alive: float = 0.5
    action_rate: float = -0.05
    torque: float = -0.02
    joint_limit: float = -1.0
    feet_slip: float = -0.1
    feet_contact: float = 1.0
    root_heading: float = 0.5
    joint_position: float = 2.0
    termination: float = -10.0


@dataclass(frozen=True)
class NoiseConfig:
    """Observation noise (uniform, +-) and goal-keypoint corruption of generated-video motion."""

    dof_pos: float = 0.01  # [rad]
    dof_vel: float = 0.5  # [rad/s]
    gyro: float = 0.1  # [rad/s]
    gravity: float = 0.03
    goal_jitter: float = 0.02  # [m], Gaussian std per keypoint and frame
    goal_limb_scale: float = 0.08  # per-episode scale of goals about the reference root, 1 +- this
    goal_drop_prob: float = 0.05  # probability that a goal frame repeats the previous one
    # The teacher's goal features without the goal noise above (its privileged reference is clean anyway):
    # for distilling a student under goal noise stronger than its teacher trained with, so the teacher's
    # actions stay those for the clean motion (the teacher-student split of TWIST / OmniH2O: the student
    # alone sees what a video gives). Off for the teacher's own training.
    teacher_clean_goals: bool = False


@dataclass(frozen=True)
class RandomizationConfig:
    """Domain randomisation, sampled per episode; pushes at random times."""

    friction: tuple[float, float] = (0.5, 1.25)
    torso_mass_offset: tuple[float, float] = (-1.0, 2.0)  # [kg]
    gain_scale: tuple[float, float] = (0.9, 1.1)  # multiplies kp and kd
    push_interval_s: tuple[float, float] = (3.0, 6.0)
    push_velocity: float = 0.4  # [m/s] max horizontal velocity kick
    # Reference state init with joint noise: uniform +- this [rad] added to the reference's angles of the
    # joints whose names contain one of ``reset_joint_noise_joints`` at every reset (clipped to the joint's
    # limits; the keypoints come from the perturbed state), as BeyondMimic perturbs its reset around the
    # reference (Liao et al. 2025, arXiv 2508.08241). Without it the policy starts every episode on the
    # reference and rarely sees its own arm away from the reference's, where it must read the reference to
    # come back (measured 2026-12-02: the teacher at 186-193 M held the demo's right upper arm 37-46 deg
    # turned away from its reference). 0 = off.
    reset_joint_noise: float = 0.0  # [rad]
    reset_joint_noise_joints: tuple[str, ...] = ("shoulder", "elbow", "wrist")


@dataclass(frozen=True)
class SamplingConfig:
    """Adaptive sampling of reference clips and start frames, as BeyondMimic's: each clip's time is cut
    into bins of ``bin_s``; failures are counted per bin with a per-env-step decay; starts are drawn with
    probability ``uniform_floor`` uniformly over all bins, else in proportion to the failure counts of a
    bin and ``lookahead`` times those of the bin after it (so episodes start a little before the failure).
    No clip gets more than ``max_clip_share`` of the failure-weighted draws (the excess is drawn uniformly):
    with many clips one that nothing can learn otherwise takes most of them (measured 2026-12-01: the 23 s
    CMU jumps drew 58 % of a DAgger student's starts and 24 % of the teacher's, a jittered clip 52 % of
    another student's). ``adaptive = False`` draws uniformly."""

    adaptive: bool = True
    bin_s: float = 1.0  # [s]
    weighting: str = "rate"  # "rate": each bin's failure rate per episode started there; "count": decayed counts
    rate_step: float = 0.1  # a bin's failure rate moves this far towards each of its episodes' outcome
    decay: float = 0.999  # failure counts are multiplied by this every env step
    uniform_floor: float = 0.2
    lookahead: float = 0.5
    max_clip_share: float = 0.05


@dataclass(frozen=True)
class EnvConfig:
    """The tracking environment (both backends)."""

    ctrl_dt: float = CTRL_DT
    n_substeps: int = 4
    episode_length: int = 500  # policy steps (10 s)
    history: int = 3  # proprioception frames (now and before) in the teacher's observation, and the student's
    # unless student_history: frames in the student's (0: as history). The teacher's privileged state carries
    # the root velocity; the student must infer it from its history (TWIST2's student takes 10 frames)
    student_history: int = 0
    future_frames: tuple[int, ...] = (0, 2, 5, 10)  # goal frames ahead of now, in policy steps
    # Goal frames in the student's observation (() : future_frames), control steps from now; a negative one is a
    # past goal. The benchmark's jitter-3 references swing the pelvis 20-26 deg in tilt and +-34 deg in yaw
    # within 0.1-0.5 s (measured 2026-12-04 on arms_cross_s0__jitter3); with past goals a student can average
    # them as the teacher, which sees the clean reference, needs not
    student_goal_frames: tuple[int, ...] = ()
    keypoint_weights: dict[str, float] = field(default_factory=_default_keypoint_weights)
    keypoint_sigma_local: float = 0.12  # [m]
    keypoint_sigma_global: float = 0.3  # [m]
    keypoint_sigma_velocity: float = 1.0  # [m/s] (BeyondMimic's body linear-velocity std)
    orientation_sigma: float = 0.3
    heading_sigma: float = 0.5  # [rad] of the root_heading term
    joint_position_sigma: float = 1.0  # [rad] RMS joint-angle error of the joint_position term
    height_sigma: float = 0.1  # [m]
    fall_tilt: float = FALL_TILT_RAD  # [rad] pelvis tilt that counts as a fall (genmimic.core.tracking)
    fall_height_drop: float = FALL_HEIGHT_DROP_M  # [m] pelvis this far under the reference counts as a fall
    # [m] mean root-relative keypoint error (each set about its own pelvis, in its own heading frame, as the
    # strict success criterion of genmimic.core.tracking) that ends an episode: the pose no longer follows
    max_root_relative_error: float = 0.3
    # [m] horizontal pelvis distance to the reference that ends one: global drift. Success does not count
    # drift, but at 1 m the teacher learnt within 1.1 M steps to lag on every walk (measured 2026-12-01)
    max_root_drift: float = 0.5
    # [rad] pelvis yaw error to the reference that ends one (the pose bound is heading-free); from 46.9 M steps
    max_heading_error: float = 1.0
    # [rad] RMS joint-angle error to the reference that ends one: the keypoint bounds let the teacher hold the
    # thighs and upper arms turned ~110-125 deg about their own axes (measured 2026-12-01 at 123.1 M steps);
    # from 125.9 M steps
    max_joint_position_error: float = 0.6
    # [rad] any one joint's angle error to the reference that ends one: the RMS bound over 29 DoF still let
    # four arm joints sit 70-130 deg off (shoulder yaw and wrist roll twisted against each other, hands near
    # their keypoints; measured 2026-12-02 at 145.7 M steps: 99 % of held-out steps had a joint over 1 rad)
    max_joint_error: float = 1.0
    max_end_effector_height_error: float = 0.25  # [m] hand/ankle height error that ends one (BeyondMimic)
    contact_height: float = 0.06  # [m] ankle height under which a foot counts as in contact
    # Each action clipped to where its PD target reaches the joint's limits (action_clip) instead of +-5 for
    # all, which held the wrists' pitch and yaw to +-0.37 of their +-1.61 rad (measured 2026-12-02: on the
    # CMU jumps the teacher's wrist yaw stayed 50-60 deg off the reference's); from 171 M steps
    action_clip_to_limits: bool = False
    reward_scales: RewardScales = field(default_factory=RewardScales)
    noise: NoiseConfig = field(default_factory=NoiseConfig)
    randomization: RandomizationConfig = field(default_factory=RandomizationConfig)
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    randomize: bool = True
    # MJX (GPU) only. MJX's solver runs as many iterations as the slowest env of the batch needs, and it
    # checks every collision pair: fewer iterations and foot-only contacts (the rest of the body touching
    # the floor ends the episode anyway) are what GPU trainers of humanoids use (MuJoCo Playground).
    mjx_solver_iterations: int = 0  # 0: the model's own (100)
    mjx_ls_iterations: int = 0  # 0: the model's own (50)
    mjx_feet_only_contacts: bool = False

    def __post_init__(self) -> None:
        for name in ("future_frames", "student_goal_frames"):
            frames = list(getattr(self, name))
            twice = [f for f in frames if frames.count(f) > 1]
            if twice:
                raise ConfigError(f"env.{name}: frame {twice[0]} is listed twice; fix: list each goal frame once")

    @property
    def student_frames(self) -> int:
        """Proprioception frames in the student's observation."""
        return self.student_history or self.history

    @property
    def student_goals(self) -> tuple[int, ...]:
        """Goal frames in the student's observation, control steps from now (negative: past)."""
        return tuple(self.student_goal_frames) or tuple(self.future_frames)

    @property
    def goal_noise_frames(self) -> int:
        """Goal frames an observation-noise draw covers (the more of the teacher's and the student's)."""
        return max(len(self.future_frames), len(self.student_goals))

    @property
    def history_frames(self) -> int:
        """Proprioception frames an episode keeps (the longer of the teacher's and the student's)."""
        return max(self.history, self.student_frames)


@dataclass(frozen=True)
class PPOConfig:
    """PPO with the symmetry and bounds losses and the reference prior, ``L = L_PPO + sym_coef * L_SYM +
    bound_coef * L_BOUND + reference_coef * L_REF`` (:mod:`genmimic.policy.ppo`)."""

    hidden: tuple[int, ...] = (256, 256, 128)
    learning_rate: float = 3e-4
    unroll_length: int = 32
    num_minibatches: int = 4
    num_epochs: int = 4
    discount: float = 0.99
    gae_lambda: float = 0.95
    clip_epsilon: float = 0.2
    value_coef: float = 0.5
    entropy_coef: float = 0.002
    sym_coef: float = 0.5
    # Weight of the bounds loss on mean actions beyond the action clip (ppo.action_bound_loss); from 128.1 M
    bound_coef: float = 1.0
    # Weight of the pull of some joints' mean actions towards the reference's angles (ppo.reference_action_loss,
    # the G1 teacher only; 0: off). From 170.34 M steps (2026-12-02)
    reference_coef: float = 0.0
    # The joints it pulls: those whose SDK name contains one of these: the joints that turn a limb or the
    # body about its own axis, which the keypoint terms barely see. Not the joints that carry the body's
    # weight (hip pitch and roll, knees, ankles, waist roll and pitch), whose PD targets must lead the
    # reference by what gravity needs, and (from 227.89 M steps) not the arms' pitch, roll and elbow joints,
    # for the same reason: measured 2026-12-02 with the teacher at 227.9 M on lifted `wave` and `point`
    # clips, the arm's PD targets sat on the reference's angles (-60 to +12 ms of lead) while the joints lagged
    # 60-130 ms, and the hand fell 0.25 m under the raise within 1 s; the same teacher with its arm targets
    # replaced by the inverse-dynamics feed-forward ``q_ref + (tau_ID + kd qdot_ref) / kp`` (peak 21 of 25 Nm
    # on the shoulder, i.e. targets up to 1.5 rad ahead of the reference at these gains) ran the lifted wave
    # to its end. A pull towards ``q_ref`` works against exactly that lead. Arms only until 179.2 M steps;
    # then hip and waist yaw too: at 179.2 M on held-out arm-variety starts the hip-yaw targets sat 0.74 rad
    # outside the reference's (right +, left -) and on the demo the thighs were turned ~30 deg outwards.
    # The wrists' pitch and yaw again from 255.85 M: without the pull (227.89-255.85 M) the lifted held-out
    # set's episodes ended by the posture bound 55 % (20 % before), 4 of 6 measured with a wrist pitch or yaw
    # 0.9-1.2 rad off the reference's (lifted hands reach the G1 at +-0.6-0.9 rad there, synth ones near 0);
    # the hand's light links need no lead.
    reference_joints: tuple[str, ...] = ("shoulder_yaw", "wrist", "hip_yaw", "waist_yaw")
    # Feedback gain k of the prior on the arms' load-bearing joints (ppo.reference_action_loss): their targets
    # pulled towards r + k (r - q), the lead a PD joint needs, not towards r (0: those joints not pulled).
    # From 414.00 M steps (2026-12-04; the teacher held a raised arm's targets short of the reference's)
    reference_feedback: float = 0.0
    reference_feedback_joints: tuple[str, ...] = ("shoulder_pitch", "shoulder_roll", "elbow")
    max_grad_norm: float = 1.0
    # The learning rate's schedule: "fixed" (``learning_rate`` throughout) or "adaptive" (rsl_rl's, as
    # BeyondMimic trains with it: before each minibatch step the rate is divided by 1.5 where the mean KL
    # divergence of the policy from the rollout's exceeds 2 ``desired_kl`` and multiplied by 1.5 where it is
    # under half of it, within ``learning_rate_bounds``; :func:`genmimic.policy.ppo.adapt_learning_rate`).
    # Measured 2026-12-05: at a fixed 3e-4 the G1 teacher collapsed at 541.9 M env steps: over 7 iterations
    # the approximate KL went 0.04 -> 0.55 -> 1.7 -> 9.7, the symmetry loss 0.06 -> 10, and episodes from 170
    # to 12 steps (falls 99 %); it never recovered. Adaptive from 530.31 M.
    schedule: str = "adaptive"
    desired_kl: float = 0.01
    learning_rate_bounds: tuple[float, float] = (1e-5, 1e-2)
    init_log_std: float = -0.7
    # Upper bound on the action noise's standard deviation [rad] (each joint), enforced after every update;
    # 0: none. Measured 2026-12-01: the teacher's std rose from 0.375 (24 M steps) back to 0.497 (56.6 M)
    # while it learnt turns *with* the noise: on a held-out turn the stochastic teacher ran to the end in
    # 3 of 8 tries, the policy mean (what `teacher_eval` runs and the student is distilled from) ended
    # by the heading bound at 2.8 s every time. A cap makes the mean carry the skill.
    max_std: float = 0.0
    # Samples the observation normaliser's running statistics count at most, so new data keeps moving them
    # (0: no cap, every sample ever counts alike). Measured 2026-12-02 at 157.5 M steps without a cap: the
    # statistics held the old posture (the robot's own shoulder yaw at mean 1.4 rad, where the robot now holds
    # ~0) and the synth-only references (reference wrist roll std 0.11 rad, so a reference wrist roll past
    # 0.55 rad reached the network clipped at 5 std) while the arm-variety clips were new; from 157.6 M.
    normalizer_max_count: float = 2e7
    iterations: int = 2000

    def __post_init__(self) -> None:
        if self.schedule not in ("fixed", "adaptive"):
            raise ConfigError(f"ppo.schedule: expected \"fixed\" or \"adaptive\", got {self.schedule!r}; fix: "
                              "write one of them")
        low, high = self.learning_rate_bounds
        if not 0 < low <= high or self.desired_kl <= 0:
            raise ConfigError(f"ppo.learning_rate_bounds {list(self.learning_rate_bounds)} / ppo.desired_kl "
                              f"{self.desired_kl}: expected 0 < low <= high and desired_kl > 0; fix: e.g. "
                              "[1e-05, 0.01] and 0.01")


@dataclass(frozen=True)
class DistillConfig:
    """DAgger: roll out the student (teacher with probability ``beta``), label with the teacher."""

    hidden: tuple[int, ...] = (256, 256, 128)
    learning_rate: float = 5e-4
    unroll_length: int = 32
    num_epochs: int = 2
    num_minibatches: int = 4
    beta_start: float = 0.5
    beta_decay: float = 0.9  # per iteration
    iterations: int = 200
    buffer_iterations: int = 8  # keep the last this-many rollouts as the DAgger dataset
    # Exponential moving average of the student's parameters (Polyak and Juditsky 1992; the weight
    # averaging of SWA, Izmailov et al. 2018): after each iteration ``average <- d * average + (1 - d) *
    # params``; the exported student is the average. Smooths the swing of held-out figures between
    # checkpoints. 0: off (the student is the last parameters).
    ema_decay: float = 0.0
    # Every this-many iterations also keep a copy of the student checkpoint (with the config and the teacher's
    # info) in RUN/kept/it<N>/, a run directory of its own: what `genmimic-policy export RUN --average-with
    # RUN/kept/it<N>` averages (student v0.3: the mean of 800-1,100). 0: none.
    keep_every: int = 0


@dataclass(frozen=True)
class TrainConfig:
    env: EnvConfig = field(default_factory=EnvConfig)
    ppo: PPOConfig = field(default_factory=PPOConfig)
    distill: DistillConfig = field(default_factory=DistillConfig)
    backend: str = "cpu"  # "cpu" (C MuJoCo, batched, stepped by mujoco.rollout threads) or "mjx"
    num_envs: int = 64
    threads: int = 0  # physics threads of the cpu backend; 0: os.cpu_count()
    workers: int = 0  # unused since the batched cpu env (kept so older run configs load)
    seed: int = 0
    checkpoint_every: int = 25  # iterations
    max_minutes: float = 0.0  # wall-clock cap of one `train` call; 0: none
    devices: str = "all"  # mjx backend: envs and the PPO batch split over "all" local devices or the first N


def default_config() -> TrainConfig:
    """A fresh default configuration."""
    return TrainConfig()


def _is_a(value: Any, kind: type) -> bool:
    """Whether a JSON value is a ``kind`` (int, float or str): no bool for numbers, an int for a float, finite;
    an int for a str (``devices``: "all" or a count)."""
    if kind is str:
        return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
    numbers = int if kind is int else int | float
    return isinstance(value, numbers) and not isinstance(value, bool) and bool(np.isfinite(value))


_KINDS = {"int": int, "float": float, "str": str}
_WORDS = {int: ("an integer", "integers"), float: ("a number", "numbers"), str: ("a string", "strings"),
          bool: ("true or false", "")}


def _json(value: Any) -> str:
    """``value`` as JSON writes it (null, true, "2"), cut to 80 characters."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _tuple(value: Any, hint: str, default: tuple, name: str) -> tuple:
    """A list from JSON as the tuple field ``name`` annotated ``hint`` (``tuple[int, ...]``, ``tuple[float,
    float]``, ...); ConfigError (naming the field, what it holds and the fix) when it is not one."""
    args = [a.strip() for a in hint[hint.index("[") + 1:-1].split(",")]
    kind = _KINDS[args[0]]
    count = None if args[-1] == "..." else len(args)
    what = f"a list of {count or 'any number of'} {_WORDS[kind][1]}"
    if not isinstance(value, list | tuple) or (count is not None and len(value) != count) \
            or not all(_is_a(v, kind) for v in value):
        raise ConfigError(f"{name}: expected {what}, got {_json(value)}; fix: write {what} there, e.g. "
                          f"{_json(list(default))} (the default)")
    return tuple(kind(v) for v in value)


def _from_dict(cls: type, data: dict[str, Any], where: str) -> Any:
    if not isinstance(data, dict):
        example = _json({f.name: getattr(cls(), f.name) for f in dataclasses.fields(cls)[:1]})
        raise ConfigError(f"{where.rstrip('.') or 'config'}: expected an object of settings, got {_json(data)}; "
                          f"fix: write an object there, e.g. {example}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in data.items():
        if key not in fields:
            raise ConfigError(f"unknown config key {where + key!r}; fix: use one of its known keys "
                              f"({', '.join(fields)})")
        default = getattr(cls(), key)
        if dataclasses.is_dataclass(default):
            kwargs[key] = _from_dict(type(default), value, f"{where}{key}.")
        elif isinstance(default, tuple):
            kwargs[key] = _tuple(value, str(fields[key].type), default, where + key)
        elif isinstance(default, dict):
            if not isinstance(value, dict) or not all(_is_a(v, float) for v in value.values()):
                raise ConfigError(f"{where + key}: expected an object of numbers by name, got {_json(value)}; "
                                  f"fix: write e.g. {_json(dict(list(default.items())[:2]))}")
            bad = [k for k in value if k not in default]
            if bad:
                raise ConfigError(f"unknown key {bad[0]!r} in {where + key!r}; fix: use one of "
                                  f"{', '.join(default)}")
            kwargs[key] = {**default, **value}
        elif not isinstance(default, bool | int | float | str):
            kwargs[key] = value
        elif isinstance(value, bool) if isinstance(default, bool) else _is_a(value, type(default)):
            kwargs[key] = type(default)(value)
        else:
            word = _WORDS[type(default)][0]
            raise ConfigError(f"{where + key}: expected {word}, got {_json(value)}; fix: write {word} there, "
                              f"e.g. {_json(default)} (the default)")
    return cls(**kwargs)


def config_from_dict(data: dict[str, Any]) -> TrainConfig:
    """A :class:`TrainConfig` with ``data``'s nested values over the defaults."""
    return _from_dict(TrainConfig, data, "")


def config_to_dict(config: Any) -> dict[str, Any]:
    return json.loads(json.dumps(dataclasses.asdict(config)))


def _merged(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        both = isinstance(value, dict) and isinstance(base.get(key), dict)
        out[key] = _merged(base[key], value) if both else value
    return out


def load_config(path: str | os.PathLike[str], base: TrainConfig | None = None) -> TrainConfig:
    """Read a JSON config file: overrides of ``base`` (a resumed run's saved config), else of
    :func:`default_config`. Keys the file does not name keep ``base``'s values.

    Raises ConfigError (naming the file) on a missing or unreadable file, bad JSON, or an unknown key."""
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file; fix: {missing_file_hint(Path(path))}") from None
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: not a JSON config: {str(err).splitlines()[0]}") from None
    try:
        if base is not None:
            config_from_dict(data)  # the file's own keys are checked, and named in errors, as without a base
            data = _merged(config_to_dict(base), data)
        return config_from_dict(data)
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}") from None
