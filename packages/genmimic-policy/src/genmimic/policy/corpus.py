"""Training motions the project makes itself.

Preferred: procedural human motions from ``genmimic.lift.synth`` retargeted by ``genmimic.retarget.retarget``
(when those packages are installed and work). Fallback, always available: G1 motions made directly in
joint space around the default pose (arm gestures, squats, weight shifts, torso twists), with the
pelvis placed so the feet rest on the ground (via ``genmimic.core.g1_clip_from_joints``).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from genmimic.core import g1_constants as g1
from genmimic.core.clips import G1Clip, load_clip, save_clip
from genmimic.core.files import check_output_path, current_umask, missing_file_hint
from genmimic.core.g1_kinematics import foot_contact_points, g1_clip_from_joints
from genmimic.core.rotations import quat_from_axis_angle

from .errors import PolicyError

log = logging.getLogger(__name__)
J = g1.JOINT_NAMES.index
KINDS = ("wave", "reach", "arms", "squat", "weight_shift", "twist", "mixed")


def _smooth(rng: np.random.Generator, t: np.ndarray, amp: float, fmin: float = 0.2, fmax: float = 1.0) -> np.ndarray:
    """A smooth random signal: sum of two sinusoids, ramped in from zero over the first second."""
    out = np.zeros_like(t)
    for _ in range(2):
        out += amp / 2 * np.sin(2 * np.pi * rng.uniform(fmin, fmax) * t + rng.uniform(0, 2 * np.pi))
    return out * np.minimum(t, 1.0)


def _inside_limits(dof: np.ndarray, margin: float = 0.05) -> np.ndarray:
    """Joint angles (T, 29) [rad] clipped ``margin`` [rad] inside the G1's limits."""
    lo = np.array([j.lower for j in g1.JOINTS]) + margin
    hi = np.array([j.upper for j in g1.JOINTS]) - margin
    return np.clip(dof, lo, hi)


def _arm(dof, t, rng, side: str, amp: float) -> None:
    s = 1.0 if side == "left" else -1.0
    dof[:, J(f"{side}_shoulder_pitch_joint")] += _smooth(rng, t, 1.6 * amp) - 0.5 * amp * np.minimum(t, 1)
    dof[:, J(f"{side}_shoulder_roll_joint")] += s * np.abs(_smooth(rng, t, 1.2 * amp))
    dof[:, J(f"{side}_shoulder_yaw_joint")] += _smooth(rng, t, 0.6 * amp)
    dof[:, J(f"{side}_elbow_joint")] += _smooth(rng, t, 1.0 * amp)
    dof[:, J(f"{side}_wrist_roll_joint")] += _smooth(rng, t, 0.6 * amp)


