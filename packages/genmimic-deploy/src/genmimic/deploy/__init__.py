"""genmimic.deploy: run an exported policy on the Unitree G1 through unitree_sdk2py (DDS), with a
MuJoCo simulator that speaks the same topics for sim-to-sim checks."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("genmimic-deploy")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
