"""Peers' trackers as :class:`~genmimic.policy.controllers.Controller`: an ONNX policy described by a spec file.

A spec file (JSON, format ``genmimic.tracker_spec/1``) says how to feed a released tracker from a
``genmimic.g1/1`` clip and the robot's sensors, and how to turn its output into joint targets:

- ``onnx``: the model file (relative to the spec file, or to ``--baseline-dir``); ``input``/``output``: the
  graph's tensor names; ``control_period_s``: its control period [s] (a multiple of the 5 ms physics step).
- ``observation``: blocks, concatenated in order (see :data:`BLOCK_KINDS`):
  ``{"block": "reference", "frame_offset": k}`` (35): reference features of frame t + k;
  ``{"block": "proprioception", "gyro_scale", "dof_vel_scale", "zero_dof_vel": [joint names]}`` (92);
  ``{"block": "history", "frames": n}``: the previous n rows of the blocks before it, oldest first, all n
  filled with the first row at reset.
- ``action``: ``{"clip": c, "scale": s}``: joint targets [rad] = clip(a, -c, c) * s + ``default_dof_pos``.
- ``default_dof_pos``: 29 angles [rad] in SDK order; ``kp`` [Nm/rad], ``kd`` [Nm s/rad]: 29 values in SDK
  order, or an object whose keys are joint names or name fragments ("hip", "knee"), each joint matched by one.

The TWIST2 general G1 tracker's spec ships in this package (``data/twist2_spec.json``, from the interface
described in ``../shared/baselines/twist2/README.md``, read from its authors' code): ``--controller twist2``.
The ONNX file itself is never shipped or downloaded: it is read from ``--baseline-dir``,
``$GENMIMIC_TWIST2_DIR`` or ``../shared/baselines/twist2`` beside the repository.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from genmimic.core import g1_constants as g1
from genmimic.core.rotations import quat_conjugate, quat_rotate

from .errors import PolicyError
from .reference import ReferenceMotion

if TYPE_CHECKING:
    from .controllers import RobotState

SPEC_FORMAT = "genmimic.tracker_spec/1"
TWIST2_SPEC = Path(__file__).parent / "data" / "twist2_spec.json"
TWIST2_ONNX = "twist2_1017_20k.onnx"
REFERENCE_SIZE = 6 + g1.NUM_DOF  #: vx, vy (root frame), z, roll, pitch, yaw rate, 29 joint angles
PROPRIOCEPTION_SIZE = 5 + 3 * g1.NUM_DOF  #: gyro (3), roll, pitch, dof_pos - default, dof_vel, last action
BLOCK_KINDS = ("reference", "proprioception", "history")


class SpecError(PolicyError):
    """A tracker spec file (or the model it names) that cannot be used; the message names the file."""


class ObservationBlock(NamedTuple):
    """One block of the observation. ``kind`` in :data:`BLOCK_KINDS`; ``frame_offset`` (reference: frame
    t + offset); ``frames`` (history length); ``gyro_scale``, ``dof_vel_scale`` and ``zero_dof_vel``
    (SDK indices whose velocity reads 0) for proprioception."""

    kind: str
    frame_offset: int = 0
    frames: int = 0
    gyro_scale: float = 1.0
    dof_vel_scale: float = 1.0
    zero_dof_vel: tuple[int, ...] = ()


@dataclass(frozen=True)
class TrackerSpec:
    """An external ONNX tracker's interface (see the module docstring). Arrays are SDK order, [rad]."""

    name: str
    onnx_path: Path
    input_name: str
    output_name: str
    control_period_s: float
    blocks: tuple[ObservationBlock, ...]
    action_clip: float
    action_scale: float
    default_dof_pos: tuple[float, ...]
    gains: g1.PDGains

    @property
    def history_row_size(self) -> int:
        """Size of one history row: the blocks before the history block."""
        size = 0
        for b in self.blocks:
            if b.kind == "history":
                return size
            size += _block_size(b, 0)
        return 0

    @property
    def obs_size(self) -> int:
        return sum(_block_size(b, self.history_row_size) for b in self.blocks)


