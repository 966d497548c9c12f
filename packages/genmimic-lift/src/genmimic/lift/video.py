"""Decoding videos with PyAV: frames as RGB arrays turned upright by the stream's display rotation,
with their presentation timestamps, downscaled for detection, and clear errors.

Refused with one line naming the file: unreadable or not a video, no video stream, zero frames, a single
frame (a still image), a resolution above :data:`MAX_PIXELS`, and a stream that breaks or ends before the
frame count its container declares (unless the caller allows a partial stream, see :class:`DecodeStats`).

A source is a path, ``-`` (standard input, read to the end once, then decoded from memory) or the bytes
of a video file (:class:`VideoBytes`).
"""

from __future__ import annotations

import io
import os
import queue
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, TypeVar, Union

import numpy as np
from numpy.typing import NDArray

from genmimic.core.files import STREAM, looks_like_video, missing_file_hint, read_bytes

from .errors import CutShortStreamError, LiftError

T = TypeVar("T")
#: Largest frame accepted (8K UHD) [pixels].
MAX_PIXELS = 7680 * 4320


class VideoBytes(NamedTuple):
    """A video held in memory (read from standard input): ``data`` and the ``name`` used in messages."""

    data: bytes
    name: str = "<stdin>"


VideoSource = Union[str, "os.PathLike[str]", VideoBytes]


def load_source(source: VideoSource) -> VideoBytes | str:
    """A path as a string, or for ``-`` standard input read to the end (once) as :class:`VideoBytes`."""
    if isinstance(source, VideoBytes):
        return source
    if str(source) == STREAM:
        if sys.stdin is None or sys.stdin.isatty():
            raise LiftError("<stdin>", "standard input is a terminal; fix: pipe a video into it (cat clip.mp4 | ...)")
        data = read_bytes(STREAM)
        if not data:
            raise LiftError("<stdin>", "standard input is empty; fix: pipe a video into it (cat clip.mp4 | ...); in a "
                             "pipe, look at the error of the command before this one")
        return VideoBytes(data)
    return str(source)


def source_name(source: VideoSource) -> str:
    """How ``source`` is named in messages."""
    return source.name if isinstance(source, VideoBytes) else "<stdin>" if str(source) == STREAM else str(source)


def is_video_input(source: str | os.PathLike[str]) -> bool:
    """Whether ``source`` names a video: by extension (see ``importers.VIDEO_EXTENSIONS``), or for ``-``
    by the first bytes waiting on standard input (peeked, not consumed, so another reader still gets them)."""
    if str(source) != STREAM:
        from .importers import VIDEO_EXTENSIONS

        return os.path.splitext(str(source))[1].lower() in VIDEO_EXTENSIONS
    if sys.stdin is None or sys.stdin.isatty():
        return False  # nothing to peek at without waiting for a person to type
    stdin = sys.stdin.buffer
    try:
        if hasattr(stdin, "peek"):
            head = stdin.peek(200)[:200]
        elif stdin.seekable():  # an in-memory stdin (tests)
            at = stdin.tell()
            head = stdin.read(200)
            stdin.seek(at)
        else:
            return False
    except (OSError, ValueError):
        return False
    return looks_like_video(head)


class VideoInfo(NamedTuple):
    """``width``, ``height`` [px] of the frames as displayed (after ``rotation``), ``fps`` [1/s] (the
    container's average rate), ``frames`` (container's count, or 0 when unknown), ``rotation`` [deg,
    counter-clockwise] from the stream's display matrix, ``duration`` [s] (0 when unknown)."""

    width: int
    height: int
    fps: float
    frames: int
    rotation: int
    duration: float = 0.0


def _read_head(path: str, size: int = 1 << 20) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(size)
    except OSError:
        return b""


def isobmff_cut_short(data: bytes, file_size: int) -> str | None:
    """Why an MP4/MOV (ISO base media) file looks cut short, or None: its top-level boxes (4-byte size,
    4-byte type; ISO/IEC 14496-12, Sec. 4.2) start with ``ftyp`` and one of them is declared longer than
    the file, or the file ends without the ``moov`` box (the index) before any box runs past ``data``
    (the first bytes of the file). None for anything else, including a complete file."""
    if data[4:8] != b"ftyp":
        return None
    pos, seen = 0, set()
    while pos + 8 <= file_size:
        if pos + 8 > len(data):
            return None  # beyond what was read: cannot tell
        size, kind = int.from_bytes(data[pos:pos + 4], "big"), data[pos + 4:pos + 8]
        if size == 1 and pos + 16 <= len(data):
            size = int.from_bytes(data[pos + 8:pos + 16], "big")
        elif size == 0:
            size = file_size - pos  # the box runs to the end of the file
        if size < 8:
            return None  # not a box structure we can read
        seen.add(kind)
        if pos + size > file_size:
            what = "the index (moov) is missing" if b"moov" not in seen else "a box runs past the end"
            return f"its {kind.decode('latin-1')!r} box needs {pos + size} bytes, the file has {file_size}; {what}"
        pos += size
    return None if b"moov" in seen else "it ends without the index (moov)"


