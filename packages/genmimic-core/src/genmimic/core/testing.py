"""Small, deterministic clips and model files for tests of every genmimic package (and users' own).

These are real data made by the project's own code: G1 motions through the G1's forward kinematics,
SMPL motions through the SMPL skeleton's, and a tiny SMPL model file in the format smplx reads.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np

from . import g1_constants as g1
from . import smpl
from .clips import G1Clip, SmplClip, Trajectory
from .g1_kinematics import g1_clip_from_joints, keypoint_positions
from .g1_model import standing_pelvis_height
from .rotations import axis_angle_from_matrix, matrix_from_axis_angle


def waving_g1_clip(num_frames: int = 100, fps: float = 50.0) -> G1Clip:
    """The G1 standing in its default pose and waving its right arm (1 Hz), feet on the ground."""
    t = np.arange(num_frames) / fps
    dof = np.tile(np.asarray(g1.DEFAULT_DOF_POS), (num_frames, 1))
    j = g1.JOINT_NAMES.index
    dof[:, j("right_shoulder_roll_joint")] = -0.2 - 1.2 * (1 - np.cos(np.pi * np.minimum(t, 1.0))) / 2
    dof[:, j("right_elbow_joint")] = 1.28 - 0.6 + 0.4 * np.sin(2 * np.pi * t)
    height = standing_pelvis_height(g1.DEFAULT_DOF_POS)
    root_pos = np.tile([0.0, 0.0, height], (num_frames, 1))
    root_quat = np.tile([1.0, 0.0, 0.0, 0.0], (num_frames, 1))
    return g1_clip_from_joints(root_pos, root_quat, dof, fps, meta={"tool": "genmimic.core.testing"})


def moving_clip(clip: G1Clip, velocity=(0.6, 0.0, 0.3)) -> G1Clip:
    """``clip`` with its root and keypoints carried along at a constant ``velocity`` (3,) [m/s], world frame: a
    clip that starts in motion (:mod:`genmimic.core.standing`)."""
    shift = np.arange(clip.num_frames)[:, None] / clip.fps * np.asarray(velocity, float)
    return clip.replace(root_pos=clip.root_pos + shift, keypoints=clip.keypoints + shift[:, None])


def random_smpl_clip(num_frames: int = 30, fps: float = 30.0, seed: int = 0, amplitude: float = 0.3) -> SmplClip:
    """An SMPL motion with smooth random joint rotations of about ``amplitude`` [rad], standing upright
    and facing +x, on the default skeleton."""
    rng = np.random.default_rng(seed)
    t = np.arange(num_frames)[:, None, None] / fps
    freq = rng.uniform(0.3, 1.5, size=(1, 23, 3))
    phase = rng.uniform(0, 2 * np.pi, size=(1, 23, 3))
    body_pose = amplitude * np.sin(2 * np.pi * freq * t + phase)
    yaw = 0.2 * np.sin(2 * np.pi * 0.25 * t[:, 0, 0])
    heading = matrix_from_axis_angle(yaw[:, None] * np.array([0.0, 0.0, 1.0]))
    go = axis_angle_from_matrix(heading @ smpl.CANONICAL_TO_WORLD)
    transl = np.stack([0.3 * t[:, 0, 0], np.zeros(num_frames), np.full(num_frames, smpl.DEFAULT_PELVIS_HEIGHT)], -1)
    joints, _ = smpl.forward_kinematics(go, body_pose, transl)
    return SmplClip(fps=fps, meta={"tool": "genmimic.core.testing", "seed": seed}, global_orient=go,
                    body_pose=body_pose, transl=transl, betas=np.zeros(smpl.NUM_BETAS), joints=joints,
                    confidence=np.ones((num_frames, smpl.NUM_JOINTS)))


#: Vertices of :func:`write_tiny_smpl_model` (smplx indexes extra joints up to vertex 6889).
TINY_SMPL_NUM_VERTICES = 6890


def write_tiny_smpl_model(path: str | os.PathLike[str], rest_joints: np.ndarray | None = None) -> Path:
    """Write an SMPL model file in the layout smplx loads (a pickled dict of arrays), made by the project.

    Its first 24 vertices sit on the rest joints and the joint regressor picks them, so the rest
    joints are known; ``beta[0]`` scales the body by 10 % per unit about the pelvis, and ``beta[1]``
    moves every vertex up by 0.05 m per unit. Skinning is rigid (vertex i follows joint i; the rest
    follow the pelvis). Name the file ``SMPL_NEUTRAL.pkl``, as smplx expects.
    """
    rest = smpl.DEFAULT_REST_JOINTS if rest_joints is None else np.asarray(rest_joints, float)
    V, J = TINY_SMPL_NUM_VERTICES, smpl.NUM_JOINTS
    v_template = np.zeros((V, 3))
    v_template[:J] = rest
    v_template[J:] = rest[0]
    shapedirs = np.zeros((V, 3, 10))
    shapedirs[:, :, 0] = 0.1 * (v_template - rest[0])
    shapedirs[:, 1, 1] = 0.05
    regressor = np.zeros((J, V))
    regressor[np.arange(J), np.arange(J)] = 1.0
    weights = np.zeros((V, J))
    weights[np.arange(J), np.arange(J)] = 1.0
    weights[J:, 0] = 1.0
    kintree = np.array([[2**32 - 1, *smpl.PARENTS[1:]], list(range(J))], dtype=np.int64)
    faces = np.array([[0, 1, 2], [0, 3, 6], [16, 18, 20], [17, 19, 21]], dtype=np.int64)
    out = Path(path)
    model = {"v_template": v_template, "shapedirs": shapedirs, "J_regressor": regressor,
             "posedirs": np.zeros((V, 3, 207)), "weights": weights, "kintree_table": kintree, "f": faces}
    with open(out, "wb") as fh:
        pickle.dump(model, fh, protocol=2)
    return out


def standing_wave_smpl_clip(num_frames: int = 60, fps: float = 30.0) -> SmplClip:
    """A person standing still on the default skeleton, feet on z = 0, left arm down, waving the right."""
    t = np.arange(num_frames) / fps
    body_pose = np.zeros((num_frames, 23, 3))
    j = smpl.JOINT_NAMES.index
    body_pose[:, j("left_shoulder") - 1] = [0.0, 0.0, -1.2]
    body_pose[:, j("right_shoulder") - 1, 2] = 0.3 * np.sin(2 * np.pi * t)
    body_pose[:, j("right_elbow") - 1, 1] = 0.8 + 0.4 * np.sin(2 * np.pi * t)
    go = np.tile(axis_angle_from_matrix(smpl.CANONICAL_TO_WORLD), (num_frames, 1))
    transl = np.tile([0.0, 0.0, smpl.DEFAULT_PELVIS_HEIGHT], (num_frames, 1))
    joints, _ = smpl.forward_kinematics(go, body_pose, transl)
    return SmplClip(fps=fps, meta={"tool": "genmimic.core.testing"}, global_orient=go, body_pose=body_pose,
                    transl=transl, betas=np.zeros(smpl.NUM_BETAS), joints=joints,
                    confidence=np.ones((num_frames, smpl.NUM_JOINTS)))


def mirrored_smpl_clip(clip: SmplClip) -> SmplClip:
    """The left/right mirror image of an SMPL clip (see :func:`genmimic.core.smpl.mirror_motion`)."""
    go, bp, tr, joints = smpl.mirror_motion(clip.global_orient, clip.body_pose, clip.transl, clip.joints)
    return clip.replace(global_orient=go, body_pose=bp, transl=tr, joints=joints,
                        confidence=clip.confidence[:, list(smpl.MIRROR_INDEX)])


def tracked_trajectory(reference: G1Clip, arm_still: bool = True, fall_at: int | None = None) -> Trajectory:
    """A robot's trajectory for ``reference``: the G1 holds its first pose's joint angles (``arm_still``; so
    a waving arm errs) or follows them exactly, on the reference's root; from frame ``fall_at`` on it lies
    tilted 1.5 rad about x (``fallen`` set from there). Velocities and torques are zero."""
    T = reference.num_frames
    dof = np.tile(reference.dof_pos[:1], (T, 1)) if arm_still else reference.dof_pos.copy()
    quat = reference.root_quat.copy()
    fallen = np.zeros(T, bool)
    if fall_at is not None:
        quat[fall_at:] = [np.cos(0.75), np.sin(0.75), 0.0, 0.0]
        fallen[fall_at:] = True
    kp = keypoint_positions(reference.root_pos, quat, dof)
    zeros3, zeros29 = np.zeros((T, 3)), np.zeros((T, g1.NUM_DOF))
    return Trajectory(fps=reference.fps, meta={"tool": "genmimic.core.testing"}, root_pos=reference.root_pos,
                      root_quat=quat, dof_pos=dof, keypoints=kp, keypoint_names=reference.keypoint_names,
                      joint_names=reference.joint_names, contacts=reference.contacts, dof_vel=zeros29,
                      torque=zeros29, root_lin_vel=zeros3, root_ang_vel=zeros3,
                      reference_keypoints=reference.keypoints,
                      tracking_error=np.linalg.norm(kp - reference.keypoints, axis=-1).mean(1), fallen=fallen)


#: The training stack that the NumPy-only runtime and genmimic-deploy must run without.
TRAINING_STACK = ("jax", "jaxlib", "flax", "optax", "mujoco.mjx", "mujoco_mjx", "tensorboard", "orbax")


def env_without_modules(folder: str | os.PathLike[str], modules: tuple[str, ...] = TRAINING_STACK) -> dict[str, str]:
    """An environment for a subprocess in which importing any of ``modules`` (or a submodule) raises
    ImportError, as if they were not installed: a ``sitecustomize.py`` written into ``folder`` (put first on
    PYTHONPATH) adds a meta-path finder that refuses them."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(
        "import sys\n\n\nclass _Refuse:\n"
        f"    names = {tuple(modules)!r}\n\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if any(name == n or name.startswith(n + '.') for n in self.names):\n"
        "            raise ImportError(f'{name} is not installed (refused for this test)')\n"
        "        return None\n\n\n"
        "sys.meta_path.insert(0, _Refuse())\n")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(folder)] + [p for p in [env.get("PYTHONPATH", "")] if p])
    return env
