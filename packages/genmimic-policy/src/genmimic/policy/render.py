"""MP4 of a simulated rollout: MuJoCo's offscreen renderer (``MUJOCO_GL=osmesa`` without a GPU) and
PyAV's H.264 encoder. A camera follows the pelvis from the front-left."""

from __future__ import annotations

import os
from pathlib import Path

import mujoco
import numpy as np

from .errors import PolicyError


class VideoRecorder:
    """Call :meth:`frame` with every control step's ``MjData``; writes every ``stride``-th frame."""

    def __init__(self, path: str | os.PathLike[str], dt: float, width: int = 640, height: int = 360,
                 fps: float = 25.0) -> None:
        try:
            import av
        except ImportError:
            raise PolicyError("--render needs PyAV: pip install 'genmimic-policy[render]'") from None
        self.path = Path(path)
        self.stride = max(1, round(1.0 / (fps * dt)))
        self.width, self.height = width, height
        self._tmp = self.path.with_name(self.path.name + ".part.mp4")
        self.container = av.open(str(self._tmp), mode="w")
        self.stream = self.container.add_stream("libx264", rate=round(1.0 / (dt * self.stride)))
        self.stream.width, self.stream.height, self.stream.pix_fmt = width, height, "yuv420p"
        self.renderer = None
        self.camera = mujoco.MjvCamera()
        self.camera.distance, self.camera.azimuth, self.camera.elevation = 2.2, 150.0, -10.0
        self.ok = False

    def frame(self, t: int, data: mujoco.MjData) -> None:
        if t % self.stride:
            return
        import av

        if self.renderer is None:
            self.renderer = mujoco.Renderer(data.model, self.height, self.width)
        self.camera.lookat[:] = data.qpos[0:3] * np.array([1.0, 1.0, 0.0]) + np.array([0.0, 0.0, 0.6])
        self.renderer.update_scene(data, self.camera)
        image = self.renderer.render()
        for packet in self.stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
            self.container.mux(packet)
        self.ok = True

    def close(self, keep: bool = True) -> None:
        """Finish the file (renamed into place only when ``keep`` and at least one frame was written)."""
        for packet in self.stream.encode():
            self.container.mux(packet)
        self.container.close()
        if self.renderer is not None:
            self.renderer.close()
        if self.ok and keep:
            os.replace(self._tmp, self.path)
        else:
            self._tmp.unlink(missing_ok=True)
