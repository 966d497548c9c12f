"""genmimic.bench: GenMimicBench-style evaluation: corrupted motions, metrics, baselines, reports."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("genmimic-bench")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
