"""Drawing lifted skeletons over videos (``--render``) and writing videos with PyAV."""

from __future__ import annotations

import os
from collections.abc import Iterable

import numpy as np
from numpy.typing import NDArray

from genmimic.core import smpl

from .errors import LiftError
from .fit import Camera
from .video import detection_size, probe, read_frames

Array = NDArray[np.float64]
_LEFT, _RIGHT, _CENTRE = (60, 120, 255), (255, 90, 60), (240, 240, 240)


def project(joints_cam: Array, camera: Camera) -> Array:
    """Pixel coordinates (..., 2) of camera-frame points (..., 3) [m] (x right, y down, z forward)."""
    z = np.maximum(joints_cam[..., 2], 1e-3)
    return np.stack([camera.focal * joints_cam[..., 0] / z + camera.cx,
                     camera.focal * joints_cam[..., 1] / z + camera.cy], -1)


def draw_skeleton(image: NDArray[np.uint8], uv: Array, thickness: int = 2) -> NDArray[np.uint8]:
    """Draw the SMPL tree with joints at pixels ``uv`` (24, 2) on an RGB image (in place, returned)."""
    import cv2

    for j, p in enumerate(smpl.PARENTS):
        if p < 0:
            continue
        name = smpl.JOINT_NAMES[j]
        colour = _LEFT if name.startswith("left") else _RIGHT if name.startswith("right") else _CENTRE
        a, b = tuple(round(v) for v in uv[p]), tuple(round(v) for v in uv[j])
        cv2.line(image, a, b, colour, thickness, cv2.LINE_AA)
    for point in uv:
        cv2.circle(image, tuple(round(v) for v in point), thickness + 1, (255, 255, 0), -1, cv2.LINE_AA)
    return image


def write_video(path: str | os.PathLike[str], frames: Iterable[NDArray[np.uint8]], fps: float) -> int:
    """Encode RGB frames (H, W, 3) to ``path`` (H.264 when available, else MPEG-4; the same frames give the
    same file); returns the count.
    Written to a temporary name and renamed at the end, so a failure leaves no partial file."""
    import av

    dest = str(path)
    tmp = f"{dest}.part{os.getpid()}{os.path.splitext(dest)[1]}"
    count = 0
    try:
        with av.open(tmp, mode="w") as out:
            stream = None
            for frame in frames:
                if stream is None:
                    codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
                    stream = out.add_stream(codec, rate=round(fps) or 1)
                    stream.width, stream.height = frame.shape[1] // 2 * 2, frame.shape[0] // 2 * 2
                    stream.pix_fmt = "yuv420p"
                    if codec == "libx264":
                        stream.options = {"threads": "1"}  # x264's threads make the output vary from run to run
                    if codec == "mpeg4":
                        stream.bit_rate = 4_000_000
                img = frame[: stream.height, : stream.width]
                for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")):
                    out.mux(packet)
                count += 1
            if stream is not None:
                for packet in stream.encode():
                    out.mux(packet)
        if count == 0:
            raise LiftError(dest, "no frames to write")
        os.replace(tmp, dest)
    except (OSError, ValueError, av.error.FFmpegError) as err:
        raise LiftError(dest, f"cannot write the video: {str(err).splitlines()[0]}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return count


def render_overlay(video: str, joints_cam: Array, camera: Camera, dest: str | os.PathLike[str],
                   max_side: int = 640) -> int:
    """Write ``video`` with the skeleton ``joints_cam`` (T, 24, 3) (camera frame) drawn over each frame."""
    info = probe(video)
    w, _ = detection_size(info.width, info.height, max_side)
    s = w / info.width
    uv = project(joints_cam, camera) * s

    def frames() -> Iterable[NDArray[np.uint8]]:
        for t, image in enumerate(read_frames(video, max_side, allow_partial=True)):  # the lift checked it
            if t >= len(uv):
                return
            yield draw_skeleton(image.copy(), uv[t])

    return write_video(dest, frames(), info.fps)
