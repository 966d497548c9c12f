"""Motion clip formats: the only place that defines, validates, loads and saves clips.

A clip is an ``.npz`` archive with a ``format`` string (``genmimic.<kind>/<version>``), ``fps``, a
``meta`` JSON string (source, tool, version, parameters, and the history of earlier stages) and the
arrays of its kind. Conventions everywhere: world frame z-up, x forward, ground at z = 0; meters,
radians, seconds; quaternions wxyz. ``T`` is the number of frames (at least 2), ``K`` of keypoints.

Clips are immutable dataclasses validated on construction, so every clip in memory is well formed;
:func:`load_clip` and :func:`save_clip` add the file name to any error.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import zipfile
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

import numpy as np

from . import g1_constants as g1
from .errors import ClipError
from .files import display_name, looks_like_bvh, looks_like_video, read_bytes, write_bytes_atomic

Dim = int | str  # a fixed size, or a symbol ("T", "K") that must agree across arrays


def _array(shape: tuple[Dim, ...], kind: str = "f", doc: str = "") -> Any:
    """Declare an array field: ``kind`` "f" (float, stored float64), "b" (bool) or "U" (text)."""
    return field(metadata={"shape": shape, "kind": kind, "doc": doc})


def _fmt_shape(shape: tuple[Dim, ...], sizes: dict[str, int]) -> str:
    parts = [f"{d}={sizes[d]}" if isinstance(d, str) and d in sizes else str(d) for d in shape]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


@dataclass(frozen=True, kw_only=True)
class _Clip:
    """Common part of all clips: ``fps`` [1/s] and ``meta`` (JSON-serialisable dict)."""

    KIND: ClassVar[str] = ""
    VERSION: ClassVar[int] = 1

    fps: float
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def format_id(cls) -> str:
        return f"genmimic.{cls.KIND}/{cls.VERSION}"

    @classmethod
    def array_fields(cls) -> tuple[dataclasses.Field, ...]:
        return tuple(f for f in dataclasses.fields(cls) if "shape" in f.metadata)

    @property
    def num_frames(self) -> int:
        return int(getattr(self, self.array_fields()[0].name).shape[0])

    @property
    def duration(self) -> float:
        """Time from the first to the last frame [s]."""
        return (self.num_frames - 1) / self.fps

    def replace(self, **changes: Any):
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def __post_init__(self) -> None:
        fps = self.fps
        if isinstance(fps, np.ndarray):
            fps = fps.item() if fps.size == 1 else fps
        if not isinstance(fps, int | float | np.floating | np.integer) or isinstance(fps, bool):
            raise ClipError(f"fps must be a number, got {fps!r}", key="fps")
        if not np.isfinite(fps) or fps <= 0:
            raise ClipError(f"fps must be a positive number, got {fps}", key="fps")
        object.__setattr__(self, "fps", float(fps))
        if not isinstance(self.meta, dict):
            raise ClipError(f"meta must be a dict, got {type(self.meta).__name__}", key="meta")
        try:
            json.dumps(self.meta)
        except (TypeError, ValueError) as err:
            raise ClipError(f"meta is not JSON-serialisable: {err}", key="meta") from None
        sizes: dict[str, int] = {}
        for f in self.array_fields():
            object.__setattr__(self, f.name, self._check_array(f, getattr(self, f.name), sizes))
        if sizes.get("T", 2) < 2:
            raise ClipError(f"a clip needs at least 2 frames, got {sizes['T']}", key=self.array_fields()[0].name)
        self._check_values()

    def _check_array(self, f: dataclasses.Field, value: Any, sizes: dict[str, int]) -> np.ndarray:
        kind, shape = f.metadata["kind"], f.metadata["shape"]
        arr = np.asarray(value)
        if kind == "f":
            if arr.dtype.kind not in "fiu" or arr.dtype.kind == "b":
                raise ClipError(f"{f.name}: expected a float array, got dtype {arr.dtype}", key=f.name)
            arr = arr.astype(np.float64, copy=False)
        elif kind == "b":
            if arr.dtype.kind in "iuf" and np.all((arr == 0) | (arr == 1)):
                arr = arr.astype(bool)
            elif arr.dtype.kind != "b":
                raise ClipError(f"{f.name}: expected a boolean array, got dtype {arr.dtype}", key=f.name)
        elif kind == "U" and arr.dtype.kind != "U":
            raise ClipError(f"{f.name}: expected an array of strings, got dtype {arr.dtype}", key=f.name)
        if arr.ndim != len(shape) or any(
            (isinstance(d, int) and d != n) or (isinstance(d, str) and sizes.setdefault(d, n) != n)
            for d, n in zip(shape, arr.shape, strict=False)
        ):
            raise ClipError(f"{f.name}: expected shape {_fmt_shape(shape, sizes)}, got {arr.shape}", key=f.name)
        if kind == "f" and not np.all(np.isfinite(arr)):
            bad = np.argwhere(~np.isfinite(arr))[0]
            what = "NaN" if np.isnan(arr[tuple(bad)]) else "Inf"
            raise ClipError(f"{f.name}: contains {what} (first at index {tuple(int(i) for i in bad)}); fix: make the "
                            "clip again from its source (a failed fit or a missing marker there), or fill or cut "
                            "those frames", key=f.name)
        return arr

    def _check_values(self) -> None:
        """Kind-specific checks beyond shape and dtype."""


@dataclass(frozen=True, kw_only=True)
class SmplClip(_Clip):
    """A human motion as SMPL parameters plus world joint positions.

    Axis-angle rotations [rad]; ``global_orient`` rotates SMPL's canonical body frame (y-up, facing +z)
    into the z-up world; ``transl`` [m] is added as in smplx (pelvis = rest pelvis + ``transl``).
    """

    KIND: ClassVar[str] = "smpl"

    global_orient: np.ndarray = _array(("T", 3), doc="root rotation, axis-angle [rad]")
    body_pose: np.ndarray = _array(("T", 23, 3), doc="joint rotations 1..23 relative to parent [rad]")
    transl: np.ndarray = _array(("T", 3), doc="root translation [m]")
    betas: np.ndarray = _array((10,), doc="SMPL shape coefficients")
    joints: np.ndarray = _array(("T", 24, 3), doc="world joint positions [m]")
    confidence: np.ndarray = _array(("T", 24), doc="per-joint confidence in [0, 1]")

    def _check_values(self) -> None:
        if np.any((self.confidence < 0) | (self.confidence > 1)):
            raise ClipError("confidence: values must lie in [0, 1]", key="confidence")


def _default_joint_names() -> np.ndarray:
    return np.array(g1.JOINT_NAMES)


def _default_keypoint_names() -> np.ndarray:
    return np.array(g1.KEYPOINT_NAMES)


@dataclass(frozen=True, kw_only=True)
class G1Clip(_Clip):
    """A G1 motion: root pose, 29 joint angles in SDK order, tracked keypoints and foot contacts."""

    KIND: ClassVar[str] = "g1"

    root_pos: np.ndarray = _array(("T", 3), doc="pelvis position in the world [m]")
    root_quat: np.ndarray = _array(("T", 4), doc="pelvis orientation, wxyz, unit norm")
    dof_pos: np.ndarray = _array(("T", 29), doc="joint angles in SDK order [rad]")
    keypoints: np.ndarray = _array(("T", "K", 3), doc="world positions of the tracked bodies [m]")
    contacts: np.ndarray = _array(("T", 2), "b", doc="(left, right) foot in contact")
    keypoint_names: np.ndarray = field(default_factory=_default_keypoint_names,
                                       metadata={"shape": ("K",), "kind": "U"})
    joint_names: np.ndarray = field(default_factory=_default_joint_names, metadata={"shape": (29,), "kind": "U"})

    def _check_values(self) -> None:
        norms = np.linalg.norm(self.root_quat, axis=-1)
        if np.any(np.abs(norms - 1.0) > 1e-3):
            t = int(np.argmax(np.abs(norms - 1.0)))
            raise ClipError(f"root_quat: not unit quaternions (norm {norms[t]:.4f} at frame {t})", key="root_quat")
        if tuple(self.joint_names) != g1.JOINT_NAMES:
            diff = next(i for i, (a, b) in enumerate(zip(self.joint_names, g1.JOINT_NAMES, strict=True)) if a != b)
            raise ClipError(
                f"joint_names: not the G1 SDK order (index {diff} is {str(self.joint_names[diff])!r}, "
                f"expected {g1.JOINT_NAMES[diff]!r}); fix: reorder the joint columns to the Unitree SDK order "
                "(genmimic.core.g1_constants.JOINT_NAMES)", key="joint_names")
        if len(set(self.keypoint_names.tolist())) != len(self.keypoint_names):
            raise ClipError("keypoint_names: names are not unique", key="keypoint_names")

    def keypoint_index(self, name: str) -> int:
        """Index of keypoint ``name`` along the ``K`` axis."""
        names = self.keypoint_names.tolist()
        if name not in names:
            raise KeyError(f"no keypoint {name!r}; this clip has: {', '.join(names)}")
        return names.index(name)


@dataclass(frozen=True, kw_only=True)
class Trajectory(G1Clip):
    """What a simulated (or real) G1 did while tracking a reference: a G1 clip plus dynamics.

    Velocities are in the world frame; ``tracking_error`` is the mean keypoint distance to
    ``reference_keypoints`` per frame [m]; ``fallen`` is True from the frame the robot fell on.
    """

    KIND: ClassVar[str] = "trajectory"

    dof_vel: np.ndarray = _array(("T", 29), doc="joint velocities [rad/s]")
    torque: np.ndarray = _array(("T", 29), doc="joint torques [Nm]")
    root_lin_vel: np.ndarray = _array(("T", 3), doc="pelvis linear velocity, world frame [m/s]")
    root_ang_vel: np.ndarray = _array(("T", 3), doc="pelvis angular velocity, world frame [rad/s]")
    reference_keypoints: np.ndarray = _array(("T", "K", 3), doc="goal keypoints [m]")
    tracking_error: np.ndarray = _array(("T",), doc="mean keypoint error per frame [m]")
    fallen: np.ndarray = _array(("T",), "b", doc="fell at or before this frame")

    @property
    def fell(self) -> bool:
        return bool(self.fallen.any())

    def _check_values(self) -> None:
        super()._check_values()
        if np.any(self.tracking_error < 0):
            raise ClipError("tracking_error: negative values", key="tracking_error")


Clip = SmplClip | G1Clip | Trajectory
C = TypeVar("C", SmplClip, G1Clip, Trajectory)
CLIP_TYPES: dict[str, type] = {cls.KIND: cls for cls in (SmplClip, G1Clip, Trajectory)}


def _parse_format(value: Any) -> type:
    text = str(value.item() if isinstance(value, np.ndarray) and value.ndim == 0 else value)
    name, _, version = text.partition("/")
    kind = name.removeprefix("genmimic.")
    if not name.startswith("genmimic.") or kind not in CLIP_TYPES or not version.isdigit():
        known = ", ".join(c.format_id() for c in CLIP_TYPES.values())
        raise ClipError(f"unknown clip format {text!r} (known: {known})", key="format")
    cls = CLIP_TYPES[kind]
    if int(version) > cls.VERSION:
        raise ClipError(
            f"clip format {text!r} is newer than this genmimic-core reads ({cls.format_id()}); "
            "fix: upgrade genmimic-core",
            key="format")
    if int(version) < 1:
        raise ClipError(f"unknown clip format version {text!r}", key="format")
    return cls


def clip_from_arrays(arrays: dict[str, np.ndarray]) -> Clip:
    """Build and validate a clip from the arrays of an npz archive (``format``, ``fps``, ``meta``, ...)."""
    for key in ("format", "fps"):
        if key not in arrays:
            raise ClipError(f"missing key {key!r}: not a genmimic clip", key=key)
    cls = _parse_format(arrays["format"])
    meta_raw = arrays.get("meta", np.array("{}"))
    try:
        meta = json.loads(str(meta_raw.item() if isinstance(meta_raw, np.ndarray) else meta_raw))
    except (json.JSONDecodeError, ValueError) as err:
        raise ClipError(f"meta is not valid JSON: {err}", key="meta") from None
    kwargs: dict[str, Any] = {"fps": arrays["fps"], "meta": meta}
    for f in cls.array_fields():
        if f.name not in arrays:
            raise ClipError(f"missing key {f.name!r} for a {cls.format_id()} clip", key=f.name)
        stored = np.asarray(arrays[f.name])
        if f.metadata["kind"] == "f" and stored.dtype.kind in "iu" and np.any(stored != 0):
            # whole numbers in an angle or position array: rounded on the way (an integer cast), not a motion
            raise ClipError(f"{f.name}: stored as integers ({stored.dtype}), so its angles [rad] or positions [m] "
                            "were rounded to whole numbers; fix: save it as floats (float32 or float64), e.g. "
                            "with genmimic.core.clips.save_clip", key=f.name)
        kwargs[f.name] = arrays[f.name]
    return cls(**kwargs)


def clip_to_arrays(clip: Clip) -> dict[str, np.ndarray]:
    """The arrays an npz archive of ``clip`` holds."""
    out = {"format": np.array(clip.format_id()), "fps": np.array(clip.fps), "meta": np.array(json.dumps(clip.meta))}
    out.update({f.name: getattr(clip, f.name) for f in clip.array_fields()})
    return out


#: Suffixes of what genmimic-lift reads (videos, mocap), told apart from a clip by name when not an npz.
_LIFT_INPUTS = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".bvh", ".c3d", ".fbx")
_IMPORT_INPUTS = (".csv", ".pkl", ".pickle")


def _looks_like_csv(data: bytes) -> bool:
    """Text whose first line is numbers separated by commas or semicolons (a CSV motion, e.g. on stdin)."""
    first = data[:4096].split(b"\n", 1)[0].strip()
    return bool(first) and first.count(b",") + first.count(b";") >= 6 and all(
        chr(c) in "0123456789.,;-+eE \t\r" for c in first)


_REWRITE_FIX = ("fix: give a clip written by a genmimic command (genmimic-lift, genmimic-retarget, ...), "
                "or write it again if it was cut short (a full disk or an interrupted copy)")
#: The fix a clip that opens but breaks the format (a missing array, a wrong shape, NaN) gets when its problem
#: names none of its own: such files come from code that wrote the arrays itself.
_FORMAT_FIX = ("fix: write clips with genmimic.core.clips.save_clip (it validates them) or a "
               "genmimic command, not np.savez by hand")


def load_clip(source: str | os.PathLike[str], expect: type[C] | None = None) -> C:
    """Load and validate a clip from a path, or from stdin for ``-``.

    Args:
        source: ``.npz`` file written by :func:`save_clip`, or ``-``.
        expect: the clip type wanted; a :class:`Trajectory` also satisfies ``G1Clip``.

    Raises:
        ClipError: with the file name and one line saying what is wrong.
    """
    name = display_name(source)
    try:
        data = read_bytes(source)
        if not data and name == "<stdin>":
            raise ClipError("standard input is empty: expected an npz clip; fix: if it comes through a pipe, look "
                            "at the error of the command before this one (it failed and wrote nothing)")
        if not data:
            raise ClipError(f"empty input: expected an npz clip; {_REWRITE_FIX}")
        if not zipfile.is_zipfile(io.BytesIO(data)):
            if os.path.splitext(name)[1].lower() in _LIFT_INPUTS or looks_like_video(data[:200]) \
                    or looks_like_bvh(data[:4096]):
                raise ClipError("not a clip but a video or mocap file; fix: run genmimic-lift on it first")
            if os.path.splitext(name)[1].lower() in _IMPORT_INPUTS or _looks_like_csv(data):
                raise ClipError("not a clip but a G1 motion file (CSV or GMR pickle); fix: turn it into a clip "
                                "with genmimic-retarget import first")
            raise ClipError(f"not an npz archive (wrong file type or truncated); {_REWRITE_FIX}")
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
            bad = [k for k, v in arrays.items() if not isinstance(v, np.ndarray)]
            if bad:
                raise ValueError(f"member {bad[0]!r} is not an npy array")
        except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError) as err:
            detail = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise ClipError(f"damaged npz archive: {detail}; {_REWRITE_FIX}") from None
        clip = clip_from_arrays(arrays)
        if expect is not None and not isinstance(clip, expect):
            raise ClipError(f"expected a {expect.format_id()} clip, got {clip.format_id()}; "
                            f"{_wrong_kind_fix(expect, type(clip))}", key="format")
        return clip  # type: ignore[return-value]
    except ClipError as err:
        if "fix:" not in err.problem:
            err = ClipError(f"{err.problem}; {_FORMAT_FIX}", key=err.key)
        raise err.at(name) from None


#: Which command makes each clip kind, in pipeline order (lift -> retarget -> policy track).
_MADE_BY = {"smpl": "genmimic-lift (from a video or a mocap file)",
            "g1": "genmimic-retarget (or its `import` of a robot motion CSV/pickle)",
            "trajectory": "genmimic-policy track"}
_TAKEN_BY = {"smpl": "genmimic-retarget", "g1": "genmimic-policy track", "trajectory": "genmimic-core view"}
_WHAT = {"smpl": "a human (SMPL) clip", "g1": "a reference, not a tracked trajectory", "trajectory": "a trajectory"}


def next_command(format_id: str) -> str:
    """The command that takes a clip of ``format_id`` (``"genmimic.smpl/1"``, ...) next in the pipeline
    (lift -> retarget -> track -> view). Raises ClipError for a format that is not a clip's."""
    return _TAKEN_BY[_parse_format(format_id).KIND]