def _block_size(block: ObservationBlock, row: int) -> int:
    sizes = {"reference": REFERENCE_SIZE, "proprioception": PROPRIOCEPTION_SIZE, "history": block.frames * row}
    return sizes[block.kind]


def roll_pitch_from_quat(q_wxyz: np.ndarray) -> np.ndarray:
    """Roll and pitch (..., 2) [rad] of z-y-x Euler angles (R = Rz(yaw) Ry(pitch) Rx(roll)) of wxyz (..., 4)."""
    w, x, y, z = np.moveaxis(np.asarray(q_wxyz, float), -1, 0)
    roll = np.arctan2(2.0 * (w * x + y * z), 1.0 - 2.0 * (x * x + y * y))
    pitch = np.arcsin(np.clip(2.0 * (w * y - z * x), -1.0, 1.0))
    return np.stack([roll, pitch], axis=-1)


def reference_features(ref: ReferenceMotion) -> np.ndarray:
    """The reference block of every frame (T, 35): root linear velocity x, y in the reference root's own
    frame [m/s] (central differences); root height [m]; root roll, pitch [rad]; yaw rate in the root frame
    [rad/s]; the 29 joint angles [rad], SDK order."""
    local_vel = quat_rotate(quat_conjugate(ref.root_quat), ref.root_lin_vel)
    return np.concatenate([local_vel[:, :2], ref.root_pos[:, 2:3], roll_pitch_from_quat(ref.root_quat),
                           ref.root_ang_vel[:, 2:3], ref.dof_pos], axis=1)


def proprioception(block: ObservationBlock, state: RobotState, default_dof_pos: np.ndarray,
                   last_action: np.ndarray) -> np.ndarray:
    """The proprioception block (92,): gyro (pelvis frame) x ``gyro_scale``; IMU roll, pitch [rad]; joint
    angles minus the default pose [rad]; joint velocities x ``dof_vel_scale`` with ``zero_dof_vel`` set to
    0; the last raw action (the network's output before clipping and scaling)."""
    vel = np.array(state.dof_vel, float) * block.dof_vel_scale
    vel[list(block.zero_dof_vel)] = 0.0
    return np.concatenate([np.asarray(state.imu_gyro, float) * block.gyro_scale, roll_pitch_from_quat(state.imu_quat),
                           np.asarray(state.dof_pos, float) - default_dof_pos, vel, last_action])


class OnnxTracker:
    """A :class:`~genmimic.policy.controllers.Controller` running an external ONNX tracker per its
    :class:`TrackerSpec` (onnxruntime, one thread). ``policy`` may replace the ONNX session by any function
    (N, obs_size) -> (N, 29) (tests feed hand-made states through it)."""

    def __init__(self, spec: TrackerSpec, policy: Any = None) -> None:
        self.spec, self.name = spec, spec.name
        self.gains, self.control_period_s = spec.gains, spec.control_period_s
        self.default = np.asarray(spec.default_dof_pos, float)
        self._run = policy if policy is not None else _onnx_session(spec)
        self._features: np.ndarray | None = None
        self._history: np.ndarray | None = None
        self._last = np.zeros(g1.NUM_DOF)

    def reset(self, reference: ReferenceMotion) -> None:
        self._features = reference_features(reference)
        self._history = None
        self._last = np.zeros(g1.NUM_DOF)

    def observe(self, state: RobotState) -> np.ndarray:
        """The observation (obs_size,) at ``state`` (advances the history: call once per control step)."""
        if self._features is None:
            raise PolicyError(f"{self.name}: act called before reset")
        parts: list[np.ndarray] = []
        row: np.ndarray | None = None
        for b in self.spec.blocks:
            if b.kind == "reference":
                parts.append(self._features[min(max(state.t + b.frame_offset, 0), len(self._features) - 1)])
            elif b.kind == "proprioception":
                parts.append(proprioception(b, state, self.default, self._last))
            else:
                row = np.concatenate(parts)
                if self._history is None:
                    self._history = np.repeat(row[None], b.frames, axis=0)
                parts.append(self._history.ravel())
        if row is not None and self._history is not None:
            self._history = np.concatenate([self._history[1:], row[None]])
        return np.concatenate(parts)

    def act(self, state: RobotState) -> np.ndarray:
        raw = np.asarray(self._run(self.observe(state)[None].astype(np.float32)), float).reshape(-1)
        raw = np.nan_to_num(raw)
        self._last = raw
        return self.default + self.spec.action_scale * np.clip(raw, -self.spec.action_clip, self.spec.action_clip)