def joint_space_motion(kind: str, seed: int, duration: float = 6.0, fps: float = 50.0) -> G1Clip:
    """A G1 clip of ``kind`` (one of :data:`KINDS`) made in joint space, feet kept on the ground."""
    if kind not in KINDS:
        raise PolicyError(f"unknown motion kind {kind!r} (known: {', '.join(KINDS)})")
    rng = np.random.default_rng(seed)
    n = round(duration * fps) + 1
    t = np.arange(n) / fps
    dof = np.tile(np.asarray(g1.DEFAULT_DOF_POS), (n, 1))
    amp = rng.uniform(0.5, 1.0)
    if kind == "mixed":
        kind_parts = list(rng.choice(["wave", "reach", "squat", "weight_shift", "twist"], size=2, replace=False))
    else:
        kind_parts = [kind]
    for part in kind_parts:
        if part == "wave":
            side = rng.choice(["left", "right"])
            s = 1.0 if side == "left" else -1.0
            up = np.minimum(t, 1.0) * (1 - np.cos(np.pi * np.minimum(t, 1.0))) / 2
            dof[:, J(f"{side}_shoulder_roll_joint")] += s * 1.2 * amp * up
            dof[:, J(f"{side}_shoulder_pitch_joint")] -= 0.6 * amp * up
            dof[:, J(f"{side}_elbow_joint")] += -0.6 + 0.4 * np.sin(2 * np.pi * rng.uniform(0.7, 1.5) * t) * up
        elif part == "reach":
            _arm(dof, t, rng, str(rng.choice(["left", "right"])), amp)
        elif part == "arms":
            _arm(dof, t, rng, "left", amp)
            _arm(dof, t, rng, "right", amp)
        elif part == "squat":
            depth = np.abs(_smooth(rng, t, 0.5 * amp, 0.15, 0.5))
            dof[:, J("left_hip_pitch_joint")] -= depth
            dof[:, J("right_hip_pitch_joint")] -= depth
            dof[:, J("left_knee_joint")] += 2 * depth
            dof[:, J("right_knee_joint")] += 2 * depth
            dof[:, J("left_ankle_pitch_joint")] -= depth
            dof[:, J("right_ankle_pitch_joint")] -= depth
        elif part == "weight_shift":
            roll = _smooth(rng, t, 0.12 * amp, 0.15, 0.5)
            for side in ("left", "right"):
                dof[:, J(f"{side}_hip_roll_joint")] += roll
                dof[:, J(f"{side}_ankle_roll_joint")] -= roll
        elif part == "twist":
            dof[:, J("waist_yaw_joint")] += _smooth(rng, t, 0.8 * amp, 0.15, 0.6)
            dof[:, J("waist_pitch_joint")] += np.abs(_smooth(rng, t, 0.3 * amp, 0.15, 0.5))
    dof = _inside_limits(dof)
    quat = np.tile([1.0, 0.0, 0.0, 0.0], (n, 1))
    yaw = rng.uniform(-np.pi, np.pi)
    quat[:] = quat_from_axis_angle(np.array([0.0, 0.0, yaw]))
    # place the pelvis: feet centroid fixed in xy at the origin, lowest contact sphere on the ground
    pts = foot_contact_points(np.zeros((n, 3)), quat, dof)
    centre = pts.reshape(n, -1, 3).mean(1)
    root = np.stack([-centre[:, 0], -centre[:, 1], -(pts[..., 2].min(axis=(1, 2)) - g1.FOOT_SPHERE_RADIUS)], -1)
    meta = {"tool": "genmimic.policy.corpus", "kind": kind, "seed": seed, "source": "joint-space procedural"}
    return g1_clip_from_joints(root, quat, dof, fps, meta=meta)


#: [rad] per arm joint, the range of the constant offset :func:`vary_arm_pose` adds (low, high for the left
#: arm; the right arm mirrors roll and yaw). Chosen to cover the starts of lifted and mocap clips the teacher
#: could not hold (measured 2026-12-02: the bundled demo starts with shoulder yaw 0.5 and -0.88 rad, the CMU
#: forward jumps with an elbow bent to -0.92 and a wrist roll at 1.22 rad, where every retargeted synth clip starts
#: within 0.05 rad of shoulder yaw 0, elbow 1.09, wrist roll 0).
ARM_OFFSET_RANGE: dict[str, tuple[float, float]] = {
    "shoulder_pitch": (-0.5, 0.5),
    # mostly outwards: the model has no self-collision, arms would pass the torso; a little inwards, as lifted
    # videos have (the bundled demo's left shoulder roll reaches -0.31 rad, where no synth clip goes below 0)
    "shoulder_roll": (-0.25, 0.4),
    "shoulder_yaw": (-1.4, 1.4),  # the demo's right shoulder yaw reaches -2.33 rad (to -1.0 until 2026-12-02)
    "elbow": (-2.3, 0.45),  # 0 is the forearm level with the upper arm down, pi/2 straight
    "wrist_roll": (-1.2, 1.2),
    "wrist_pitch": (-0.6, 0.6),
    "wrist_yaw": (-0.6, 0.6),
}
_MIRRORED = ("shoulder_roll", "shoulder_yaw", "wrist_roll", "wrist_yaw")


