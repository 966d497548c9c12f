"""Run a benchmark: every clip through retargeting and each tracker, in parallel worker processes."""

from __future__ import annotations

import csv
import io
import json
import os
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from genmimic.core.clips import G1Clip, SmplClip, Trajectory, load_clip
from genmimic.core.errors import GenMimicError
from genmimic.core.files import write_bytes_atomic
from genmimic.core.parallel import ordered_map
from genmimic.core.tracking import STRICT_WINDOW_ERROR_M, STRICT_WINDOW_S, SUCCESS_MEAN_ERROR_M
from genmimic.retarget import retarget

from .manifest import Entry, load_manifest
from .metrics import FAILED, evaluate
from .report import Row, write_report

Tracker = Callable[[G1Clip], Trajectory]
#: Methods run when none are named: the shipped student, TWIST2 (where its file is found), open-loop replay.
METHODS = ("policy", "twist2", "replay")


class TrackerOptions(NamedTuple):
    """Options passed to every method's controller factory: ``policy`` (a student policy file or run
    directory), ``baseline_dir`` (folder of a peer's ONNX file), ``spec`` (tracker spec for ``onnx``)."""

    policy: str | None = None
    baseline_dir: str | None = None
    spec: str | None = None


NO_OPTIONS = TrackerOptions()


def default_methods(options: TrackerOptions = NO_OPTIONS) -> tuple[str, ...]:
    """:data:`METHODS`, less ``twist2`` where its ONNX file is not found (CI without ../shared)."""
    from genmimic.policy.onnx_tracker import twist2_available

    return tuple(m for m in METHODS if m != "twist2" or twist2_available(options.baseline_dir))


def make_tracker(method: str, options: TrackerOptions = NO_OPTIONS) -> Tracker:
    """The tracker behind a method name: any controller registered in genmimic-policy's ``CONTROLLERS``
    (policy, replay, twist2, onnx, mpc, ...) run by its ``track_clip`` in C MuJoCo, so every method starts
    from the same state, in the same simulator, and is judged by the same fall test.

    Raises GenMimicError (PolicyError) for an unknown method or a controller that cannot be built."""
    from genmimic.policy.controllers import make_controller
    from genmimic.policy.track import track_clip

    extra = {k: v for k, v in options._asdict().items() if v is not None and k != "policy"}
    controller = make_controller(method, policy=options.policy, **extra)
    return lambda clip: track_clip(clip, controller, source=f"{method}")


def _evaluate_group(bench: str, entries: list[Entry], methods: tuple[str, ...], options: TrackerOptions
                    ) -> list[tuple[Row, list[float]]]:
    """All variants of one clean motion (its retargeted reference is computed once)."""
    trackers = {m: make_tracker(m, options) for m in methods}
    clean = retarget(load_clip(Path(bench) / entries[0].clean_file, SmplClip)).clip
    out = []
    for e in entries:
        row: Row = asdict(e)
        try:
            reference = clean if e.corruption == "none" else retarget(load_clip(Path(bench) / e.file, SmplClip)).clip
        except GenMimicError as err:
            for m in methods:
                out.append(({**row, "method": m, "error": f"retarget: {err}", **FAILED._asdict()}, []))
            continue
        for m, track in trackers.items():
            traj = track(reference)
            metrics = evaluate(traj, reference, clean)
            out.append(({**row, "method": m, "error": None, **metrics._asdict()}, traj.tracking_error.tolist()))
    return out


def run_benchmark(bench: str | os.PathLike[str], out: str | os.PathLike[str], methods: tuple[str, ...] | None = None,
                  options: TrackerOptions = NO_OPTIONS, workers: int | None = None,
                  progress: Callable[[Iterator, int], Iterator] | None = None) -> list[Row]:
    """Evaluate every clip of ``bench`` with each method (default :func:`default_methods`); write
    ``results.json``, ``results.csv`` and the report into ``out``. Raises GenMimicError before any work for
    an unknown method or a tracker that cannot be built (a missing model file)."""
    methods = tuple(methods) if methods else default_methods(options)
    bench, out = Path(bench), Path(out)
    for m in methods:
        make_tracker(m, options)  # fail before any work on a bad method or a missing tracker
    entries = load_manifest(bench)
    groups: dict[str, list[Entry]] = defaultdict(list)
    for e in entries:
        groups[e.clean_file].append(e)
    jobs = list(groups.values())
    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    start = time.perf_counter()
    results: list[tuple[Row, list[float]]] = []
    args = ([str(bench)] * len(jobs), jobs, [tuple(methods)] * len(jobs), [options] * len(jobs))
    it = ordered_map(_evaluate_group, *args, workers=workers)
    for group in (progress(it, len(jobs)) if progress else it):
        results += group
    wall = time.perf_counter() - start
    rows = [r for r, _ in results]
    out.mkdir(parents=True, exist_ok=True)
    info = {"bench": str(bench), "wall_s": wall, "workers": workers, "threshold_m": SUCCESS_MEAN_ERROR_M,
            "strict_window_s": STRICT_WINDOW_S, "strict_error_m": STRICT_WINDOW_ERROR_M,
            "methods": list(methods), "policy": options.policy or "shipped", "baseline_dir": options.baseline_dir}
    write_bytes_atomic(out / "results.json", json.dumps({"info": info, "rows": rows}, indent=1,
                                                        default=_json_default).encode())
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    write_bytes_atomic(out / "results.csv", buf.getvalue().encode())
    worst_rows = sorted((r for r in results if r[0]["method"] == methods[0] and r[1]),
                        key=lambda r: -np.nan_to_num(r[0]["mpkpe_mm"]))[:4]
    write_report(out, rows, info, {f"{r['clip_id']} ({r['method']})": np.array(e) for r, e in worst_rows})
    return rows


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(type(value).__name__)
