"""Many inputs through the whole pipeline: lift -> retarget -> feasibility check -> track, one task per input.

Inputs are videos, BVH, AMASS/GVHMR files (anything ``genmimic-lift`` reads), the project's SMPL clips
(``genmimic.smpl/1`` .npz: the lift is skipped) and G1 clips (``genmimic.g1/1``: lift and retarget skipped).
Each input writes into ``OUT/<name>/`` (``name``: the file's stem), every file atomically (a temporary
file, then a rename), ``record.json`` last:

- ``human.npz`` (SMPL clip), ``g1.npz`` (G1 clip), ``feasibility.json`` (``genmimic-retarget check``'s
  report), ``robot.npz`` (the simulated robot), ``record.json`` (:class:`BatchRecord`);
- ``OUT/manifest.jsonl``: one :class:`BatchRecord` per input and attempt, appended by the driver only.

An input is complete when its ``record.json`` says done and every output it lists loads and validates;
a rerun skips complete inputs and redoes the others (failed, interrupted, or damaged by hand). An attempt
starts by clearing what an earlier one left; a failed input keeps only the outputs its record lists (the
stages it finished), and no folder at all when it failed at its first stage or its worker died. The
driver and the worker pools are in :mod:`genmimic.bench.batch_pools`.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import socket
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, NamedTuple

from genmimic.core.clips import G1Clip, SmplClip, Trajectory, load_clip, save_clip
from genmimic.core.errors import GenMimicError
from genmimic.core.files import write_bytes_atomic

from .metrics import ClipMetrics

#: The stages of one input, in order (the names of :class:`StageTimes`' fields and of ``failed_stage``).
STAGES = ("lift", "retarget", "check", "track")
RECORD = "record.json"
MANIFEST = "manifest.jsonl"
#: Output files by stage, with the clip type each must load as (None: JSON).
OUTPUTS: dict[str, tuple[str, type | None]] = {
    "lift": ("human.npz", SmplClip), "retarget": ("g1.npz", G1Clip), "check": ("feasibility.json", None),
    "track": ("robot.npz", Trajectory)}


class BatchInput(NamedTuple):
    """One input: ``path`` (as given or found in a folder) and ``name``, its output folder under OUT."""

    path: str
    name: str


class BatchOptions(NamedTuple):
    """What every task of a batch shares: ``method`` (a tracker registered in genmimic-policy: policy,
    replay, mpc, ...), ``policy`` (a student policy file or run directory; None: the shipped one),
    ``timeout_s`` (per input, [s]; None: no limit), ``memory_mb`` (address-space limit of each worker
    process [MiB]; None: no limit), ``videos`` (some input is a video: workers load MediaPipe at start),
    ``startup_s`` (a worker not ready within this [s] is replaced; two in a row stop the batch)."""

    method: str = "policy"
    policy: str | None = None
    timeout_s: float | None = None
    memory_mb: int | None = None
    videos: bool = False
    startup_s: float = 300.0


DEFAULT_OPTIONS = BatchOptions()


class StageTimes(NamedTuple):
    """Wall time of each stage of one input [s]; None where the stage did not run (skipped or not reached)."""

    lift: float | None = None
    retarget: float | None = None
    check: float | None = None
    track: float | None = None


NO_TIMES = StageTimes()


@dataclass(frozen=True)
class BatchRecord:
    """What happened to one input in one attempt (one line of ``manifest.jsonl``).

    status: "done" or "failed". failed_stage: one of :data:`STAGES`, or "worker" (the worker process died
    or was killed for the time limit). error: one line saying why, or None. kind: "video", "bvh", "amass",
    "gvhmr", "smpl" or "g1". outputs: file names written under ``OUT/name``. feasibility: the check's
    verdict ("feasible", "adapt", "infeasible"). metrics: :class:`~genmimic.bench.metrics.ClipMetrics` of
    the tracked robot (strict success and fall by :mod:`genmimic.core.tracking`). worker: host:pid.
    started_utc: ISO 8601 time the attempt started; wall_s: its duration [s]. frames: the G1 clip's frames.
    """

    input: str
    name: str
    attempt: int
    status: str
    kind: str | None = None
    failed_stage: str | None = None
    error: str | None = None
    stage_s: StageTimes = NO_TIMES
    outputs: tuple[str, ...] = ()
    feasibility: str | None = None
    metrics: ClipMetrics | None = None
    worker: str | None = None
    started_utc: str | None = None
    wall_s: float | None = None
    frames: int | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (NaN metrics as null)."""
        d = asdict(self)
        d["stage_s"] = self.stage_s._asdict()
        d["outputs"] = list(self.outputs)
        if self.metrics is not None:
            d["metrics"] = {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                            for k, v in self.metrics._asdict().items()}
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> BatchRecord:
        """The record of :meth:`to_json`'s dict; KeyError/TypeError on a dict that is not one."""
        metrics = d.get("metrics")
        if metrics is not None:
            metrics = ClipMetrics(**{k: (math.nan if v is None else v) for k, v in metrics.items()})
        return cls(**{**d, "stage_s": StageTimes(**d.get("stage_s", {})), "outputs": tuple(d.get("outputs", ())),
                      "metrics": metrics})