def vary_arm_pose(clip: G1Clip, seed: int) -> G1Clip:
    """``clip`` with another arm posture from its first frame: per arm, a random constant offset within
    :data:`ARM_OFFSET_RANGE` [rad] plus a slow random sway (0.1-0.4 Hz, +-0.15 rad), added to the arm joints
    and clipped 0.05 rad inside the G1's limits; keypoints and contacts recomputed by forward kinematics
    (root and legs unchanged, so the feet stay where they were).

    Retargeted synth clips all start with the upper arms and wrists untwisted; lifted videos and mocap do
    not, and a tracker trained only on the former turned those joints away within 0.1 s of their start
    (2026-12-02). ``meta["arm_variety"]`` records the seed and offsets."""
    rng = np.random.default_rng(seed)
    dof = np.array(clip.dof_pos, dtype=float)
    t = np.arange(clip.num_frames) / clip.fps
    offsets: dict[str, float] = {}
    for side, sign in (("left", 1.0), ("right", -1.0)):
        for joint, (low, high) in ARM_OFFSET_RANGE.items():
            c = float(rng.uniform(low, high)) * (sign if joint in _MIRRORED else 1.0)
            sway = 0.15 * np.sin(2 * np.pi * rng.uniform(0.1, 0.4) * t + rng.uniform(0, 2 * np.pi))
            dof[:, J(f"{side}_{joint}_joint")] += c + sway
            offsets[f"{side}_{joint}"] = round(c, 3)
    meta = {**clip.meta, "arm_variety": {"seed": seed, "offsets_rad": offsets}}
    return g1_clip_from_joints(clip.root_pos, clip.root_quat, _inside_limits(dof), clip.fps, meta=meta)


def synth_retarget_available() -> Callable[[str, int, float], G1Clip] | None:
    """A function (kind, seed, duration) -> G1Clip through genmimic.lift.synth + genmimic.retarget, or None."""
    try:
        from genmimic.lift import synth  # type: ignore[attr-defined]
        from genmimic.retarget import retarget  # type: ignore[attr-defined]
    except ImportError:
        return None

    def make(kind: str, seed: int, duration: float) -> G1Clip:
        clip = retarget(synth.synthesize(kind, seed=seed, duration=duration, fps=30.0)).clip
        meta = {**clip.meta, "corpus": {"kind": kind, "seed": seed, "source": "genmimic.lift.synth + retarget"}}
        return clip.replace(meta=meta)

    try:
        clip = make(synth.KINDS[0], 0, 2.0)
        if not isinstance(clip, G1Clip):
            return None
    except Exception as err:
        log.warning("synth+retarget present but failed (%s); using joint-space motions", err)
        return None
    return make


SOURCES = ("auto", "synth", "joints")
#: [s] clip lengths ``make_corpus`` accepts (genmimic-synth's own bounds)
DURATION_RANGE = (0.5, 600.0)


