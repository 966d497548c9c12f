"""The demo's comparison video (scripts/demo.py side_by_side, issue 20): one frame per source frame, the
caption strip, and after a fall one more second on the fall's frame, then the end."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from genmimic.core import testing

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


@pytest.fixture(scope="module")
def short_video(tmp_path_factory):
    """A 1.2 s, 25 fps source video (30 frames of a moving grey ramp) and the SMPL clip lifted from it."""
    from genmimic.lift.render import write_video

    path = tmp_path_factory.mktemp("sbs") / "source.mp4"
    frames = [np.full((120, 90, 3), 40 + 5 * i, np.uint8) for i in range(30)]
    write_video(path, frames, 25.0)
    return path, testing.random_smpl_clip(30, 25.0)


def _decode(path):
    import av

    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def _red_marker(frame) -> bool:
    strip = frame[-40:, frame.shape[1] // 2:].astype(int)
    return bool(((strip[..., 0] > 180) & (strip[..., 1] < 110) & (strip[..., 2] < 110)).sum() > 200)


def test_side_by_side_holds_a_fall_and_ends(tmp_path, short_video, monkeypatch):
    monkeypatch.syspath_prepend(str(SCRIPTS))
    sys.modules.pop("demo", None)
    from demo import side_by_side

    video, human = short_video
    reference = testing.waving_g1_clip(60, 50.0)
    upright = testing.tracked_trajectory(reference)
    n = side_by_side(video, human, upright, tmp_path / "up.mp4", height=120, label="G1: test")
    frames = _decode(tmp_path / "up.mp4")
    assert n == len(frames) == 30 and not any(_red_marker(f) for f in frames)
    assert frames[0].shape[0] == 120 + 44  # panels over the caption strip

    fallen = testing.tracked_trajectory(reference, fall_at=20)  # 0.4 s: video frame 10
    n = side_by_side(video, human, fallen, tmp_path / "fall.mp4", height=120, label="G1: test")
    frames = _decode(tmp_path / "fall.mp4")
    assert n == len(frames) == 10 + 25  # up to the fall, then one second at 25 fps
    assert not _red_marker(frames[9]) and all(_red_marker(f) for f in frames[10:])
    held = np.abs(frames[-1].astype(int) - frames[12]).mean()
    assert held < 2.0  # the same picture held (up to encoding noise)
    assert list(tmp_path.glob("*.part*")) == []
