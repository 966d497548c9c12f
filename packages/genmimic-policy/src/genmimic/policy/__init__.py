"""genmimic.policy: keypoint-conditioned G1 tracking policy: JAX PPO on MJX, CPU rollouts, ONNX export."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("genmimic-policy")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