def _open(source: VideoSource):
    import av

    name = source_name(source)
    if isinstance(source, VideoBytes):
        target = io.BytesIO(source.data)
    else:
        if not os.path.exists(name):
            raise LiftError(name, f"no such file; fix: {missing_file_hint(Path(name))}")
        if os.path.isfile(name) and os.path.getsize(name) == 0:
            raise LiftError(name, "the file is empty (0 bytes); fix: copy or download the video again, or check the "
                            "command that wrote it")
        target = name
    try:
        container = av.open(target)
    except (av.error.FFmpegError, OSError, ValueError) as err:
        why = getattr(err, "strerror", None) or str(err).splitlines()[0]
        if isinstance(source, VideoBytes):
            cut = isobmff_cut_short(source.data, len(source.data))
        else:
            cut = isobmff_cut_short(_read_head(name), os.path.getsize(name))
        if cut:
            raise LiftError(name, f"an MP4/MOV file cut short ({cut}); fix: copy or download it again "
                            "(--allow-partial cannot help: without the index FFmpeg cannot open it)") from None
        raise LiftError(name, f"cannot open as a video ({why}); fix: pass a video file FFmpeg reads (MP4, MOV, "
                        "MKV, WebM, AVI), or a .bvh/.npz/.pt motion file") from None
    if not container.streams.video:
        container.close()
        raise LiftError(name, "holds no video stream; fix: pass a file with a video track (MP4, MOV, MKV, WebM, AVI), "
                        "or a .bvh/.npz/.pt motion file")
    return container


def _rotation(container, stream) -> int:
    """The display rotation [deg, counter-clockwise, a multiple of 90] read from the first frame."""
    import av

    try:
        for frame in container.decode(stream):
            return round((frame.rotation or 0) / 90.0) * 90 % 360
    except (av.error.FFmpegError, ValueError):
        pass
    return 0


def probe(path: VideoSource) -> VideoInfo:
    """Size as displayed, frame rate, frame count and rotation of a video, checked (see the module)."""
    name = source_name(path)
    with _open(path) as container:
        stream = container.streams.video[0]
        width, height = stream.codec_context.width, stream.codec_context.height
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = float(rate) if rate else 0.0
        frames = int(stream.frames or 0)
        duration = float(stream.duration * stream.time_base) if stream.duration and stream.time_base else 0.0
        if not duration and container.duration:
            duration = container.duration / 1e6
        rotation = _rotation(container, stream)
    if width <= 0 or height <= 0:
        raise LiftError(name, "the video stream has no frame size; fix: re-encode it (e.g. ffmpeg -i IN OUT.mp4)")
    if width * height > MAX_PIXELS:
        raise LiftError(name, f"resolution {width}x{height} is above the {MAX_PIXELS // 10**6} Mpx limit (8K); "
                        "fix: scale it down (e.g. ffmpeg -i IN -vf scale=1920:-2 OUT.mp4)")
    if not np.isfinite(fps) or fps <= 0 or fps > 1000:
        raise LiftError(name, f"implausible frame rate {fps}; fix: re-encode it at its real rate "
                        "(e.g. ffmpeg -i IN -r 30 OUT.mp4)")
    if rotation in (90, 270):
        width, height = height, width
    return VideoInfo(width, height, fps, frames, rotation, duration)


def detection_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """Width and height (even numbers) that fit ``max_side`` [px] keeping the aspect ratio."""
    s = min(1.0, max_side / max(width, height))
    return max(2, round(width * s / 2) * 2), max(2, round(height * s / 2) * 2)


@dataclass
class DecodeStats:
    """What :func:`read_timed_frames` read: ``frames`` decoded, ``declared`` by the container (0 when
    unknown), and ``problem`` (why the stream ended early, "" when it did not). Filled while reading."""

    frames: int = 0
    declared: int = 0
    problem: str = ""