def _wrong_kind_fix(expect: type, got: type) -> str:
    """The fix for a clip of the wrong kind: the command that turns what was given into what is expected."""
    order = list(_TAKEN_BY)
    if order.index(got.KIND) < order.index(expect.KIND):
        return f"fix: it is {_WHAT[got.KIND]}; run {_TAKEN_BY[got.KIND]} on it first"
    return f"fix: give a clip written by {_MADE_BY[expect.KIND]}; this one goes to {_TAKEN_BY[got.KIND]}"


def save_clip(clip: Clip, dest: str | os.PathLike[str], *, compress: bool = True) -> None:
    """Write ``clip`` to ``dest`` (path or ``-`` for stdout) atomically: all of it or nothing."""
    if not isinstance(clip, SmplClip | G1Clip):
        raise ClipError(f"not a clip: {type(clip).__name__}", source=display_name(dest, output=True))
    buf = io.BytesIO()
    try:
        clip.__post_init__()  # arrays may have been mutated in place since construction
    except ClipError as err:
        raise err.at(display_name(dest, output=True)) from None
    (np.savez_compressed if compress else np.savez)(buf, **clip_to_arrays(clip))
    write_bytes_atomic(dest, buf.getvalue())


def make_meta(tool: str, version: str, *, source: str | None = None, params: dict[str, Any] | None = None,
              parent: dict[str, Any] | None = None) -> dict[str, Any]:
    """Provenance for a clip's ``meta``: which tool made it from what, with which parameters.

    ``parent`` is the input clip's meta; it is kept under ``history`` so a pipeline's output tells
    every stage it went through.
    """
    history = []
    if parent:
        history = [*parent.get("history", []), {k: v for k, v in parent.items() if k != "history"}]
    return {"tool": tool, "version": version, "source": source, "params": params or {}, "history": history}
