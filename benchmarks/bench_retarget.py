"""genmimic-retarget: frames/s on one and two worker processes, and quality on clean motion.

Clean motion is the project's procedural library (genmimic-lift's ``synthesize``) at 30 fps, every kind.
"""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from common import Result

from genmimic.core import save_clip
from genmimic.lift.synth import KINDS, synthesize
from genmimic.retarget import default_config, retarget
from genmimic.retarget.batch import retarget_folder


def _mocap_rows() -> list[Result]:
    """SMPL -> G1 on mocap imports (genmimic-lift's BVH inputs of its bench, issue 16): in process and as the whole
    ``genmimic-retarget`` process, and the lowest foot's height above the ground on the G1 clip."""
    from bench_lift import mocap_inputs, timed_shell

    from genmimic.lift.bvh import import_bvh
    from genmimic.retarget.contacts import robot_sole_heights

    command = Path(sys.executable).parent / "genmimic-retarget"
    rows = []
    config = replace(default_config(), fps=30.0)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for label, path in mocap_inputs(tmp):
            human = import_bvh(path)
            n = human.num_frames
            cpu, start = time.process_time(), time.perf_counter()
            result = retarget(human, config)
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
            rows.append(Result(f"SMPL -> G1 in process, {label} -> 30 fps", n / seconds, "source frames/s",
                               f"{n} frames in {seconds:.2f} s wall, {cpu:.2f} s CPU ({n / cpu:.0f} per CPU second); "
                               f"IK {result.report.ik_frames_per_second:.0f} frames/s"))
            if command.exists():
                save_clip(human, tmp / "human.npz")
                wall, cpu = timed_shell(f"{command} {tmp}/human.npz -o {tmp}/g1.npz -q --fps 30")
                rows.append(Result(f"SMPL -> G1, whole genmimic-retarget process, {label} -> 30 fps", n / wall,
                                   "source frames/s", f"{n} frames in {wall:.1f} s wall, {cpu:.1f} s CPU"))
            if label.startswith("CMU"):
                clip = result.clip
                lowest = robot_sole_heights(clip.root_pos, clip.root_quat, clip.dof_pos).min(axis=1)
                rows.append(Result(f"G1 lowest foot above the ground, median over frames, {label}",
                                   float(np.median(lowest)) * 100, "cm",
                                   f"jumps included; p90 {np.percentile(lowest, 90) * 100:.1f} cm; GMR on the same "
                                   "688-frame file: 6.6 cm median (its feet float)", "< 1"))
    return rows


def run() -> list[Result]:
    clips = {kind: synthesize(kind, seed=0, fps=30.0) for kind in KINDS}
    rows = _mocap_rows()
    reports = {kind: retarget(clip).report for kind, clip in clips.items()}
    frames = sum(c.num_frames for c in clips.values())
    ik_rate = frames / sum(r.frames_in / r.ik_frames_per_second for r in reports.values())
    rows.append(Result("IK frames/s, one core, 30 fps clips (IK only)", ik_rate, "frames/s",
                       f"{len(clips)} clips, {frames} frames; GMR reports 35-70", ">= 1000"))
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in"
        src.mkdir()
        for kind, clip in clips.items():
            save_clip(clip, src / f"{kind}.npz")
        for workers in (1, 2):
            start = time.perf_counter()
            items = list(retarget_folder(src, Path(tmp) / f"out{workers}", default_config(), workers=workers))
            elapsed = time.perf_counter() - start
            assert all(i.error is None for i in items)
            rows.append(Result(f"batch, {workers} worker process(es), end to end", frames / elapsed, "frames/s",
                               "load, scale, contacts, IK, clean-up, resample to 50 fps, save",
                               ">= 1000" if workers == 1 else None))
    err = np.array([r.keypoint_error_mean for r in reports.values()])
    worst = max(reports, key=lambda k: reports[k].keypoint_error_mean)
    rows += [
        Result("mean keypoint error after scaling, clean motion", float(err.mean()) * 100, "cm",
               f"worst kind: {worst} {reports[worst].keypoint_error_mean * 100:.1f} cm", "<= 3"),
        Result("max keypoint error, clean motion", max(r.keypoint_error_max for r in reports.values()) * 100, "cm"),
        Result("joint-limit violations", sum(r.joint_limit_violations for r in reports.values()), "frames x joints",
               "", "0"),
        Result("penetration, worst clip", max(r.penetration for r in reports.values()) * 100, "cm", "", "<= 1"),
        Result("foot slide in contact, worst clip", max(r.foot_slide for r in reports.values()) * 100, "cm/s",
               max(reports, key=lambda k: reports[k].foot_slide), "<= 1"),
        Result("IK frames not converged (> 5 cm)", sum(len(r.nonconverged_frames) for r in reports.values()),
               "frames", f"of {frames}"),
    ]
    return rows