class TimedFrame(NamedTuple):
    """A decoded frame: ``time`` [s] from the stream's first frame (its presentation timestamp) and the
    RGB ``image`` (H, W, 3) uint8, upright."""

    time: float
    image: NDArray[np.uint8]


def read_timed_frames(path: VideoSource, max_side: int = 640, max_frames: int | None = None, *,
                      allow_partial: bool = False, stats: DecodeStats | None = None) -> Iterator[TimedFrame]:
    """Frames in decoding order with their presentation times, turned by the display rotation and
    downscaled so the longer side is at most ``max_side`` [px].

    A stream that breaks while decoding, or ends with fewer frames than its container declares (or well
    before its declared duration), raises :class:`LiftError` naming the frames read and declared; with
    ``allow_partial`` it stops there and ``stats.problem`` says why (the caller warns: this may run in a
    decoding thread while MediaPipe's start-up output, and so stderr, is hidden).
    """
    import av

    name = source_name(path)
    info = probe(path)
    w, h = detection_size(info.width, info.height, max_side)
    turns = info.rotation // 90
    if turns % 2:
        w, h = h, w  # decoded size before turning
    stats = stats if stats is not None else DecodeStats()
    stats.declared = info.frames
    problem, last = "", None
    with _open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        tb = float(stream.time_base) if stream.time_base else 0.0
        start = None
        try:
            for frame in container.decode(stream):
                pts = frame.pts if frame.pts is not None else frame.dts
                if pts is None or not tb:
                    t = (last + 1.0 / info.fps) if last is not None else 0.0
                else:
                    start = pts if start is None else start
                    t = (pts - start) * tb
                image = frame.to_ndarray(format="rgb24", width=w, height=h)
                if turns:
                    image = np.ascontiguousarray(np.rot90(image, k=turns))
                yield TimedFrame(float(t), image)
                last = t
                stats.frames += 1
                if max_frames is not None and stats.frames >= max_frames:
                    return
        except (av.error.FFmpegError, ValueError) as err:
            problem = f"decoding broke ({str(err).splitlines()[0]})"
    count = stats.frames
    # short of the declared duration by more than 2.5 frame intervals (a count alone can include frames an
    # edit list hides, so a stream that reaches its duration is not called short for a few missing frames);
    # without a count, by more than 0.5 s too (a variable-rate video may hold its last frame a while)
    short_by = info.duration - (last if last is not None else 0.0)
    early = last is None or (info.duration > 0 and short_by > 2.5 / info.fps + 1e-3)
    if not problem and info.frames and count < info.frames and (early or not info.duration):
        problem = "the stream ends early (the file is cut short?)"
    elif not problem and not info.frames and info.duration and early and short_by > 0.5:
        problem = f"the stream ends early, at {last or 0.0:.2f} s of {info.duration:.2f} s (the file is cut short?)"
    if problem:
        of = f" of {info.frames} declared" if info.frames else ""
        stats.problem = f"{problem}: read {count}{of} frames"
        if not allow_partial:
            raise CutShortStreamError(name, stats.problem, count)


def read_frames(path: VideoSource, max_side: int = 640, max_frames: int | None = None,
                allow_partial: bool = False) -> Iterator[NDArray[np.uint8]]:
    """RGB frames (H, W, 3) uint8 of :func:`read_timed_frames`, without their times."""
    for frame in read_timed_frames(path, max_side, max_frames, allow_partial=allow_partial):
        yield frame.image


def timed(items: Iterator[T], seconds: list[float]) -> Iterator[T]:
    """``items`` passed through, adding the time spent waiting for each one to ``seconds[0]`` [s]."""
    while True:
        start = time.perf_counter()
        try:
            item = next(items)
        except StopIteration:
            return
        finally:
            seconds[0] += time.perf_counter() - start
        yield item


def prefetch(items: Iterator[T], size: int = 8) -> Iterator[T]:
    """``items`` produced by a background thread up to ``size`` ahead, so decoding overlaps the consumer's
    work (PyAV releases the GIL while decoding). The producer's exceptions are raised in the consumer; the
    producer stops when the consumer stops early."""
    buffer: queue.Queue = queue.Queue(maxsize=size)
    stop = threading.Event()
    done = object()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        buffer.put((item, None), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            buffer.put((done, None))
        except BaseException as err:  # handed to the consumer, raised there
            buffer.put((done, err))

    worker = threading.Thread(target=produce, name="prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item, err = buffer.get()
            if item is done:
                if err is not None:
                    raise err
                return
            yield item
    finally:
        stop.set()
        worker.join(timeout=5.0)
