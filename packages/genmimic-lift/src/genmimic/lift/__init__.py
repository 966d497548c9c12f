"""genmimic.lift: human motion into SMPL clips, offline on the CPU.

- :mod:`~genmimic.lift.synth`: the project's procedural human motions (:func:`synthesize`, :data:`KINDS`).
- :mod:`~genmimic.lift.importers`: one entry point, :func:`lift_any`, for videos and mocap files.
- :mod:`~genmimic.lift.bvh`, :mod:`~genmimic.lift.amass`, :mod:`~genmimic.lift.gvhmr`: mocap importers.
- :mod:`~genmimic.lift.video`, :mod:`~genmimic.lift.pose2d`, :mod:`~genmimic.lift.fit`: video lifting.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("genmimic-lift")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