def make_corpus(out: str | Path, count: int, seed: int = 0, duration: float = 6.0,
                source: str = "auto", arm_variety: bool = False, kinds: tuple[str, ...] = ()) -> list[Path]:
    """Write ``count`` G1 clips (``NNNN_<kind>.npz``) into the new directory ``out`` and return their paths.

    ``source``: "synth" (genmimic-synth's procedural human motions retargeted by genmimic-retarget),
    "joints" (G1 motions made in joint space, :func:`joint_space_motion`) or "auto" (synth when those packages
    are installed and work, else joints). ``arm_variety``: each clip through :func:`vary_arm_pose` (seed: the
    clip's). ``kinds``: only these kinds of the source, in turn (all of them by default). The clips are
    written into a temporary folder beside ``out`` and moved there at the end, so a failed or interrupted run
    leaves nothing.

    Raises:
        PolicyError: ``count`` < 1, ``seed`` < 0, ``duration`` outside :data:`DURATION_RANGE`, an unknown
            ``source``, a kind the source does not make, ``out`` a file or a folder that already holds clips, or
            synth asked for and unavailable.
        GenMimicError: the folder ``out`` would be in does not exist, or a file stands in its path.
    """
    out = Path(out)
    lo, hi = DURATION_RANGE
    if count < 1:
        raise PolicyError(f"--count must be at least 1, got {count}")
    if seed < 0:
        raise PolicyError(f"--seed must be 0 or more, got {seed}")
    if not lo <= duration <= hi:
        raise PolicyError(f"--duration must be between {lo:g} and {hi:g} s, got {duration:g}")
    if source not in SOURCES:
        raise PolicyError(f"--source {source!r} is not one of {', '.join(SOURCES)}")
    if out.exists() and not out.is_dir():
        raise PolicyError(f"{out}: is a file; fix: name a new folder for the clips")
    if out.is_dir() and any(out.iterdir()):
        raise PolicyError(f"{out}: the folder is not empty (clips of another run would mix with these); "
                          "fix: name a new folder")
    if not out.is_dir():
        check_output_path(out)  # its folder exists (or says which file stands in the way)
    synth_fn = synth_retarget_available() if source in ("auto", "synth") else None
    if source == "synth" and synth_fn is None:
        raise PolicyError("--source synth needs genmimic-lift and genmimic-retarget installed and working; "
                          "fix: pip install them, or pass --source joints")
    if synth_fn is not None:
        from genmimic.lift import synth  # type: ignore[attr-defined]

        known = synth.KINDS
    else:
        known = KINDS
    unknown = [k for k in kinds if k not in known]
    if unknown:
        raise PolicyError(f"--kinds: {', '.join(unknown)} not made by the {'synth' if synth_fn else 'joints'} "
                          f"source; fix: choose from {', '.join(known)}")
    cycle = tuple(kinds) or known
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    tmp.chmod(0o777 & ~current_umask())  # mkdtemp makes 0700; a new folder gets the usual mode
    try:
        names = []
        for i in range(count):
            kind = cycle[i % len(cycle)]
            clip = synth_fn(kind, seed + i, duration) if synth_fn is not None else joint_space_motion(
                kind, seed + i, duration)
            if arm_variety:
                clip = vary_arm_pose(clip, seed + i)
            names.append(f"{i:04d}_{kind}.npz")
            save_clip(clip, tmp / names[-1])
        if out.is_dir():
            out.rmdir()  # empty (checked above)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return [out / name for name in names]


def load_clip_dir(path: str | Path) -> list[tuple[str, G1Clip]]:
    """All G1 clips (``*.npz``) in a directory, or one clip file; one-line error naming a bad file."""
    p = Path(path)
    if p.is_file():
        files = [p]
    elif p.is_dir():
        files = sorted(p.glob("*.npz"))
        if not files:
            raise PolicyError(f"{p}: no .npz clips in this directory; fix: put G1 clips there (genmimic-retarget "
                              "writes them; genmimic-policy corpus DIR makes procedural ones)")
    else:
        raise PolicyError(f"{p}: no such file or directory; fix: {missing_file_hint(p)}")
    return [(str(f), load_clip(f, G1Clip)) for f in files]


#: Subfolder of a corpus folder with corrupted versions of some of its clips, under the same file names:
#: the student's goals for those clips (scripts/make_goal_pairs.sh writes such pairs).
GOALS_DIR = "goals"


def load_goal_clips(path: str | Path, names: list[str]) -> list[G1Clip | None]:
    """For each clip file in ``names`` (paths from :func:`load_clip_dir` on ``path``), its corrupted version
    ``path/goals/<file name>`` when ``path`` is a folder with one, else ``None``.

    Raises:
        PolicyError: a file in ``goals/`` without its clean clip beside ``goals/`` (one line naming it and the fix).
    """
    goals = Path(path) / GOALS_DIR
    if not goals.is_dir():
        return [None] * len(names)
    files = {Path(n).name for n in names}
    for f in sorted(goals.glob("*.npz")):
        if f.name not in files:
            raise PolicyError(f"{f}: a goal clip without its clean motion {Path(path) / f.name}; fix: put the "
                              "motion it was made from there under the same name, or remove it")
    return [load_clip(goals / Path(n).name, G1Clip) if (goals / Path(n).name).is_file() else None for n in names]
