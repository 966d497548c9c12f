"""genmimic.lift: video -> SMPL sequence (4D human), offline on the CPU, plus mocap importers."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("genmimic-lift")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
