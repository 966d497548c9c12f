"""The policy's contract, typed: :class:`PolicySpec`, written and read by one pair of functions
(:func:`write_spec`, :func:`read_spec`) and checked by one validator (:func:`spec_from_dict`) whose errors
name the file and the field.

A spec says everything needed to run a policy besides its weights: the observation layout (blocks with
offsets, the scales, history and future frames), keypoint and joint order, default pose, action scale,
PD gains, control period, and the record of its training. It travels inside ``policy.npz`` (the ``meta``
entry), in the JSON beside ``policy.onnx`` and in the ONNX model's ``metadata_props`` (key
:data:`ONNX_METADATA_KEY`), so a policy file is self-describing. The JSON form is format
:data:`FORMAT` (``genmimic.policy/1``), unchanged from the free-form meta it replaces.

Units: angles [rad], gains kp [Nm/rad] and kd [Nm s/rad], period [s]; arrays in the G1 SDK joint order.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from .. import g1_constants as g1
from ..files import write_bytes_atomic
from . import observation as obs
from .errors import PolicyFileError, PolicySpecError

FORMAT = "genmimic.policy/1"
ONNX_METADATA_KEY = "genmimic.policy_spec"  #: key of the spec (JSON) in an ONNX model's metadata_props
#: Keys the JSON beside an ONNX file adds to the spec (the graph's file and tensor names).
ONNX_KEYS = ("onnx", "onnx_input", "onnx_output")
GOAL_FRAME = ("goal keypoints minus the reference root position at the current frame, rotated by minus the "
              "robot's IMU yaw (heading frame); keypoint order as keypoint_names")
ACTION_RULE = "joint position target = default_dof_pos + action_scale * action (SDK order)"
NORMALIZATION = "inside the network"
CONTROL_PERIOD_RANGE_S = (0.002, 0.1)  #: plausible control periods [s] (500 Hz to 10 Hz)
#: The project's policies' actions are clipped to +- this before :meth:`PolicySpec.targets`, in training
#: (genmimic.policy's env) and everywhere they run (track, deploy): :meth:`PolicySpec.clip_action`; a spec
#: with an ``action_clip`` (29,) clips each joint to its own bound instead.
ACTION_CLIP = 5.0


class ObservationBlock(NamedTuple):
    """A slice ``[start, start + size)`` of the observation vector; ``kind`` as
    :class:`genmimic.core.runtime.observation.Block`."""

    name: str
    start: int
    size: int
    kind: str


@dataclass(frozen=True)
class ObservationSpec:
    """The student observation: ``size`` floats, ``history`` proprioception frames (newest first),
    goal keypoints of ``future_frames`` (control steps from now; negative: past goals), ``blocks`` with
    offsets, the joint-velocity and gyro scales, the goal frame and where normalisation happens (in words)."""

    size: int
    history: int
    future_frames: tuple[int, ...]
    blocks: tuple[ObservationBlock, ...]
    dof_vel_scale: float = obs.DOF_VEL_SCALE
    gyro_scale: float = obs.GYRO_SCALE
    goal_frame: str = GOAL_FRAME
    normalization: str = NORMALIZATION


@dataclass(frozen=True)
class PolicySpec:
    """Everything needed to run a policy besides its weights (see the module docstring).

    observation: :class:`ObservationSpec`. keypoint_names (19,), joint_names (29,): orders of the goal
    keypoints and of the joints. default_dof_pos (29,) [rad], action_scale (29,) [rad]: joint targets are
    ``default_dof_pos + action_scale * action``. kp (29,) [Nm/rad], kd (29,) [Nm s/rad]: the PD gains it was
    trained with. control_period_s [s]. training: the record of its training (JSON object: teacher and
    student iterations, env steps, corpus, held-out figures, ``name``), never read to run it. action_clip
    (29,) or None: each action is clipped to +- its entry (None, as in every spec written before 2026-12-02:
    +-:data:`ACTION_CLIP` for all), in training and wherever the policy runs.
    """

    observation: ObservationSpec
    keypoint_names: tuple[str, ...]
    joint_names: tuple[str, ...]
    default_dof_pos: tuple[float, ...]
    action_scale: tuple[float, ...]
    kp: tuple[float, ...]
    kd: tuple[float, ...]
    control_period_s: float
    training: Mapping[str, Any] = field(default_factory=dict)
    action_clip: tuple[float, ...] | None = None
    action: str = ACTION_RULE
    format: str = FORMAT

    @property
    def name(self) -> str:
        """The policy's name from its training record ("policy" when it has none)."""
        return str(self.training.get("name", "policy"))

    @property
    def gains(self) -> g1.PDGains:
        return g1.PDGains("policy", self.kp, self.kd)

    def targets(self, action: np.ndarray) -> np.ndarray:
        """Joint position targets (..., 29) [rad] for actions (..., 29)."""
        return np.asarray(self.default_dof_pos) + np.asarray(self.action_scale) * np.asarray(action)

    @property
    def action_bound(self) -> np.ndarray:
        """Each action's clip (29,): ``action_clip``, or :data:`ACTION_CLIP` for all where the spec has none."""
        return np.asarray(self.action_clip if self.action_clip is not None else (ACTION_CLIP,) * len(self.kp))

    def clip_action(self, action: np.ndarray) -> np.ndarray:
        """The network's raw action (..., 29) as the policy was trained to act: NaN as 0, clipped to
        +-:attr:`action_bound`. (Until 2026-12-01 genmimic-deploy sent raw actions: a student whose raw outputs
        reached +-9 was fed back actions it never saw in training and fell over DDS within 1.3 s.)"""
        bound = self.action_bound
        return np.clip(np.nan_to_num(np.asarray(action, float), nan=0.0), -bound, bound)

    def holding_action(self, dof_pos: np.ndarray) -> np.ndarray:
        """The action (..., 29) whose :meth:`targets` are ``dof_pos`` (..., 29) [rad], clipped to
        +-:attr:`action_bound`: the "last action" a policy sees on its first
        step, as in training, where episodes start in the reference state with the PD targets holding it.
        A zero last action there instead tells the policy its arms were last sent to the default pose."""
        scaled = (np.asarray(dof_pos, float) - np.asarray(self.default_dof_pos)) / np.asarray(self.action_scale)
        return np.clip(scaled, -self.action_bound, self.action_bound)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (format :data:`FORMAT`); :func:`spec_from_dict` reads it back equal."""
        o = self.observation
        return {
            "format": self.format,
            "observation": {
                "size": o.size, "history": o.history, "future_frames": list(o.future_frames),
                "blocks": [b._asdict() for b in o.blocks], "dof_vel_scale": o.dof_vel_scale,
                "gyro_scale": o.gyro_scale, "goal_frame": o.goal_frame, "normalization": o.normalization},
            "keypoint_names": list(self.keypoint_names), "joint_names": list(self.joint_names),
            "default_dof_pos": list(self.default_dof_pos), "action": self.action,
            "action_scale": list(self.action_scale), "kp": list(self.kp), "kd": list(self.kd),
            "control_period_s": self.control_period_s, "training": dict(self.training),
        } | ({"action_clip": list(self.action_clip)} if self.action_clip is not None else {})


def observation_spec(history: int, future_frames: Sequence[int]) -> ObservationSpec:
    """The layout that :class:`~genmimic.core.runtime.observation.StudentObservationBuilder` builds."""
    layout = obs.student_layout(history, future_frames)
    starts = np.cumsum([0] + [b.size for b in layout])
    blocks = tuple(ObservationBlock(b.name, int(s), b.size, b.kind) for b, s in zip(layout, starts, strict=False))
    return ObservationSpec(int(starts[-1]), int(history), tuple(int(f) for f in future_frames), blocks)


def make_spec(history: int, future_frames: Sequence[int], control_period_s: float, action_scale: Sequence[float],
              gains: g1.PDGains = g1.TRACKING_GAINS, training: Mapping[str, Any] | None = None,
              action_clip: Sequence[float] | None = None) -> PolicySpec:
    """The spec of a G1 student with this observation, period [s], action scale (29,) [rad], gains and
    per-action clip (29,) (None: +-:data:`ACTION_CLIP` for all)."""
    return spec_from_dict(PolicySpec(
        observation_spec(history, future_frames), tuple(g1.KEYPOINT_NAMES), tuple(g1.JOINT_NAMES),
        tuple(float(x) for x in g1.DEFAULT_DOF_POS), tuple(float(x) for x in action_scale),
        tuple(float(x) for x in gains.kp), tuple(float(x) for x in gains.kd), float(control_period_s),
        dict(training or {}), None if action_clip is None else tuple(float(x) for x in action_clip)).to_dict(),
        "<new spec>")


# ---------------------------------------------------------------- the validator


def _get(d: Mapping[str, Any], key: str, source: str, prefix: str = "") -> Any:
    if not isinstance(d, Mapping):
        raise PolicySpecError(source, prefix.rstrip(".") or "<root>", f"expected a JSON object, got {type(d).__name__}")
    if key not in d:
        raise PolicySpecError(source, prefix + key, "missing")
    return d[key]


def _int(value: Any, source: str, name: str, low: int | None = 0) -> int:
    """``value`` if it is an integer (``>= low`` unless ``low`` is None), else :class:`PolicySpecError`."""
    if isinstance(value, bool) or not isinstance(value, int) or (low is not None and value < low):
        raise PolicySpecError(source, name, f"expected an integer{'' if low is None else f' >= {low}'}, got {value!r}")
    return value


def _number(value: Any, source: str, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PolicySpecError(source, name, f"expected a finite number, got {value!r}")
    return float(value)


def _vector(value: Any, source: str, name: str, positive: bool = False, nonnegative: bool = False
            ) -> tuple[float, ...]:
    if not isinstance(value, list | tuple) or len(value) != g1.NUM_DOF:
        got = f"{len(value)} values" if isinstance(value, list | tuple) else repr(value)[:40]
        raise PolicySpecError(source, name, f"expected {g1.NUM_DOF} numbers (SDK order), got {got}")
    out = tuple(_number(v, source, f"{name}[{i}]") for i, v in enumerate(value))
    if positive and min(out) <= 0:
        raise PolicySpecError(source, name, f"expected values > 0, got {min(out)}")
    if nonnegative and min(out) < 0:
        raise PolicySpecError(source, name, f"expected values >= 0, got {min(out)}")
    return out


def _names(value: Any, expected: tuple[str, ...], source: str, name: str, what: str) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or tuple(value) != expected:
        raise PolicySpecError(source, name, f"not the {what} ({len(expected)} names, starting "
                                            f"{', '.join(expected[:2])}); got {str(value)[:80]}")
    return tuple(value)


def _observation(d: Any, source: str) -> ObservationSpec:
    p = "observation."
    history = _int(_get(d, "history", source, p), source, p + "history", 1)
    future = _get(d, "future_frames", source, p)
    if not isinstance(future, list | tuple) or not future:
        raise PolicySpecError(source, p + "future_frames", f"expected a non-empty list of frames, got {future!r}")
    future = tuple(_int(f, source, f"{p}future_frames[{i}]", None) for i, f in enumerate(future))
    want = observation_spec(history, future)
    size = _int(_get(d, "size", source, p), source, p + "size", 1)
    if size != want.size:
        raise PolicySpecError(source, p + "size", f"{size}, but history {history} and future frames {list(future)} "
                                                  f"make {want.size}")
    raw = _get(d, "blocks", source, p)
    try:
        blocks = tuple(ObservationBlock(str(b["name"]), int(b["start"]), int(b["size"]), str(b["kind"])) for b in raw)
    except (TypeError, KeyError, ValueError) as err:
        raise PolicySpecError(source, p + "blocks", f"expected objects with name, start, size, kind ({err})") from None
    if blocks != want.blocks:
        bad = next((i for i, (a, b) in enumerate(zip(blocks, want.blocks, strict=False)) if a != b),
                   min(len(blocks), len(want.blocks)))
        raise PolicySpecError(source, f"{p}blocks[{bad}]", "not the layout this runtime builds (expected "
                                                           f"{want.blocks[bad] if bad < len(want.blocks) else 'none'})")
    scales = {}
    for key, runtime in (("dof_vel_scale", obs.DOF_VEL_SCALE), ("gyro_scale", obs.GYRO_SCALE)):
        scales[key] = _number(_get(d, key, source, p), source, p + key)
        if scales[key] != runtime:
            raise PolicySpecError(source, p + key,
                                  f"{scales[key]}, but this runtime builds observations with {runtime}")
    return ObservationSpec(size, history, future, blocks, scales["dof_vel_scale"], scales["gyro_scale"],
                           str(d.get("goal_frame", GOAL_FRAME)), str(d.get("normalization", NORMALIZATION)))


def spec_from_dict(d: Mapping[str, Any], source: str | os.PathLike[str] = "<spec>",
                   allowed_extra: Sequence[str] = ONNX_KEYS) -> PolicySpec:
    """Validate the JSON form of a spec and build it: the one validator.

    Raises:
        PolicySpecError: naming ``source`` and the field (dotted path) that is missing or wrong: an unknown
            format or key, an observation layout or scale other than what
            :mod:`~genmimic.core.runtime.observation` builds, keypoints or joints in another order, vectors
            that are not 29 finite numbers (action scale and clip > 0, gains >= 0), a control period outside
            :data:`CONTROL_PERIOD_RANGE_S`.
    """
    source = str(source)
    fmt = _get(d, "format", source)
    if fmt != FORMAT:
        raise PolicySpecError(source, "format", f"unknown policy format {fmt!r} (expected {FORMAT})")
    known = {f.name for f in fields(PolicySpec)} | set(allowed_extra)
    unknown = sorted(set(d) - known)
    if unknown:
        raise PolicySpecError(source, unknown[0], f"unknown key (known: {', '.join(sorted(known))})")
    period = _number(_get(d, "control_period_s", source), source, "control_period_s")
    lo, hi = CONTROL_PERIOD_RANGE_S
    if not lo <= period <= hi:
        raise PolicySpecError(source, "control_period_s", f"implausible control period {period} s "
                                                          f"(expected {lo} to {hi} s)")
    training = d.get("training", {})
    if not isinstance(training, Mapping):
        raise PolicySpecError(source, "training", f"expected a JSON object, got {type(training).__name__}")
    return PolicySpec(
        observation=_observation(_get(d, "observation", source), source),
        keypoint_names=_names(_get(d, "keypoint_names", source), g1.KEYPOINT_NAMES, source, "keypoint_names",
                              "G1 keypoints in genmimic order"),
        joint_names=_names(_get(d, "joint_names", source), g1.JOINT_NAMES, source, "joint_names", "G1 SDK order"),
        default_dof_pos=_vector(_get(d, "default_dof_pos", source), source, "default_dof_pos"),
        action_scale=_vector(_get(d, "action_scale", source), source, "action_scale", positive=True),
        kp=_vector(_get(d, "kp", source), source, "kp", nonnegative=True),
        kd=_vector(_get(d, "kd", source), source, "kd", nonnegative=True),
        control_period_s=period, training=dict(training),
        action_clip=(_vector(d["action_clip"], source, "action_clip", positive=True) if "action_clip" in d
                     else None),
        action=str(d.get("action", ACTION_RULE)))


def spec_from_json(text: str | bytes, source: str | os.PathLike[str]) -> PolicySpec:
    """:func:`spec_from_dict` of a JSON text; :class:`PolicyFileError` when it is not JSON."""
    try:
        d = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise PolicyFileError(str(source), f"not valid JSON ({err})") from None
    return spec_from_dict(d, source)


def write_spec(spec: PolicySpec, dest: str | os.PathLike[str], extra: Mapping[str, Any] | None = None) -> Path:
    """Write ``spec`` as JSON to ``dest`` atomically (plus ``extra`` keys of :data:`ONNX_KEYS`); returns the path."""
    bad = set(extra or {}) - set(ONNX_KEYS)
    if bad:
        raise ValueError(f"extra keys {sorted(bad)} are not among {ONNX_KEYS}")
    write_bytes_atomic(dest, json.dumps({**spec.to_dict(), **(extra or {})}, indent=1).encode())
    return Path(dest)


def read_spec(path: str | os.PathLike[str]) -> PolicySpec:
    """The spec in the JSON file ``path``; :class:`PolicyFileError` (missing, not JSON) or
    :class:`PolicySpecError` (a bad field), naming the file."""
    try:
        text = Path(path).read_bytes()
    except OSError as err:
        raise PolicyFileError(str(path), f"cannot read the policy spec ({err.strerror or err})") from None
    return spec_from_json(text, path)


def first_difference(a: PolicySpec, b: PolicySpec) -> str | None:
    """The name of the first field where two specs differ (observation fields as ``observation.<name>``)."""
    for f in fields(PolicySpec):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if f.name == "observation" and x != y:
            return next(f"observation.{g.name}" for g in fields(ObservationSpec)
                        if getattr(x, g.name) != getattr(y, g.name))
        if x != y:
            return f.name
    return None
