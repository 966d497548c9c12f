"""genmimic-lift: procedural motion, mocap import, video lifting speed, and closed-loop accuracy on
rendered synthetic videos (MuJoCo capsule figure, known motion and camera)."""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import Result, rate

from genmimic.core import smpl
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


def cpu_of_children() -> float:
    """CPU seconds (user + system) used so far by this process's finished child processes."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_shell(command: str) -> tuple[float, float]:
    """Wall and CPU seconds of a shell command line (all its processes)."""
    cpu, start = cpu_of_children(), time.perf_counter()
    subprocess.run(command, shell=True, check=True)
    return time.perf_counter() - start, cpu_of_children() - cpu


def mocap_inputs(tmp: Path) -> list[tuple[str, Path]]:
    """The BVH inputs of the mocap rows: CMU 01_01 at its own 120 fps, the same resampled to 30 fps (every 4th
    frame: the 688-frame file of the GMR comparison), and the project's 30 s walk at 30 fps (900 frames)."""
    from genmimic.lift.testing import bvh_every_nth_frame, write_bvh

    cmu = SHARED / "motions" / "cmu_01_01_forward_jumps.bvh"
    inputs = []
    if cmu.exists():
        inputs += [("CMU 01_01 at 120 fps", cmu),
                   ("CMU 01_01 at 30 fps", bvh_every_nth_frame(cmu, tmp / "cmu_30fps.bvh", step=4))]
    walk = synthesize("walk_with_action", seed=1, duration=30.0, fps=30.0)
    inputs.append(("30 s walk at 30 fps", write_bvh(tmp / "walk_30s.bvh", walk)))
    return inputs


def _mocap_rows() -> list[Result]:
    """BVH import speed and accuracy, start-up, and BVH -> G1 clip through two CLIs (whole processes)."""
    from genmimic.lift.bvh import file_joints, import_bvh
    from genmimic.lift.testing import bvh_every_nth_frame

    bin_dir = Path(sys.executable).parent
    lift, retarget = bin_dir / "genmimic-lift", bin_dir / "genmimic-retarget"
    rows = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        inputs = mocap_inputs(tmp)
        frames = {}
        for label, path in inputs:
            cpu, start = time.process_time(), time.perf_counter()
            clip = import_bvh(path)
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
            frames[label] = clip.num_frames
            rows.append(Result(f"BVH import in process (parse, map, closed form), {label}", clip.num_frames / seconds,
                               "frames/s", f"{clip.num_frames} frames in {seconds:.2f} s wall, {cpu:.2f} s CPU; "
                               f"{clip.num_frames / cpu:.0f} frames per CPU second", ">= 1,000"))
            if label.startswith("CMU 01_01 at 120"):
                rows += _accuracy_rows(path, clip, file_joints(path))
        rows.append(_amass_row(tmp))
        cmu30 = dict(inputs).get("CMU 01_01 at 30 fps")
        if cmu30 is not None:
            closed, fitted = import_bvh(cmu30), import_bvh(cmu30, refine=True)
            idx = [smpl.JOINT_NAMES.index(n) for n in closed.meta["params"]["mapped"]]
            err = np.linalg.norm(closed.joints[:, idx] - fitted.joints[:, idx], axis=-1)
            rows.append(Result("BVH import: closed form vs --refine (the fit), CMU 01_01 at 30 fps, mean",
                               err.mean() * 100, "cm", f"max {err.max() * 100:.1f} cm over {len(idx)} weighted "
                               "joints x 688 frames", "<= 1"))
        if not (lift.exists() and retarget.exists()):
            return rows
        two = bvh_every_nth_frame(inputs[0][1], tmp / "two_frames.bvh", step=1, count=2)
        wall, cpu = timed_shell(f"{lift} {two} -o {tmp}/two.npz -q")
        rows.append(Result("genmimic-lift start-up: a two-frame BVH, whole process", wall, "s",
                           f"{cpu:.2f} s CPU; no torch, MediaPipe or JAX (a clip holds >= 2 frames, so no "
                           "one-frame file)"))
        retarget_start = min(timed_shell(f"{retarget} {tmp}/two.npz -o {tmp}/two_g1.npz -q --fps 120")[1]
                             for _ in range(3))
        rows.append(Result("genmimic-retarget start-up: a two-frame clip, whole process, CPU", retarget_start, "s",
                           "least of 3 runs; no Pink, qpsolvers, SciPy sparse/spatial, JAX"))
        for label, path in inputs:
            wall, cpu = timed_shell(f"{lift} {path} -o - -q | {retarget} - -o {tmp}/g1.npz -q --fps 30")
            n = frames[label]
            rows.append(Result(f"BVH -> G1 clip end to end, two CLIs, {label} -> 30 fps", n / wall,
                               "source frames/s", f"{n} frames in {wall:.1f} s wall, {cpu:.1f} s CPU "
                               f"({n / cpu:.0f} frames per CPU second, both processes); GMR publishes 35-70, its "
                               "IK ran ~120 here", ">= 300" if label.startswith("30 s") else None))
            rows.append(_idle_estimate(label, n, lift, retarget, path, tmp, retarget_start))
    return rows