def _onnx_session(spec: TrackerSpec):
    from genmimic.core.runtime import OnnxPolicy, PolicyFileError

    if not spec.onnx_path.is_file():
        hint = (f" (pass --baseline-dir DIR holding {TWIST2_ONNX}, or set GENMIMIC_TWIST2_DIR)"
                if spec.onnx_path.name == TWIST2_ONNX else " (fix the spec's \"onnx\" path)")
        raise SpecError(f"{spec.onnx_path}: {spec.name} model not found{hint}")
    try:
        session = OnnxPolicy(spec.onnx_path).session  # the runtime's ONNX Runtime session (CPU, one thread)
    except PolicyFileError as err:
        raise SpecError(f"{spec.onnx_path}: not a usable ONNX model: {err.problem}") from None
    inputs = {i.name: i.shape for i in session.get_inputs()}
    outputs = {o.name: o.shape for o in session.get_outputs()}
    if spec.input_name not in inputs or spec.output_name not in outputs:
        raise SpecError(f"{spec.onnx_path}: the spec names input {spec.input_name!r} and output "
                        f"{spec.output_name!r}, the model has {list(inputs)} and {list(outputs)}")
    size, out = inputs[spec.input_name][-1], outputs[spec.output_name][-1]
    if size != spec.obs_size or out != g1.NUM_DOF:
        raise SpecError(f"{spec.onnx_path}: the model takes {size} observations and gives {out} actions, its spec "
                        f"describes {spec.obs_size} and {g1.NUM_DOF}")
    return lambda obs: session.run([spec.output_name], {spec.input_name: obs})[0]


def _per_joint(value: Any, key: str, source: str) -> tuple[float, ...]:
    if isinstance(value, list) and len(value) == g1.NUM_DOF:
        return tuple(float(v) for v in value)
    if isinstance(value, dict):
        out = []
        for joint in g1.JOINT_NAMES:
            keys = [k for k in value if k == joint] or [k for k in value if k in joint]
            if len(keys) != 1:
                raise SpecError(f"{source}: {key!r} must match each joint by one key; {joint} matches "
                                f"{keys or 'none'}")
            out.append(float(value[keys[0]]))
        return tuple(out)
    raise SpecError(f"{source}: {key!r} must be {g1.NUM_DOF} numbers in SDK order or an object keyed by joint "
                    f"names or name fragments")


def _block(raw: Any, source: str) -> ObservationBlock:
    if not isinstance(raw, dict) or raw.get("block") not in BLOCK_KINDS:
        raise SpecError(f"{source}: observation block {raw!r} is not one of {', '.join(BLOCK_KINDS)}")
    unknown = [n for n in raw.get("zero_dof_vel", []) if n not in g1.JOINT_NAMES]
    if unknown:
        raise SpecError(f"{source}: zero_dof_vel names unknown joints {unknown} (use G1 joint names)")
    if raw["block"] == "history" and int(raw.get("frames", 0)) < 1:
        raise SpecError(f"{source}: a history block needs \"frames\" >= 1")
    return ObservationBlock(raw["block"], int(raw.get("frame_offset", 0)), int(raw.get("frames", 0)),
                            float(raw.get("gyro_scale", 1.0)), float(raw.get("dof_vel_scale", 1.0)),
                            tuple(g1.JOINT_NAMES.index(n) for n in raw.get("zero_dof_vel", [])))


