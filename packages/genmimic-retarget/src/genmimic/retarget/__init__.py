"""genmimic.retarget: SMPL clip -> G1 joints and keypoints with Pink IK, feet cleaned up.

>>> from genmimic.core import load_clip, save_clip, SmplClip
>>> result = retarget(load_clip("human.npz", SmplClip))
>>> save_clip(result.clip, "g1.npz"); print(result.report.summary())
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("genmimic-retarget")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+unknown"

from .pipeline import RetargetConfig, RetargetError, RetargetReport, RetargetResult, default_config, retarget

__all__ = [
    "RetargetConfig",
    "RetargetError",
    "RetargetReport",
    "RetargetResult",
    "__version__",
    "default_config",
    "retarget",
]
