"""Pictures of the G1 in given poses: MuJoCo's offscreen renderer (``MUJOCO_GL=osmesa`` without a GPU).

A free camera looks at the pelvis from ``distance`` [m] away, at ``azimuth`` / ``elevation`` [deg] (MuJoCo's
convention: azimuth 180 looks along -x, i.e. at the front of a robot that faces +x), and follows the pelvis
horizontally, so a walking robot stays in view. :data:`FRONT` is the camera of the human renders
(``genmimic.lift.figure``): in front of the person, horizontal, so the two can be compared pose by pose.

``fast=True`` turns off what software rendering pays most for and a comparison video does not need:
shadow maps, floor reflections, the skybox and multisampling. ``benchmarks/bench_view.py`` on the 2-core
development machine: a 270x360 frame 12 frames/s with them, 75 frames/s without.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import g1_constants as g1
from .g1_model import g1_mjcf, joint_qpos_indices


class CameraView(NamedTuple):
    """A camera that follows the root: ``distance`` [m] from the look-at point, which is the pelvis's
    (x, y) at height ``lookat_height`` [m]; ``azimuth``, ``elevation`` [deg] (MuJoCo free camera);
    vertical field of view ``fovy`` [deg]."""

    distance: float = 2.6
    azimuth: float = 150.0
    elevation: float = -12.0
    lookat_height: float = 0.75
    fovy: float = 45.0


#: From the front (looking along -x), horizontal: the direction of the human renders.
FRONT = CameraView(distance=3.2, azimuth=180.0, elevation=0.0, lookat_height=0.8, fovy=55.0)


def make_renderer(model, width: int, height: int, fast: bool = False):
    """A ``mujoco.Renderer`` of ``model`` at ``width`` x ``height`` [px] (the model's offscreen buffer grown to
    fit). ``fast``: no shadows, reflections, skybox or multisampling (about 10x faster under OSMesa)."""
    import mujoco

    model.vis.global_.offwidth = max(width, model.vis.global_.offwidth)
    model.vis.global_.offheight = max(height, model.vis.global_.offheight)
    if fast:
        model.vis.quality.offsamples = 0
    renderer = mujoco.Renderer(model, height, width)
    if fast:
        for flag in (mujoco.mjtRndFlag.mjRND_SHADOW, mujoco.mjtRndFlag.mjRND_REFLECTION,
                     mujoco.mjtRndFlag.mjRND_SKYBOX):
            renderer.scene.flags[flag] = 0
    return renderer


class G1Renderer:
    """Render RGB images (H, W, 3) uint8 of the G1 at a root pose and joint angles (SDK order).

    ``view`` sets the camera (the older ``distance``/``azimuth``/``elevation`` arguments override its
    fields); ``fast`` see :func:`make_renderer`. Call :meth:`close` (or use it as a context manager).
    """

    def __init__(self, width: int = 480, height: int = 480, distance: float | None = None,
                 azimuth: float | None = None, elevation: float | None = None, *, view: CameraView | None = None,
                 fast: bool = False) -> None:
        import mujoco

        view = view or CameraView()
        view = view._replace(**{k: v for k, v in (("distance", distance), ("azimuth", azimuth),
                                                  ("elevation", elevation)) if v is not None})
        self._mujoco = mujoco
        self.view = view
        self.model = mujoco.MjModel.from_xml_string(g1_mjcf(g1.HOLD_GAINS))
        self.model.vis.global_.fovy = view.fovy
        self.data = mujoco.MjData(self.model)
        self.renderer = make_renderer(self.model, width, height, fast)
        self.qadr = joint_qpos_indices(self.model)
        self.camera = mujoco.MjvCamera()
        self.camera.type = mujoco.mjtCamera.mjCAMERA_FREE
        self.camera.distance, self.camera.azimuth, self.camera.elevation = view.distance, view.azimuth, view.elevation

    def render(self, root_pos: ArrayLike, root_quat_wxyz: ArrayLike, dof_pos: ArrayLike) -> NDArray[np.uint8]:
        """The image (H, W, 3) of the G1 with its pelvis at ``root_pos`` (3,) [m], ``root_quat_wxyz`` (4,) and
        joint angles ``dof_pos`` (29,) [rad], SDK order."""
        d = self.data
        d.qpos[:3], d.qpos[3:7], d.qpos[self.qadr] = root_pos, root_quat_wxyz, dof_pos
        self._mujoco.mj_kinematics(self.model, d)
        self._mujoco.mj_camlight(self.model, d)
        self.camera.lookat[:] = [d.qpos[0], d.qpos[1], self.view.lookat_height]
        self.renderer.update_scene(d, self.camera)
        return self.renderer.render().copy()

    def close(self) -> None:
        self.renderer.close()

    def __enter__(self) -> G1Renderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def render_poses(root_pos: ArrayLike, root_quat_wxyz: ArrayLike, dof_pos: ArrayLike, width: int = 480,
                 height: int = 480, view: CameraView | None = None, fast: bool = True) -> NDArray[np.uint8]:
    """Images (N, H, W, 3) of the G1 at N poses: ``root_pos`` (N, 3) [m], ``root_quat_wxyz`` (N, 4), ``dof_pos``
    (N, 29) [rad] SDK order (see :class:`G1Renderer`)."""
    with G1Renderer(width, height, view=view, fast=fast) as renderer:
        return np.stack([renderer.render(p, q, d) for p, q, d in zip(root_pos, root_quat_wxyz, dof_pos,
                                                                      strict=True)])


def render_poses_in_background(root_pos: ArrayLike, root_quat_wxyz: ArrayLike, dof_pos: ArrayLike,
                               width: int = 480, height: int = 480, view: CameraView | None = None,
                               fast: bool = True) -> Iterator[NDArray[np.uint8]]:
    """The images of :func:`render_poses`, one by one in order, rendered by a second Python process
    (``python -m genmimic.core.g1_render``, poses in on its stdin, raw RGB frames out on its stdout), so that
    the caller's own work (another renderer, a video encoder) runs beside it on another core. A fresh
    process, not a fork: a forked OpenGL context can hang. Closing the iterator ends the process.

    Raises:
        RuntimeError: the renderer process failed (its stderr's last line).
    """
    import io
    import subprocess
    import sys

    poses = io.BytesIO()
    view = view or CameraView()
    np.savez(poses, root_pos=np.asarray(root_pos, float), root_quat=np.asarray(root_quat_wxyz, float),
             dof_pos=np.asarray(dof_pos, float), size=np.array([width, height]), fast=np.array(fast),
             view=np.array(view, float))
    count, frame_bytes = len(np.asarray(root_pos)), width * height * 3
    proc = subprocess.Popen([sys.executable, "-m", "genmimic.core.g1_render"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        proc.stdin.write(poses.getvalue())
        proc.stdin.close()
        for _ in range(count):
            buf = proc.stdout.read(frame_bytes)
            if len(buf) != frame_bytes:
                err = proc.stderr.read().decode(errors="replace").strip().splitlines()
                raise RuntimeError(f"the G1 renderer process failed: {err[-1] if err else 'no output'}")
            yield np.frombuffer(buf, np.uint8).reshape(height, width, 3)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def _serve() -> None:
    """The renderer process of :func:`render_poses_in_background`."""
    import io
    import sys

    args = np.load(io.BytesIO(sys.stdin.buffer.read()))
    width, height = (int(v) for v in args["size"])
    view = CameraView(*(float(v) for v in args["view"]))
    out = sys.stdout.buffer
    with G1Renderer(width, height, view=view, fast=bool(args["fast"])) as renderer:
        for p, q, d in zip(args["root_pos"], args["root_quat"], args["dof_pos"], strict=True):
            out.write(renderer.render(p, q, d).tobytes())
    out.flush()


if __name__ == "__main__":
    _serve()
