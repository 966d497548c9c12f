"""Run a benchmark: every clip through retargeting and each tracker, in parallel worker processes."""

from __future__ import annotations

import csv
import io
import json
import os
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from genmimic.core.clips import G1Clip, SmplClip, Trajectory, load_clip
from genmimic.core.errors import GenMimicError
from genmimic.core.files import write_bytes_atomic
from genmimic.retarget import retarget

from .manifest import Entry, load_manifest
from .metrics import SUCCESS_THRESHOLD, evaluate
from .replay import replay
from .report import Row, write_report

Tracker = Callable[[G1Clip], Trajectory]
METHODS = ("policy", "replay")


def make_tracker(method: str, policy: str | None) -> Tracker:
    """The tracker behind a method name: the policy (genmimic-policy's tracker) or open-loop replay."""
    if method == "replay":
        return replay
    if method == "policy":
        from genmimic.policy.policy_file import load_policy
        from genmimic.policy.track import track_clip

        student, meta = load_policy(policy)
        return lambda clip: track_clip(clip, student, meta, source=str(policy or "shipped policy"))
    raise GenMimicError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")


def _evaluate_group(bench: str, entries: list[Entry], methods: tuple[str, ...], policy: str | None
                    ) -> list[tuple[Row, list[float]]]:
    """All variants of one clean motion (its retargeted reference is computed once)."""
    trackers = {m: make_tracker(m, policy) for m in methods}
    clean = retarget(load_clip(Path(bench) / entries[0].clean_file, SmplClip)).clip
    out = []
    for e in entries:
        row: Row = asdict(e)
        try:
            reference = clean if e.corruption == "none" else retarget(load_clip(Path(bench) / e.file, SmplClip)).clip
        except GenMimicError as err:
            for m in methods:
                out.append(({**row, "method": m, "error": f"retarget: {err}", "fell": True, "success": False,
                             "mpkpe_mm": np.nan, "ee_error_mm": np.nan, "clean_mpkpe_mm": np.nan,
                             "joint_vel_error": np.nan, "joint_acc_error": np.nan, "foot_slip": np.nan,
                             "energy": np.nan}, []))
            continue
        for m, track in trackers.items():
            traj = track(reference)
            metrics = evaluate(traj, reference, clean)
            out.append(({**row, "method": m, "error": None, **metrics._asdict()}, traj.tracking_error.tolist()))
    return out


def run_benchmark(bench: str | os.PathLike[str], out: str | os.PathLike[str], methods: tuple[str, ...] = METHODS,
                  policy: str | None = None, workers: int | None = None,
                  progress: Callable[[Iterator, int], Iterator] | None = None) -> list[Row]:
    """Evaluate every clip of ``bench`` with each method; write results and the report into ``out``."""
    bench, out = Path(bench), Path(out)
    entries = load_manifest(bench)
    for m in methods:
        make_tracker(m, policy)  # fail before any work on a bad method or a missing tracker
    groups: dict[str, list[Entry]] = defaultdict(list)
    for e in entries:
        groups[e.clean_file].append(e)
    jobs = list(groups.values())
    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    start = time.perf_counter()
    results: list[tuple[Row, list[float]]] = []
    args = ([str(bench)] * len(jobs), jobs, [tuple(methods)] * len(jobs), [policy] * len(jobs))
    if workers == 1:
        it = map(_evaluate_group, *args)
        for group in (progress(it, len(jobs)) if progress else it):
            results += group
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            it = pool.map(_evaluate_group, *args)
            for group in (progress(it, len(jobs)) if progress else it):
                results += group
    wall = time.perf_counter() - start
    rows = [r for r, _ in results]
    out.mkdir(parents=True, exist_ok=True)
    info = {"bench": str(bench), "wall_s": wall, "workers": workers, "threshold_m": SUCCESS_THRESHOLD,
            "methods": list(methods), "policy": policy or "shipped"}
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
