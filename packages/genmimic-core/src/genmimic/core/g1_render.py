"""Pictures of the G1 in given poses: MuJoCo's offscreen renderer (``MUJOCO_GL=osmesa`` without a GPU).

A camera follows the pelvis from the front-left at a fixed distance, so a walking robot stays in view.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import g1_constants as g1
from .g1_model import g1_mjcf, joint_qpos_indices


class G1Renderer:
    """Render RGB images (H, W, 3) uint8 of the G1 at a root pose and joint angles (SDK order)."""

    def __init__(self, width: int = 480, height: int = 480, distance: float = 2.6, azimuth: float = 150.0,
                 elevation: float = -12.0) -> None:
        import mujoco

        self._mujoco = mujoco
        self.model = mujoco.MjModel.from_xml_string(g1_mjcf(g1.HOLD_GAINS))
        self.model.vis.global_.offwidth = max(width, self.model.vis.global_.offwidth)
        self.model.vis.global_.offheight = max(height, self.model.vis.global_.offheight)
        self.data = mujoco.MjData(self.model)
        self.renderer = mujoco.Renderer(self.model, height, width)
        self.qadr = joint_qpos_indices(self.model)
        self.camera = mujoco.MjvCamera()
        self.camera.type = mujoco.mjtCamera.mjCAMERA_FREE
        self.camera.distance, self.camera.azimuth, self.camera.elevation = distance, azimuth, elevation

    def render(self, root_pos: ArrayLike, root_quat_wxyz: ArrayLike, dof_pos: ArrayLike) -> NDArray[np.uint8]:
        d = self.data
        d.qpos[:3], d.qpos[3:7], d.qpos[self.qadr] = root_pos, root_quat_wxyz, dof_pos
        self._mujoco.mj_forward(self.model, d)
        self.camera.lookat[:] = [d.qpos[0], d.qpos[1], 0.75]
        self.renderer.update_scene(d, self.camera)
        return self.renderer.render().copy()

    def close(self) -> None:
        self.renderer.close()