def failure_reason(err: BaseException, memory_mb: int | None = None) -> str:
    """One line for a failed input's record: a GenMimicError's own message, else the exception's type
    and text. A cut-short video's advice names ``genmimic-lift --allow-partial``, an option the batch
    does not have."""
    from genmimic.lift.errors import CutShortStreamError

    if isinstance(err, CutShortStreamError):
        return (f"{err.source}: {err.stream_problem}; lift it alone with `genmimic-lift --allow-partial` "
                f"and give the batch the .npz, to keep the {err.frames_read} frames read")
    if isinstance(err, MemoryError):
        return f"out of memory (over --memory-mb {memory_mb})"
    return str(err) if isinstance(err, GenMimicError) else f"{type(err).__name__}: {err}"


def failed(task: BatchInput, attempt: int, reason: str, stage: str = "worker", **extra: Any) -> BatchRecord:
    """The record of an input that failed at ``stage`` for ``reason`` (one line)."""
    return BatchRecord(task.path, task.name, attempt, "failed", failed_stage=stage, error=one_line(reason), **extra)


def one_line(text: str, limit: int = 300) -> str:
    """The first non-empty line of ``text``, cut to ``limit`` characters."""
    lines = [s.strip() for s in str(text).splitlines() if s.strip()]
    line = lines[0] if lines else "(no message)"
    return line if len(line) <= limit else line[: limit - 3] + "..."


# ----------------------------------------------------------------------------------------------- inputs
def input_suffixes() -> tuple[str, ...]:
    """File extensions a folder is searched for (genmimic-lift's videos and mocap; .npz covers clips)."""
    from genmimic.lift.importers import MOCAP_EXTENSIONS, VIDEO_EXTENSIONS

    return VIDEO_EXTENSIONS + MOCAP_EXTENSIONS


def collect_inputs(paths: Sequence[str | os.PathLike[str]]) -> list[BatchInput]:
    """The inputs named by ``paths``: files as given, folders' files with a known extension (not recursive),
    in order, each named by its stem.

    Raises:
        GenMimicError: a path that does not exist, a folder with no inputs, nothing at all, or two inputs
            whose names (output folders) collide.
    """
    suffixes = input_suffixes()
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files = sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in suffixes)
            if not files:
                raise GenMimicError(f"{p}: no inputs in this folder (looked for {' '.join(suffixes)})")
            found += files
        elif p.is_file():
            found.append(p)
        else:
            raise GenMimicError(f"{p}: no such file or folder")
    if not found:
        raise GenMimicError("no inputs given: pass videos, mocap files, clips or folders of them")
    by_name: dict[str, Path] = {}
    for f in found:
        if f.stem in by_name and by_name[f.stem].resolve() != f.resolve():
            raise GenMimicError(f"{f}: its output folder {f.stem!r} is also {by_name[f.stem]}'s; rename one of them")
        by_name.setdefault(f.stem, f)
    return [BatchInput(str(f), name) for name, f in by_name.items()]


