"""Render the demo's bundled input: a human-like figure that waves, steps forward and turns.

The motion is genmimic-synth's ``wave_step_turn`` (seed 0); the figure and camera are genmimic-lift's
closed-loop renderer. The project ships this video (it is its own render); run this script to make it again:
``MUJOCO_GL=osmesa .venv/bin/python scripts/render_demo_video.py [-o data/demo/wave_step_turn.mp4]``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from genmimic.lift.figure import RenderSetup, render_frames
from genmimic.lift.render import write_video
from genmimic.lift.synth import synthesize

DEFAULT = Path(__file__).resolve().parents[1] / "data" / "demo" / "wave_step_turn.mp4"
FPS = 25.0


def render_demo_video(dest: Path = DEFAULT) -> Path:
    clip = synthesize("wave_step_turn", seed=0, fps=FPS)
    dest.parent.mkdir(parents=True, exist_ok=True)
    write_video(dest, render_frames(clip, RenderSetup(width=360, height=480, distance=4.2)), FPS)
    return dest


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT)
    print(render_demo_video(parser.parse_args().output))