def _idle_estimate(label: str, n: int, lift: Path, retarget: Path, path: Path, tmp: Path,
                   retarget_start: float) -> Result:
    """The pipeline's wall time on two idle cores, from CPU times measured here: the two processes start
    together, so the retarget's start-up overlaps the import, and its work waits for the import's output:
    max(lift CPU, retarget start-up CPU) + (retarget CPU - its start-up CPU). An estimate, not a measurement
    (this machine is shared), stated as such in the row."""
    lift_cpu = min(timed_shell(f"{lift} {path} -o {tmp}/h.npz -q")[1] for _ in range(2))
    retarget_cpu = min(timed_shell(f"{retarget} {tmp}/h.npz -o {tmp}/g1.npz -q --fps 30")[1] for _ in range(2))
    critical = max(lift_cpu, retarget_start) + max(retarget_cpu - retarget_start, 0.0)
    return Result(f"BVH -> G1 clip end to end, {label} -> 30 fps, idle 2-core estimate", n / critical,
                  "source frames/s", f"critical path {critical:.2f} s from CPU times (least of 2-3 runs): "
                  f"genmimic-lift {lift_cpu:.2f} s, genmimic-retarget {retarget_cpu:.2f} s of which start-up "
                  f"{retarget_start:.2f} s (estimate, not measured)", ">= 300" if label.startswith("30 s") else None)


def _amass_row(tmp: Path) -> Result:
    """AMASS-style npz import (SMPL parameters already: forward kinematics and grounding) of a 30 s walk."""
    from genmimic.lift.amass import import_amass

    walk = synthesize("walk_with_action", seed=1, duration=30.0, fps=30.0)
    path = tmp / "walk_amass.npz"
    poses = np.concatenate([walk.global_orient, walk.body_pose.reshape(walk.num_frames, -1)], axis=1)
    np.savez(path, poses=poses, trans=walk.transl, betas=np.zeros(10), mocap_framerate=np.array(30.0))
    cpu, start = time.process_time(), time.perf_counter()
    clip = import_amass(path)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return Result("AMASS-style npz import in process, 30 s walk at 30 fps", clip.num_frames / seconds, "frames/s",
                  f"{clip.num_frames} frames in {seconds:.2f} s wall, {cpu:.2f} s CPU (default skeleton)", ">= 1,000")


def _accuracy_rows(path: Path, clip, ref) -> list[Result]:
    """Joint error of the import against the file's own joints (issue 16's target: <= 1 cm mean, <= 3 cm max)."""
    truth = ref.positions - [0.0, 0.0, clip.meta["ground_offset_m"]]
    err = np.linalg.norm(clip.joints[:, ref.mapped] - truth[:, ref.mapped], axis=-1)
    names = [n for n, m in zip(smpl.JOINT_NAMES, ref.mapped, strict=True) if m]
    worst = np.argsort(-err.max(axis=0))[:3]
    per_joint = ", ".join(f"{names[j]} {err[:, j].mean() * 100:.1f}/{err[:, j].max() * 100:.1f}" for j in worst)
    note = f"{path.name}, {len(names)} mapped joints; worst (mean/max cm): {per_joint}"
    return [Result("BVH import joint error vs the file's joints, mean", err.mean() * 100, "cm", note, "<= 1"),
            Result("BVH import joint error vs the file's joints, max", err.max() * 100, "cm", note, "<= 3")]


def run() -> list[Result]:
    rows = []

    def synth() -> int:
        return synthesize("walk_with_action", seed=1, duration=10.0, fps=30.0).num_frames

    rows.append(Result("synthesize walk_with_action (10 s at 30 fps)", rate(synth), "frames/s"))
    rows += _mocap_rows()
    rows += _video_rows()
    rows += _closed_loop_rows()
    return rows