def is_video(path: str) -> bool:
    """Whether ``path`` has a video extension (genmimic-lift's list)."""
    from genmimic.lift.importers import VIDEO_EXTENSIONS

    return Path(path).suffix.lower() in VIDEO_EXTENSIONS


# ------------------------------------------------------------------------------------- completed inputs
def load_record(folder: Path) -> BatchRecord | None:
    """The ``record.json`` in ``folder``, or None where it is missing or unreadable."""
    try:
        return BatchRecord.from_json(json.loads((folder / RECORD).read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def completed(out: Path, task: BatchInput) -> BatchRecord | None:
    """The done record of ``task`` when every output it lists is there and validates; None otherwise."""
    folder = out / task.name
    record = load_record(folder)
    if record is None or record.status != "done" or Path(record.input).resolve() != Path(task.path).resolve():
        return None
    expected = {name: kind for name, kind in OUTPUTS.values()}
    try:
        for name in record.outputs:
            if name not in expected:
                return None
            if expected[name] is None:
                json.loads((folder / name).read_text())
            else:
                load_clip(folder / name, expected[name])
    except (GenMimicError, OSError, ValueError):
        return None
    return record


def clear_outputs(folder: Path, keep: Iterable[str] = ()) -> None:
    """Remove from ``folder`` (one input's ``OUT/<name>``) what an attempt writes (:data:`OUTPUTS`'s files,
    ``record.json``, temporary files of an unfinished write) except the files named in ``keep``, then the
    folder itself if that leaves it empty. Other files are never touched; a missing folder is fine."""
    ours = {name for name, _ in OUTPUTS.values()} | {RECORD}
    if not folder.is_dir():
        return
    for f in folder.iterdir():
        temporary = f.name.startswith(".") and f.name.endswith(".tmp")
        if (f.name in ours or temporary) and f.name not in keep and f.is_file():
            f.unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # not empty (the kept outputs, a user's file): it stays
        folder.rmdir()


def read_manifest(out: str | os.PathLike[str]) -> list[BatchRecord]:
    """Every record of ``OUT/manifest.jsonl`` in order (an unfinished last line, from a crash, is left out).

    Raises GenMimicError naming the line of a damaged record."""
    path = Path(out) / MANIFEST
    if not path.exists():
        return []
    text = path.read_text()
    lines = text.split("\n")
    if not text.endswith("\n"):
        lines = lines[:-1]  # torn by a crash mid-write
    records = []
    for i, line in enumerate(lines, 1):
        if line.strip():
            try:
                records.append(BatchRecord.from_json(json.loads(line)))
            except (ValueError, KeyError, TypeError) as err:
                raise GenMimicError(f"{path}: line {i} is not a batch record ({one_line(str(err))}); "
                                    "delete the line or the file") from None
    return records


def append_manifest(out: Path, records: Iterable[BatchRecord]) -> None:
    """Append ``records`` to ``OUT/manifest.jsonl``, each line written whole and flushed to disk."""
    with open(out / MANIFEST, "a") as fh:
        for r in records:
            fh.write(json.dumps(r.to_json()) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


# ------------------------------------------------------------------------------------------ one input
def _clip_format(path: str) -> str | None:
    """``format`` of a genmimic clip file (``genmimic.smpl/1``, ...), None for any other .npz."""
    import zipfile

    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as npz:
            return str(npz["format"]) if "format" in npz.files else None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError):
        return None  # the importer says what is wrong with it


class Worker:
    """The state of one worker process, built once and used for every input it runs: the tracker (its
    policy and controller), the stages' modules and caches, MediaPipe's graph when inputs include videos.

    Raises GenMimicError (from genmimic-policy) when the tracker cannot be built.
    """

    def __init__(self, options: BatchOptions) -> None:
        from genmimic.core.g1_model import load_mujoco_model

        from .runner import TrackerOptions, make_tracker

        self.options = options
        self.track = make_tracker(options.method, TrackerOptions(policy=options.policy))
        load_mujoco_model()  # MuJoCo's first compile in a process is slow (0.2 s), later ones ~15 ms
        if options.videos:
            from genmimic.lift.pose2d import warm_up

            warm_up()
        self.pid = os.getpid()
        self.worker = f"{socket.gethostname()}:{self.pid}"

    def run(self, task: BatchInput, out: str, attempt: int) -> BatchRecord:
        """Run ``task`` through every stage into ``out/task.name``; a failed record (never an exception) for
        any error, with the stage and one line saying why."""
        from genmimic.lift.importers import input_kind, lift_any
        from genmimic.retarget import retarget
        from genmimic.retarget.feasibility import check_feasibility

        from .metrics import evaluate

        start, started = time.perf_counter(), time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        folder = Path(out) / task.name
        times: dict[str, float] = {}
        outputs: list[str] = []
        info: dict[str, Any] = {"worker": self.worker, "started_utc": started}
        stage = "lift"
        try:
            clear_outputs(folder)  # an earlier attempt's leftovers
            folder.mkdir(parents=True, exist_ok=True)
            fmt = _clip_format(task.path) if task.path.lower().endswith(".npz") else None
            info["kind"] = kind = {"genmimic.smpl": "smpl", "genmimic.g1": "g1"}.get((fmt or "").partition("/")[0]) \
                or input_kind(task.path)
            t = time.perf_counter()
            if kind == "g1":
                robot_ref = load_clip(task.path, G1Clip)
            else:
                human = load_clip(task.path, SmplClip) if kind == "smpl" else lift_any(task.path)
                times["lift"] = time.perf_counter() - t
                self._save(human, folder, "lift", outputs)
                stage = "retarget"
                t = time.perf_counter()
                robot_ref = retarget(human, source=task.path).clip
                times["retarget"] = time.perf_counter() - t
                self._save(robot_ref, folder, "retarget", outputs)
            info["frames"] = robot_ref.num_frames
            stage = "check"
            if robot_ref.num_frames < 3:
                raise GenMimicError(f"{task.path}: {robot_ref.num_frames} frames; the check needs at least 3")
            t = time.perf_counter()
            report = check_feasibility(robot_ref)
            times["check"] = time.perf_counter() - t
            write_bytes_atomic(folder / OUTPUTS["check"][0], json.dumps(report.to_json()).encode())
            outputs.append(OUTPUTS["check"][0])
            info["feasibility"] = report.verdict
            stage = "track"
            t = time.perf_counter()
            traj = self.track(robot_ref)
            times["track"] = time.perf_counter() - t
            self._save(traj, folder, "track", outputs)
            info["metrics"] = evaluate(traj, robot_ref)
        except Exception as err:  # one input's failure never stops the batch
            reason = failure_reason(err, self.options.memory_mb)
            clear_outputs(folder, keep=outputs)  # only the finished stages' outputs, listed in the record
            return failed(task, attempt, reason, stage, stage_s=StageTimes(**times), outputs=tuple(outputs),
                          wall_s=time.perf_counter() - start, **info)
        record = BatchRecord(task.path, task.name, attempt, "done", stage_s=StageTimes(**times),
                             outputs=tuple(outputs), wall_s=time.perf_counter() - start, **info)
        write_bytes_atomic(folder / RECORD, json.dumps(record.to_json(), indent=1).encode())
        return record

    @staticmethod
    def _save(clip: SmplClip | G1Clip, folder: Path, stage: str, outputs: list[str]) -> None:
        name = OUTPUTS[stage][0]
        save_clip(clip, folder / name)
        outputs.append(name)
