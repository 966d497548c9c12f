"""genmimic.core: what every GenMimic stage shares.

- :mod:`~genmimic.core.clips`: the motion clip formats (SMPL, G1, trajectory) and their npz files.
- :mod:`~genmimic.core.g1_constants`: the Unitree G1 29-DoF as data; :mod:`~genmimic.core.g1_model`
  generates its MJCF and URDF; :mod:`~genmimic.core.g1_kinematics` is its forward kinematics.
- :mod:`~genmimic.core.smpl`: the SMPL skeleton and its forward kinematics.
- :mod:`~genmimic.core.rotations`: rotation conversions (wxyz quaternions, axis-angle, matrices, 6D).

Conventions: world z-up, x forward, ground at z = 0; meters, radians, seconds; quaternions wxyz.
"""

from importlib.metadata import PackageNotFoundError, version

from .clips import Clip, G1Clip, SmplClip, Trajectory, load_clip, make_meta, save_clip
from .errors import ClipError, GenMimicError, ModelError
from .files import STREAM, read_bytes, write_bytes_atomic
from .g1_constants import DEFAULT_DOF_POS, JOINT_NAMES, KEYPOINT_NAMES, NUM_DOF
from .g1_kinematics import forward_kinematics, g1_clip_from_joints, keypoint_positions
from .g1_model import g1_mjcf, g1_urdf, load_mujoco_model

try:
    __version__ = version("genmimic-core")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+unknown"

__all__ = [
    "DEFAULT_DOF_POS",
    "JOINT_NAMES",
    "KEYPOINT_NAMES",
    "NUM_DOF",
    "STREAM",
    "Clip",
    "ClipError",
    "G1Clip",
    "GenMimicError",
    "ModelError",
    "SmplClip",
    "Trajectory",
    "__version__",
    "forward_kinematics",
    "g1_clip_from_joints",
    "g1_mjcf",
    "g1_urdf",
    "keypoint_positions",
    "load_clip",
    "load_mujoco_model",
    "make_meta",
    "read_bytes",
    "save_clip",
    "write_bytes_atomic",
]
