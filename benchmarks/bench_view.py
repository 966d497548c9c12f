"""Seeing what happened (issue 20): the G1 renderer, the demo's side-by-side video, the viewer, the HTML report."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import Result, rate

from genmimic.core import save_clip
from genmimic.core.g1_render import FRONT, G1Renderer
from genmimic.core.testing import random_smpl_clip, tracked_trajectory, waving_g1_clip

ROOT = Path(__file__).resolve().parents[1]


def run() -> list[Result]:
    rows = []
    clip = waving_g1_clip(100, 50.0)
    for fast in (False, True):
        with G1Renderer(270, 360, view=FRONT, fast=fast) as renderer:
            def one(renderer: G1Renderer = renderer) -> int:
                for i in range(0, clip.num_frames, 10):
                    renderer.render(clip.root_pos[i], clip.root_quat[i], clip.dof_pos[i])
                return len(range(0, clip.num_frames, 10))

            rows.append(Result(f"G1 render 270x360 (OSMesa){', fast' if fast else ''}", rate(one, 2.0),
                               "frames/s", "no shadows, reflections, skybox, multisampling" if fast else ""))

    sys.path.insert(0, str(ROOT / "scripts"))
    from demo import side_by_side

    from genmimic.lift.render import write_video

    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp) / "src.mp4"
        write_video(video, (np.full((480, 360, 3), 30 + i, np.uint8) for i in range(125)), 25.0)
        human = random_smpl_clip(125, 25.0)
        robot = tracked_trajectory(waving_g1_clip(250, 50.0))
        start = time.perf_counter()
        n = side_by_side(video, human, robot, Path(tmp) / "sbs.mp4")
        rows.append(Result("demo side-by-side video, 5 s at 25 fps, 360 px high", n / (time.perf_counter() - start),
                           "frames/s", "source | human | G1, caption strip, H.264", ">= 20"))

        from genmimic.core.view import Viewer, load_view_clips, start_server

        save_clip(tracked_trajectory(waving_g1_clip(1500, 50.0)), Path(tmp) / "robot.npz")
        start = time.perf_counter()
        server = start_server("127.0.0.1", 0)
        try:
            viewer = Viewer(server, load_view_clips([str(Path(tmp) / "robot.npz")]))
            rows.append(Result("viewer: load a 30 s trajectory and build the scene", time.perf_counter() - start,
                               "s", "viser, 1,500 frames", "< 2"))
            rows.append(Result("viewer: pose one frame (server side)", rate(lambda: viewer.show(1.0) or 1),
                               "frames/s", "plays at the clip's rate (50 fps)"))
        finally:
            server.stop()

        from genmimic.core.report_html import Run, write_report_html

        reference = waving_g1_clip(500, 50.0)
        start = time.perf_counter()
        write_report_html(Path(tmp) / "r.html", "bench", [Run("a", tracked_trajectory(reference)),
                                                          Run("b", tracked_trajectory(reference, fall_at=300))],
                          reference, {"x": 1.0})
        rows.append(Result("HTML report with 4 plots (2 controllers, 10 s)", time.perf_counter() - start, "s"))
    return rows
