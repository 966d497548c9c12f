"""Pieces of a comparison video (panels side by side over a caption strip), independent of what is drawn.

:func:`video_plan` maps video frames to trajectory frames and, after a fall, holds the fall's frame for a
second and ends (instead of filming the floor); :func:`caption_strip` draws the text under the panels.
Needs Pillow (``pip install genmimic-core[report]``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

#: [s] how long a comparison video holds the frame of a fall before it ends.
FALL_HOLD_S = 1.0
STRIP_HEIGHT = 44  #: [px] height of the caption strip
_BG, _FG, _ALERT = (24, 24, 28), (235, 235, 235), (230, 60, 50)
CAPTION_FONT_PX = 14  #: [px] caption and label text size


def _font(size: int = CAPTION_FONT_PX):
    """Pillow's bundled scalable font (Aileron, through FreeType; Pillow >= 10.1) at ``size`` px, readable in
    a compressed video where the 10 px default bitmap font was not."""
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


class VideoPlan(NamedTuple):
    """For each video frame i: ``source[i]`` the frame of the source video (and the human render),
    ``robot[i]`` the trajectory frame, ``fell[i]`` whether it is at or after the fall (its frames repeat
    the fall's). ``fall_frame``: the first video frame at the fall, or -1."""

    source: np.ndarray
    robot: np.ndarray
    fell: np.ndarray
    fall_frame: int


def video_plan(num_source: int, video_fps: float, num_robot: int, robot_fps: float, fall_robot_frame: int | None,
               hold_s: float = FALL_HOLD_S) -> VideoPlan:
    """Frames of a comparison video of ``num_source`` source frames at ``video_fps`` [Hz] beside a trajectory of
    ``num_robot`` frames at ``robot_fps`` [Hz] (nearest frame in time, held at its end). With a fall at
    trajectory frame ``fall_robot_frame``, the video shows up to the fall, then holds that frame for
    ``hold_s`` [s] and ends.

    Raises:
        ValueError: no frames, or a frame rate <= 0.
    """
    if num_source < 1 or num_robot < 1 or video_fps <= 0 or robot_fps <= 0:
        raise ValueError(f"nothing to film: {num_source} source frames at {video_fps} fps, "
                         f"{num_robot} robot frames at {robot_fps} fps")
    i = np.arange(num_source)
    robot = np.minimum(np.round(i / video_fps * robot_fps).astype(int), num_robot - 1)
    source = i
    fall_frame = -1
    if fall_robot_frame is not None and fall_robot_frame >= 0:
        after = np.flatnonzero(robot >= fall_robot_frame)
        fall_frame = int(after[0]) if after.size else num_source - 1
        hold = max(1, round(hold_s * video_fps))
        source = np.concatenate([i[:fall_frame], np.full(hold, i[fall_frame])])
        robot = np.concatenate([robot[:fall_frame], np.full(hold, robot[fall_frame])])
    fell = np.arange(len(source)) >= fall_frame if fall_frame >= 0 else np.zeros(len(source), bool)
    return VideoPlan(source, robot, fell, fall_frame)


def caption_strip(width: int, lines: Sequence[str], alert: str | None = None,
                  height: int = STRIP_HEIGHT) -> NDArray[np.uint8]:
    """An RGB strip (height, width, 3) with ``lines`` of text (the first two; each cut with an ellipsis where it
    would run past the strip or under the alert) and, when given, ``alert`` in red at the right end (a fall)."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (width, height), _BG)
    draw, font = ImageDraw.Draw(img), _font()
    room = width - 16  # [px] for the text lines: up to the alert box when there is one
    if alert:
        w = draw.textlength(alert, font=font)
        draw.rectangle([width - w - 20, 4, width - 4, height - 4], fill=_ALERT)
        draw.text((width - w - 12, height // 2), alert, fill=(255, 255, 255), font=font, anchor="lm")
        room = int(width - w - 36)
    for k, line in enumerate(lines[:2]):
        draw.text((8, 4 + 18 * k), _fit(draw, font, line, room), fill=_FG, font=font)
    return np.asarray(img)


def _fit(draw: Any, font: Any, text: str, room: float) -> str:
    """``text`` cut to ``room`` [px] with an ellipsis (never drawn under the alert box)."""
    if draw.textlength(text, font=font) <= room:
        return text
    while text and draw.textlength(text + "…", font=font) > room:
        text = text[:-1]
    return text.rstrip() + "…"


def label_panel(image: NDArray[np.uint8], text: str) -> NDArray[np.uint8]:
    """``image`` (H, W, 3) with ``text`` written at its top-left on a dark band (a copy)."""
    from PIL import Image, ImageDraw

    img = Image.fromarray(np.ascontiguousarray(image))
    draw, font = ImageDraw.Draw(img), _font()
    draw.rectangle([0, 0, draw.textlength(text, font=font) + 12, 20], fill=_BG)
    draw.text((6, 2), text, fill=_FG, font=font)
    return np.asarray(img)
