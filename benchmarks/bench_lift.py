"""genmimic-lift: procedural motion, mocap import, video lifting speed, and closed-loop accuracy on
rendered synthetic videos (MuJoCo capsule figure, known motion and camera)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from common import Result, rate

from genmimic.lift.synth import synthesize

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def _closed_loop_rows() -> list[Result]:
    from genmimic.lift.evaluate import closed_loop

    rows = []
    for kind in ("wave", "walk_with_action", "squat"):
        r = closed_loop(kind, seed=0, duration=3.0)
        a = r.accuracy
        note = f"{kind}, 3 s at 30 fps, 360x480 render"
        rows += [
            Result(f"closed loop {kind}: PA-MPJPE", a.pa_mpjpe * 1e3, "mm", note, "<= 60"),
            Result(f"closed loop {kind}: MPJPE (pelvis-aligned)", a.mpjpe * 1e3, "mm", note),
            Result(f"closed loop {kind}: root trajectory error", a.root * 1e3, "mm", note),
            Result(f"closed loop {kind}: frames without a person", r.frames_without_person, "frames", note, "0"),
        ]
    rows.append(Result("capsule figure render (MuJoCo, osmesa)", r.render_fps, "frames/s", "360x480"))
    return rows


def _video_rows() -> list[Result]:
    from genmimic.lift.lift_video import lift_video
    from genmimic.lift.video import probe

    rows = []
    for name in ("real_basketball_dribble.mp4", "generated_turn_around.mp4"):
        path = SHARED / "videos" / name
        if not path.exists():
            continue
        info = probe(path)
        start = time.perf_counter()
        lift = lift_video(path)
        total = lift.timings.frames / (time.perf_counter() - start)
        size = f"{info.width}x{info.height}, {lift.timings.frames} frames"
        rows += [
            Result(f"lift {name}: decode", lift.timings.decode_fps, "frames/s", size),
            Result(f"lift {name}: detect (MediaPipe)", lift.timings.detect_fps, "frames/s", size),
            Result(f"lift {name}: fit", lift.timings.fit_fps, "frames/s", size),
            Result(f"lift {name}: end to end", total, "frames/s", size + " (incl. model load)", ">= 30 (720p)"),
        ]
    return rows


def run() -> list[Result]:
    rows = []

    def synth() -> int:
        return synthesize("walk_with_action", seed=1, duration=10.0, fps=30.0).num_frames

    rows.append(Result("synthesize walk_with_action (10 s at 30 fps)", rate(synth), "frames/s"))
    from genmimic.lift.bvh import import_bvh
    from genmimic.lift.testing import write_bvh

    cmu = SHARED / "motions" / "cmu_01_01_forward_jumps.bvh"
    with tempfile.TemporaryDirectory() as tmp:
        source = cmu if cmu.exists() else write_bvh(Path(tmp) / "walk.bvh", synthesize("walk", duration=20.0))
        start = time.perf_counter()
        clip = import_bvh(source)
        seconds = time.perf_counter() - start
    rows.append(Result("BVH import (parse, map, fit)", clip.num_frames / seconds, "frames/s",
                       f"{source.name}: {clip.num_frames} frames in {seconds:.1f} s; fit RMS "
                       f"{clip.meta['fit_rms_error_m'] * 1e3:.1f} mm"))
    rows += _video_rows()
    rows += _closed_loop_rows()
    return rows
