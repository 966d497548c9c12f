"""Decoding videos with PyAV: frames as RGB arrays, downscaled for detection, with clear errors.

Refused with one line naming the file: unreadable or not a video, no video stream, zero frames, a single
frame (a still image), a resolution above :data:`MAX_PIXELS`, and a stream that breaks while decoding.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Iterator
from typing import NamedTuple, TypeVar

import numpy as np
from numpy.typing import NDArray

from .errors import LiftError

T = TypeVar("T")
#: Largest frame accepted (8K UHD) [pixels].
MAX_PIXELS = 7680 * 4320


class VideoInfo(NamedTuple):
    """``width``, ``height`` [px] of the stored frames, ``fps`` [1/s], ``frames`` (container's count, or 0
    when unknown), ``rotation`` [deg] from the stream's display matrix."""

    width: int
    height: int
    fps: float
    frames: int
    rotation: int


def _open(path: str):
    import av

    if not os.path.exists(path):
        raise LiftError(path, "no such file")
    try:
        container = av.open(path)
    except (av.error.FFmpegError, OSError, ValueError) as err:
        raise LiftError(path, f"cannot open as a video: {str(err).splitlines()[0]}") from None
    if not container.streams.video:
        container.close()
        raise LiftError(path, "holds no video stream")
    return container


def probe(path: str | os.PathLike[str]) -> VideoInfo:
    """Size, frame rate and frame count of a video, checked (see the module's list of refusals)."""
    name = str(path)
    with _open(name) as container:
        stream = container.streams.video[0]
        width, height = stream.codec_context.width, stream.codec_context.height
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = float(rate) if rate else 0.0
        frames = int(stream.frames or 0)
        rotation = 0
    if width <= 0 or height <= 0:
        raise LiftError(name, "the video stream has no frame size")
    if width * height > MAX_PIXELS:
        raise LiftError(name, f"resolution {width}x{height} is above the {MAX_PIXELS // 10**6} Mpx limit (8K)")
    if not np.isfinite(fps) or fps <= 0 or fps > 1000:
        raise LiftError(name, f"implausible frame rate {fps}")
    return VideoInfo(width, height, fps, frames, rotation)


def detection_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """Width and height (even numbers) that fit ``max_side`` [px] keeping the aspect ratio."""
    s = min(1.0, max_side / max(width, height))
    return max(2, round(width * s / 2) * 2), max(2, round(height * s / 2) * 2)


def read_frames(path: str | os.PathLike[str], max_side: int = 640, max_frames: int | None = None,
                ) -> Iterator[NDArray[np.uint8]]:
    """RGB frames (H, W, 3) uint8, downscaled so the longer side is at most ``max_side`` [px].

    Raises :class:`LiftError` when the stream breaks; the caller checks the number of frames.
    """
    import av

    name = str(path)
    info = probe(name)
    w, h = detection_size(info.width, info.height, max_side)
    with _open(name) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        count = 0
        try:
            for frame in container.decode(stream):
                yield frame.to_ndarray(format="rgb24", width=w, height=h)
                count += 1
                if max_frames is not None and count >= max_frames:
                    return
        except (av.error.FFmpegError, ValueError) as err:
            raise LiftError(name, f"damaged video: decoding stopped after {count} frames "
                            f"({str(err).splitlines()[0]})") from None


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
