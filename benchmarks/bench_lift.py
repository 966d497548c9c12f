"""genmimic-lift: procedural motion, mocap import, video lifting speed, and closed-loop accuracy on
rendered synthetic videos (MuJoCo capsule figure, known motion and camera)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from common import Result, rate

from genmimic.lift.synth import synthesize

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


#: Closed-loop renders: the three the README quotes, then five more kinds with other seeds.
CLOSED_LOOP = (("wave", 0), ("walk_with_action", 0), ("squat", 0), ("point", 1), ("walk", 1), ("composition", 1),
               ("turn", 1), ("random", 1))


def _closed_loop_rows() -> list[Result]:
    from genmimic.lift.evaluate import closed_loop

    rows, pa = [], []
    for kind, seed in CLOSED_LOOP:
        r = closed_loop(kind, seed=seed, duration=3.0)
        a = r.accuracy
        pa.append(a.pa_mpjpe * 1e3)
        note = f"{kind} seed {seed}, 3 s at 30 fps, 360x480 render"
        rows += [
            Result(f"closed loop {kind}: PA-MPJPE", a.pa_mpjpe * 1e3, "mm", note, "<= 60"),
            Result(f"closed loop {kind}: MPJPE (pelvis-aligned)", a.mpjpe * 1e3, "mm", note),
            Result(f"closed loop {kind}: root trajectory error", a.root * 1e3, "mm", note),
            Result(f"closed loop {kind}: frames without a person", r.frames_without_person, "frames", note, "0"),
        ]
    rows.append(Result("closed loop: mean PA-MPJPE", sum(pa) / len(pa), "mm", f"{len(pa)} renders", "<= 60"))
    rows.append(Result("capsule figure render (MuJoCo, osmesa)", r.render_fps, "frames/s", "360x480"))
    return rows


def _lift_rows(path: Path, label: str) -> list[Result]:
    """Decode, detection, fit and end-to-end rates of lifting one video (end to end includes model load)."""
    from genmimic.lift.lift_video import lift_video
    from genmimic.lift.video import probe

    info = probe(path)
    start = time.perf_counter()
    lift = lift_video(path)
    total = lift.timings.frames / (time.perf_counter() - start)
    size = f"{info.width}x{info.height}, {lift.timings.frames} frames"
    target = ">= 30" if min(info.width, info.height) == 720 else None
    return [
        Result(f"lift {label}: decode", lift.timings.decode_fps, "frames/s", size),
        Result(f"lift {label}: detect (MediaPipe, 2 threads)", lift.timings.detect_fps, "frames/s", size),
        Result(f"lift {label}: fit", lift.timings.fit_fps, "frames/s", size),
        Result(f"lift {label}: end to end", total, "frames/s", size + " (incl. model load)", target),
    ]


def _video_rows() -> list[Result]:
    from genmimic.lift.figure import RenderSetup, render_frames
    from genmimic.lift.render import write_video
    from genmimic.lift.video import read_frames

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("real_basketball_dribble.mp4", "generated_turn_around.mp4"):
            path = SHARED / "videos" / name
            if path.exists():
                rows += _lift_rows(path, name)
        real = SHARED / "videos" / "real_basketball_dribble.mp4"
        if real.exists():  # the real video at 720p (1280 px on the longer side)
            p720 = Path(tmp) / "real_720p.mp4"
            write_video(p720, read_frames(real, max_side=1280), 30.0)
            rows += _lift_rows(p720, "real video at 720p")
        # the project's own 10 s render at 1280x720
        clip = synthesize("wave_step_turn", seed=0, duration=10.0, fps=30.0)
        p720 = Path(tmp) / "render_720p.mp4"
        write_video(p720, render_frames(clip, RenderSetup(width=1280, height=720, fovy=45.0, distance=4.0)), 30.0)
        rows += _lift_rows(p720, "10 s render at 720p")
    return rows


def _bvh_to_g1_rows(bvh_path: Path, frames: int) -> list[Result]:
    """Whole processes: ``genmimic-lift X.bvh -o - | genmimic-retarget - -o g1.npz`` at 30 and 50 fps."""
    import subprocess
    import sys

    lift, retarget = (Path(sys.executable).parent / name for name in ("genmimic-lift", "genmimic-retarget"))
    if not (lift.exists() and retarget.exists()):
        return []
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for fps in (30, 50):
            start = time.perf_counter()
            subprocess.run(f"{lift} {bvh_path} -o - | {retarget} - -o {tmp}/g1.npz -q --fps {fps}", shell=True,
                           check=True)
            seconds = time.perf_counter() - start
            rows.append(Result(f"BVH -> G1 clip end to end, two CLIs, {fps} fps out", frames / seconds,
                               "source frames/s", f"{bvh_path.name}: {frames} frames at 120 fps in {seconds:.1f} s",
                               ">= 300"))
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
    rows.append(Result("BVH import (parse, map, closed form)", clip.num_frames / seconds, "frames/s",
                       f"{source.name}: {clip.num_frames} frames in {seconds:.2f} s; RMS to the conformed joints "
                       f"{clip.meta['fit_rms_error_m'] * 1e3:.1f} mm", ">= 1,000"))
    if cmu.exists():
        rows += _bvh_to_g1_rows(cmu, clip.num_frames)
    rows += _video_rows()
    rows += _closed_loop_rows()
    return rows