def load_spec(path: str | os.PathLike[str], onnx_dir: str | os.PathLike[str] | None = None) -> TrackerSpec:
    """Read a tracker spec file; its ``onnx`` path is taken relative to ``onnx_dir`` (default: the spec's
    folder). Raises :class:`SpecError` naming the file and the problem."""
    path = Path(path)
    source = str(path)
    try:
        raw = json.loads(path.read_text())
    except OSError as err:
        raise SpecError(f"{source}: cannot read tracker spec: {err.strerror or err}") from err
    except json.JSONDecodeError as err:
        raise SpecError(f"{source}: not JSON ({err.msg} at line {err.lineno}); a tracker spec is a JSON file") from err
    if not isinstance(raw, dict) or raw.get("format") != SPEC_FORMAT:
        raise SpecError(f"{source}: not a tracker spec (expected \"format\": \"{SPEC_FORMAT}\")")
    missing = [k for k in ("name", "onnx", "observation", "action", "default_dof_pos", "kp", "kd") if k not in raw]
    if missing:
        raise SpecError(f"{source}: missing {', '.join(missing)}")
    blocks = tuple(_block(b, source) for b in raw["observation"])
    if sum(b.kind == "history" for b in blocks) > 1 or (blocks and blocks[0].kind == "history"):
        raise SpecError(f"{source}: at most one history block, after the blocks it records")
    period = float(raw.get("control_period_s", 0.02))
    if period <= 0 or abs(period / 0.005 - round(period / 0.005)) > 1e-6:
        raise SpecError(f"{source}: control_period_s {period} is not a positive multiple of the 0.005 s physics step")
    onnx = Path(raw["onnx"])
    onnx = onnx if onnx.is_absolute() else Path(onnx_dir if onnx_dir is not None else path.parent) / onnx
    return TrackerSpec(
        name=str(raw["name"]), onnx_path=onnx, input_name=str(raw.get("input", "input")),
        output_name=str(raw.get("output", "output")), control_period_s=period, blocks=blocks,
        action_clip=float(raw["action"].get("clip", np.inf)), action_scale=float(raw["action"].get("scale", 1.0)),
        default_dof_pos=_per_joint(raw["default_dof_pos"], "default_dof_pos", source),
        gains=g1.PDGains(str(raw["name"]), _per_joint(raw["kp"], "kp", source), _per_joint(raw["kd"], "kd", source)))


def default_twist2_dir() -> Path:
    """Where TWIST2's ONNX file is looked for: ``$GENMIMIC_TWIST2_DIR``, else ``../shared/baselines/twist2``
    beside the repository this package is installed from (editable installs)."""
    env = os.environ.get("GENMIMIC_TWIST2_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[5].parent / "shared" / "baselines" / "twist2"


def twist2_available(baseline_dir: str | os.PathLike[str] | None = None) -> bool:
    """Whether TWIST2's ONNX file is in ``baseline_dir`` (default :func:`default_twist2_dir`)."""
    return (Path(baseline_dir) if baseline_dir is not None else default_twist2_dir()).joinpath(TWIST2_ONNX).is_file()


def twist2_controller(baseline_dir: str | os.PathLike[str] | None = None, **_: Any) -> OnnxTracker:
    """TWIST2's general G1 tracker from ``baseline_dir`` (see :func:`default_twist2_dir`)."""
    return OnnxTracker(load_spec(TWIST2_SPEC, baseline_dir if baseline_dir is not None else default_twist2_dir()))


def onnx_controller(spec: str | os.PathLike[str] | None = None, baseline_dir: str | os.PathLike[str] | None = None,
                    **_: Any) -> OnnxTracker:
    """An ONNX tracker from a spec file (its model relative to ``baseline_dir`` or to the spec)."""
    if spec is None:
        raise SpecError("the onnx controller needs a spec file: --spec FILE (format genmimic.tracker_spec/1)")
    return OnnxTracker(load_spec(spec, baseline_dir))


__all__: Sequence[str] = (
    "ObservationBlock",
    "OnnxTracker",
    "SpecError",
    "TrackerSpec",
    "default_twist2_dir",
    "load_spec",
    "onnx_controller",
    "proprioception",
    "reference_features",
    "roll_pitch_from_quat",
    "twist2_available",
    "twist2_controller",
)
