"""``make demo``: the main job on the bundled input, as far as the stages exist.

The full job is lift -> retarget -> track on a short video the project renders itself. Until those
stages land, the demo runs what exists (the G1 model and clip formats) and says what will run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import mujoco
import numpy as np

from genmimic.core import g1_constants as g1
from genmimic.core import g1_mjcf, g1_urdf, load_clip, load_mujoco_model, save_clip, write_bytes_atomic
from genmimic.core.g1_model import standing_pelvis_height
from genmimic.core.testing import waving_g1_clip

OUT = Path("demo_out")
PIPELINE = "genmimic-lift VIDEO -o - | genmimic-retarget - -o - | genmimic-policy track - -o robot.npz"


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--video", type=Path, help="your own video instead of the bundled one")
    args = parser.parse_args()
    if args.video is not None and not args.video.is_file():
        say(f"error: {args.video}: no such video file")
        return 1
    OUT.mkdir(exist_ok=True)
    say("GenMimic demo: video -> 4D human -> G1 joints and keypoints -> physically simulated G1.")
    say("Stages built so far: genmimic-core (clip formats, G1 model, SMPL skeleton).")

    start = time.perf_counter()
    write_bytes_atomic(OUT / "g1.xml", g1_mjcf(g1.HOLD_GAINS).encode())
    write_bytes_atomic(OUT / "g1.urdf", g1_urdf().encode())
    say(f"[core] wrote the project's G1 model: {OUT}/g1.xml (MuJoCo) and {OUT}/g1.urdf (Pinocchio)")

    clip = waving_g1_clip(150, 50.0)
    save_clip(clip, OUT / "g1_wave.npz")
    clip = load_clip(OUT / "g1_wave.npz")
    say(f"[core] wrote a G1 clip ({clip.format_id()}, {clip.num_frames} frames, {clip.duration:.1f} s): "
        f"{OUT}/g1_wave.npz")

    model = load_mujoco_model(gains=g1.HOLD_GAINS)
    data = mujoco.MjData(model)
    mujoco.mj_resetDataKeyframe(model, data, model.key("home").id)
    data.qpos[2] += 0.05
    for _ in range(round(3.0 / model.opt.timestep)):
        mujoco.mj_step(model, data)
    expected = standing_pelvis_height(g1.DEFAULT_DOF_POS)
    tilt = np.degrees(np.arccos(np.clip(1 - 2 * (data.qpos[4] ** 2 + data.qpos[5] ** 2), -1, 1)))
    say(f"[core] dropped the G1 from 5 cm with hold gains: after 3 s the pelvis is at {data.qpos[2]:.3f} m "
        f"(standing height {expected:.3f} m), tilted {tilt:.1f} deg")
    say(f"[core] done in {time.perf_counter() - start:.1f} s")

    video = args.video or "a short video the project renders of a figure that waves, steps and turns"
    say("")
    say("Not built yet: genmimic-lift, genmimic-retarget and genmimic-policy. When they land, this demo runs")
    say(f"  {PIPELINE}")
    say(f"on {video}, and writes the SMPL clip, the G1 clip, the robot trajectory, a side-by-side video")
    say(f"and a report into {OUT}/.")
    print(f"demo outputs are in {OUT.resolve()}/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
