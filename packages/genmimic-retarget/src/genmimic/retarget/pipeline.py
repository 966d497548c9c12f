"""SMPL clip -> G1 clip: scale, settle the feet, solve IK, clean up, resample. The library entry point."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import NamedTuple

import numpy as np

from genmimic.core import g1_constants as g1
from genmimic.core.clips import G1Clip, SmplClip, make_meta
from genmimic.core.errors import GenMimicError
from genmimic.core.g1_kinematics import g1_clip_from_joints, keypoint_positions

from . import __version__
from .contacts import (
    ContactConfig,
    detect_contacts,
    foot_rest_offsets,
    foot_slide,
    ground_heights,
    pin_feet,
    robot_sole_heights,
    settle_on_ground,
)
from .ik import G1IK, IKConfig
from .mapping import LINKS
from .scaling import human_leg_length, scale_to_g1
from .timeseries import (
    lowpass,
    lowpass_quat,
    minus_end_to_end_line,
    nearest,
    resample_linear,
    resample_quat,
    resample_rotations,
    resampled_times,
    sure_cutoff,
)

#: Plausible human hip-knee-ankle length [m]; outside it the clip is not a person in meters.
LEG_LENGTH_RANGE = (0.45, 1.3)
#: Input frame rates accepted [1/s].
FPS_RANGE = (5.0, 1000.0)
#: [Hz] highest cutoff of the automatic low-pass: the usual cutoff for human gait kinematics (Winter,
#: "Biomechanics and Motor Control of Human Movement", 4th ed. 2009, ch. 3); also the band above which
#: :func:`input_jitter` measures shake.
AUTO_SMOOTH_HZ = 6.0
#: [Hz] lowest cutoff of the automatic low-pass (:func:`timeseries.sure_cutoff` picks between the two): gestures
#: and steps run at 1-2 Hz (a 1 Hz cutoff halves a 1 Hz wave). Measured 2026-12-05 on the benchmark's
#: 5 cm-jitter squat: the estimate's minimum lay at 1 Hz, where the shipped student fell (at 3.5 s); at
#: 1.25-3 Hz it did not, and the joints' error to the clean motion at 1.5 Hz was within 0.2 cm of 1 Hz's.
AUTO_SMOOTH_MIN_HZ = 1.5
#: A joint this close to a limit [rad] counts as at it (the IK clamps joints onto their limits).
LIMIT_CONTACT = 0.01
#: [m] input jitter (median shake above AUTO_SMOOTH_HZ, :func:`input_jitter`) over which the solved motion is
#: low-passed at AUTO_SMOOTH_HZ when no cutoff is given. See the package README for what it was measured on.
AUTO_SMOOTH_JITTER_M = 0.008
#: [Hz] cutoff of the feet that foot contacts are detected on when the input is smoothed (a walk steps at
#: ~2 Hz; at 6 Hz the jitter left under the cutoff still kept feet from reading as planted).
CONTACT_SMOOTH_HZ = 3.0


class RetargetError(GenMimicError):
    """An SMPL clip cannot be retargeted (implausible size, unusable frame rate)."""


@dataclass(frozen=True)
class RetargetConfig:
    """Settings of :func:`retarget`.

    fps: output frame rate [1/s] (the policy runs at 50 Hz).
    smooth_hz: low-pass cutoff [Hz] applied to the human's joints before the G1's targets are made from them (when
        below half the input's frame rate) and to the solved joints and root; 0 for none; None (the default) for
        automatic: when the input jitters by more than :data:`AUTO_SMOOTH_JITTER_M` (:func:`input_jitter`; noisy
        pose estimates, as generated videos give), the cutoff between :data:`AUTO_SMOOTH_MIN_HZ` and
        :data:`AUTO_SMOOTH_HZ` that minimises the estimated error to the noise-free motion
        (:func:`timeseries.sure_cutoff`: the noisier, the lower), else none. Measured 2026-12-05 on the benchmark's
        7 jitter-3 clips (5 cm of noise): at a fixed 6 Hz the joints stayed 5.0 cm RMS from the clean motion's and
        the shipped student fell on 2 of them within 1.1 s; at the chosen 1.5-2 Hz, 2.5-3.4 cm and no fall. Why the
        input too: the targets' orientations come from the joints (a pelvis's from its hips and spine), so per-frame
        noise turned them by up to 180 deg for a frame, which the IK followed and no low-pass of its result undoes
        (measured on the benchmark's 7 jitter-3 clips, 2026-12-04: the retargeted pelvis up to 127-178 deg off the
        clean motion's heading on 2 of them, at most 53 deg with the input smoothed; the shipped student's worst 1 s
        windows there 8.9-21.0 cm -> 6.9-10.3 cm).
    min_foot_separation: with a value [m], the feet keep the human's stance width, no closer than this
        (:func:`~genmimic.retarget.scaling.scale_to_g1`; opt-in); None keeps the G1's own hip width.
    """

    fps: float = 50.0
    smooth_hz: float | None = None
    min_foot_separation: float | None = None
    ik: IKConfig = field(default_factory=IKConfig)
    contact: ContactConfig = field(default_factory=ContactConfig)


def default_config() -> RetargetConfig:
    """A fresh default configuration."""
    return RetargetConfig()


class RetargetReport(NamedTuple):
    """Quality figures of one retargeted clip (all at the IK frame rate unless noted).

    keypoint_error_mean / _max: robot keypoints vs the scaled human targets [m].
    joint_limit_margin: smallest distance of any joint to its limits over the output [rad] (< 0: violated).
    joint_limit_violations: output frames x joints outside the limits.
    penetration: deepest point of a foot under the ground over the output [m] (0 if none).
    foot_slide: mean horizontal speed of feet in contact over the output [m/s].
    nonconverged_frames: IK frames whose largest keypoint error exceeds ``converged_error`` [m], the IK
        config's threshold (the G1's proportions and joint limits cannot match the human there).
    input_jitter: :func:`input_jitter` of the input [m]; smoothed_hz: the low-pass cutoff applied [Hz] (0: none).
    worst_time, worst_keypoint: when [s] and where the largest keypoint error happens (-1 and "": not recorded).
    nonconverged_keypoints: (keypoint, IK frames where it is over ``converged_error``) pairs, largest first,
        only keypoints with any, so a keypoint the G1 cannot reach all along (its head sits lower on the
        torso than a person's) shows as such.
    limit_joint, limit_frames: the joint most often within :data:`LIMIT_CONTACT` of a limit over the output and
        on how many output frames ("" and 0: none), so a margin of 0 says where the G1 could not follow.
    """

    frames_in: int
    frames_out: int
    fps_in: float
    fps_out: float
    ik_frames_per_second: float
    keypoint_error_mean: float
    keypoint_error_max: float
    joint_limit_margin: float
    joint_limit_violations: int
    penetration: float
    foot_slide: float
    contact_fraction: float
    nonconverged_frames: list[int]
    scales: dict[str, float]
    input_jitter: float = 0.0
    smoothed_hz: float = 0.0
    converged_error: float = 0.05
    worst_time: float = -1.0
    worst_keypoint: str = ""
    nonconverged_keypoints: tuple[tuple[str, int], ...] = ()
    limit_joint: str = ""
    limit_frames: int = 0

    @property
    def ik_frames(self) -> int:
        """Frames the IK solved: the input's, or the output's when the input is faster (it solves at the
        output rate)."""
        return self.frames_out if self.fps_in > self.fps_out else self.frames_in

    def summary(self) -> str:
        """One line for humans."""
        where = f" ({self.worst_keypoint} at {self.worst_time:.2f} s)" if self.worst_keypoint else ""
        return (f"{self.frames_in} frames at {self.fps_in:g} fps -> {self.frames_out} at {self.fps_out:g} fps; "
                f"keypoint error mean {self.keypoint_error_mean * 100:.1f} cm, "
                f"max {self.keypoint_error_max * 100:.1f} cm{where}; "
                f"smallest joint-limit margin {self.joint_limit_margin:.3f} rad"
                + (f" ({self.limit_joint} at its limit on {self.limit_frames} frames: the G1 cannot bend as far "
                   "as the human there)" if self.limit_frames else "") + "; "
                f"penetration {self.penetration * 100:.2f} cm; "
                f"foot slide {self.foot_slide * 100:.2f} cm/s; IK {self.ik_frames_per_second:.0f} frames/s; "
                f"{len(self.nonconverged_frames)} of {self.ik_frames} IK frames with a keypoint over "
                f"{self.converged_error * 100:g} cm off"
                + (" (" + ", ".join(f"{k} on {n}" for k, n in self.nonconverged_keypoints[:3]) + ")"
                   if self.nonconverged_frames and self.nonconverged_keypoints else "")
                + (f"; input jitter {self.input_jitter * 1000:.0f} mm, low-passed at {self.smoothed_hz:g} Hz"
                   if self.smoothed_hz else ""))


def _frames_over(error: np.ndarray, threshold: float) -> tuple[tuple[str, int], ...]:
    """(keypoint, IK frames over ``threshold``) of ``error``'s (T, K) columns (``LINKS`` order), largest first."""
    counts = (error > threshold).sum(axis=0)
    order = np.argsort(-counts, kind="stable")
    return tuple((LINKS[int(k)].keypoint, int(counts[k])) for k in order if counts[k] > 0)


class RetargetResult(NamedTuple):
    clip: G1Clip
    report: RetargetReport


def input_jitter(clip: SmplClip) -> float:
    """How much the joints (T, 24, 3) [m] shake above :data:`AUTO_SMOOTH_HZ`: the median over frames and joints
    of the length of each joint's path above that frequency [m] (0 for clips too short or too slow to tell).

    The median, not the mean, so that noise on every frame counts and a few one-frame spikes (a limb that snaps
    for a frame, which a tracker rides out but a low-pass would spread over its neighbours) do not. The high
    band comes from the FFT of each coordinate minus the straight line from its first to its last frame (so
    the periodic extension has no jump); NumPy only, since scipy.signal costs ~1 s to import."""
    t_len = clip.num_frames
    if clip.fps <= 2 * AUTO_SMOOTH_HZ or t_len <= 9:
        return 0.0
    x = minus_end_to_end_line(np.asarray(clip.joints, float).reshape(t_len, -1))
    spectrum = np.fft.rfft(x, axis=0)
    spectrum[np.fft.rfftfreq(t_len, d=1.0 / clip.fps) <= AUTO_SMOOTH_HZ] = 0.0
    high = np.fft.irfft(spectrum, n=t_len, axis=0).reshape(t_len, -1, 3)
    return float(np.median(np.linalg.norm(high, axis=-1)))


def check_input(clip: SmplClip) -> None:
    """Refuse clips that would give garbage: a size that is not a person, an unusable frame rate."""
    if not FPS_RANGE[0] <= clip.fps <= FPS_RANGE[1]:
        raise RetargetError(f"frame rate {clip.fps:g} fps is outside {FPS_RANGE[0]:g}-{FPS_RANGE[1]:g} fps")
    leg = human_leg_length(clip)
    if not LEG_LENGTH_RANGE[0] <= leg <= LEG_LENGTH_RANGE[1]:
        raise RetargetError(
            f"implausible human size: leg length {leg:.2f} m (expected {LEG_LENGTH_RANGE[0]}-{LEG_LENGTH_RANGE[1]} m);"
            " are the joints in meters?")


def _joint_limits() -> tuple[np.ndarray, np.ndarray]:
    return np.array([j.lower for j in g1.JOINTS]), np.array([j.upper for j in g1.JOINTS])


def retarget(clip: SmplClip, config: RetargetConfig | None = None, *, source: str | None = None,
             progress=None) -> RetargetResult:
    """Retarget a human motion to the G1.

    Args:
        clip: the human motion (world z-up, ground at z = 0 for the feet).
        config: settings; :func:`default_config` when None.
        source: where the clip came from, recorded in the output's meta.
        progress: optional wrapper over the IK frame loop (a progress bar).

    Raises:
        RetargetError: the clip is not a plausible human motion or its frame rate is unusable.
    """
    cfg = config or default_config()
    if not cfg.fps > 0:
        raise RetargetError(f"output frame rate must be positive, got {cfg.fps}")
    check_input(clip)
    jitter = input_jitter(clip)
    smooth_hz = cfg.smooth_hz if cfg.smooth_hz is not None else (
        sure_cutoff(clip.joints, clip.fps, AUTO_SMOOTH_MIN_HZ, AUTO_SMOOTH_HZ) if jitter > AUTO_SMOOTH_JITTER_M
        else 0.0)
    if smooth_hz and smooth_hz < clip.fps / 2:  # targets from smoothed joints (RetargetConfig.smooth_hz)
        clip = clip.replace(joints=lowpass(clip.joints, clip.fps, smooth_hz))
    targets = scale_to_g1(clip, cfg.min_foot_separation)
    pos, rot, fps_ik = targets.positions, targets.rotations, clip.fps
    if clip.fps > cfg.fps:  # solve at the output rate: no work on frames that are thrown away
        times = resampled_times(clip.num_frames, clip.fps, cfg.fps)
        pos, rot, fps_ik = resample_linear(pos, clip.fps, times), resample_rotations(rot, clip.fps, times), cfg.fps
    index = {link.keypoint: k for k, link in enumerate(LINKS)}
    feet = {part: np.stack([pos[:, index[f"{s}_{part}"]] for s in ("left", "right")], axis=1)
            for part in ("ankle", "toe")}
    if smooth_hz:  # contacts and the ground from smoothed feet, not from their noise: noisy feet are never
        # slow enough to count as planted (a jittered walk had no contact at all, feet 5-11 cm up); steps are
        # slow events, so the detection low-passes harder than the motion (CONTACT_SMOOTH_HZ)
        cut = min(smooth_hz, CONTACT_SMOOTH_HZ)
        feet = {part: lowpass(points, fps_ik, cut) for part, points in feet.items()}
    ground = ground_heights(feet["ankle"], feet["toe"], fps_ik, cfg.contact)
    shift = np.zeros((len(ground), 1, 3))
    shift[:, 0, 2] = ground
    pos = pos - shift
    feet = {part: points - shift for part, points in feet.items()}
    rest = foot_rest_offsets(feet["ankle"], feet["toe"], fps_ik, cfg.contact)  # each sole down to the ground
    for side, name in enumerate(("left", "right")):
        for part in ("ankle", "toe"):
            pos[:, index[f"{name}_{part}"], 2] -= rest[side]
            feet[part][:, side, 2] -= rest[side]
    contacts = detect_contacts(feet["ankle"], feet["toe"], fps_ik, cfg.contact)
    pos, rot = pin_feet(pos, rot, index, contacts, fps_ik, cfg.contact)

    start = time.perf_counter()
    weight = np.ones(pos.shape[:2])  # feet in contact outweigh everything else: they must not slide
    for side, part in ((s, p) for s in range(2) for p in ("ankle", "toe")):
        weight[contacts[:, side], index[f"{('left', 'right')[side]}_{part}"]] = cfg.contact.pinned_cost_gain
    sol = G1IK(cfg.ik).solve(pos, rot, fps_ik, weights=weight, progress=progress)
    ik_rate = len(pos) / max(time.perf_counter() - start, 1e-9)

    order = [g1.KEYPOINT_NAMES.index(link.keypoint) for link in LINKS]
    error = np.linalg.norm(keypoint_positions(sol.root_pos, sol.root_quat, sol.dof_pos)[:, order] - pos, axis=-1)
    root_pos = settle_on_ground(sol.root_pos, robot_sole_heights(sol.root_pos, sol.root_quat, sol.dof_pos), contacts)
    root_quat, dof = sol.root_quat, sol.dof_pos
    if smooth_hz:
        root_pos = lowpass(root_pos, fps_ik, smooth_hz)
        root_quat = lowpass_quat(root_quat, fps_ik, smooth_hz)
        dof = lowpass(dof, fps_ik, smooth_hz)
    if fps_ik != cfg.fps:
        times = resampled_times(len(dof), fps_ik, cfg.fps)
        root_pos, root_quat = resample_linear(root_pos, fps_ik, times), resample_quat(root_quat, fps_ik, times)
        dof, contacts = resample_linear(dof, fps_ik, times), nearest(contacts, fps_ik, times)
    lower, upper = _joint_limits()
    dof = np.clip(dof, lower, upper)  # smoothing can overshoot a limit by a hair
    if smooth_hz:  # smoothing may have moved feet under the ground again
        root_pos = settle_on_ground(root_pos, robot_sole_heights(root_pos, root_quat, dof), contacts)
    if len(dof) < 2:
        raise RetargetError(f"clip too short to resample to {cfg.fps:g} fps ({clip.duration:.3f} s)")

    meta = make_meta(
        "genmimic-retarget", __version__, source=source, parent=clip.meta,
        params={"config": asdict(cfg), "scales": targets.scales, "foot_rest_offsets_m": rest.round(4).tolist(),
                "mapping": {link.keypoint: link.smpl_joint for link in LINKS}},
    )
    out = g1_clip_from_joints(root_pos, root_quat, dof, cfg.fps, meta=meta, contacts=contacts)
    soles = robot_sole_heights(root_pos, root_quat, dof)
    margin = np.minimum(dof - lower, upper - dof)
    at_limit = (margin < LIMIT_CONTACT).sum(axis=0)
    report = RetargetReport(
        frames_in=clip.num_frames, frames_out=out.num_frames, fps_in=clip.fps, fps_out=cfg.fps,
        ik_frames_per_second=ik_rate,
        keypoint_error_mean=float(error.mean()), keypoint_error_max=float(error.max()),
        worst_time=float(np.unravel_index(error.argmax(), error.shape)[0] / fps_ik),
        worst_keypoint=LINKS[int(np.unravel_index(error.argmax(), error.shape)[1])].keypoint,
        joint_limit_margin=float(margin.min()), joint_limit_violations=int((margin < -1e-9).sum()),
        penetration=float(max(0.0, -soles.min())),
        foot_slide=foot_slide(root_pos, root_quat, dof, contacts, cfg.fps),
        contact_fraction=float(contacts.mean()),
        nonconverged_frames=np.flatnonzero(error.max(axis=1) > cfg.ik.converged_error).tolist(),
        nonconverged_keypoints=_frames_over(error, cfg.ik.converged_error),
        converged_error=cfg.ik.converged_error,
        scales=targets.scales, input_jitter=jitter, smoothed_hz=float(smooth_hz),
        limit_joint=g1.JOINT_NAMES[int(at_limit.argmax())] if at_limit.any() else "",
        limit_frames=int(at_limit.max()),
    )
    return RetargetResult(out, report)
