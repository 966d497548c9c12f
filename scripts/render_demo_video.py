"""Render the demo's bundled input: a human-like figure that waves, steps forward and turns.

The motion is genmimic-synth's ``wave_step_turn`` (seed 0); the figure and camera are genmimic-lift's
closed-loop renderer. The project ships this video (it is its own render); run this script to make it again:
``MUJOCO_GL=osmesa .venv/bin/python scripts/render_demo_video.py [-o data/demo/wave_step_turn.mp4]``.

``--kind K --seed S --duration D`` renders another genmimic-synth motion the same way: the training corpus's
``lifted_*`` clips are such renders lifted back by genmimic-lift (``scripts/make_corpus.sh``), so the tracker
trains on what a video's lift really gives (its lag, jitter and foot slide), not only on procedural motion.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from genmimic.lift.figure import RenderSetup, fit_distance, render_frames
from genmimic.lift.render import write_video
from genmimic.lift.synth import synthesize

DEFAULT = Path(__file__).resolve().parents[1] / "data" / "demo" / "wave_step_turn.mp4"
FPS = 25.0


def render_demo_video(dest: Path = DEFAULT, kind: str = "wave_step_turn", seed: int = 0,
                      duration: float | None = None) -> Path:
    """Write genmimic-synth's ``kind`` (``seed``, ``duration`` [s] or its natural length) as an MP4 at 25 fps,
    360 x 480, the static camera 4.2 m in front of the figure's start, or further back where the figure
    travels (:func:`genmimic.lift.figure.fit_distance`); returns ``dest``. Raises SynthError for an unknown
    kind."""
    clip = synthesize(kind, seed=seed, fps=FPS, duration=duration)
    dest.parent.mkdir(parents=True, exist_ok=True)
    setup = fit_distance(clip, RenderSetup(width=360, height=480, distance=4.2))  # the demo's: 4.2 m
    write_video(dest, render_frames(clip, setup), FPS)
    return dest


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT)
    parser.add_argument("--kind", default="wave_step_turn")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--duration", type=float, default=None)
    args = parser.parse_args()
    print(render_demo_video(args.output, args.kind, args.seed, args.duration))
