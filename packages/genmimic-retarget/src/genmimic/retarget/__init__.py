"""genmimic.retarget: SMPL clip -> G1 joints and keypoints with Pink IK."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("genmimic-retarget")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
