"""Moved to :mod:`genmimic.core.runtime.observation` (the NumPy-only runtime shared with track, bench and deploy).

Re-exported here for the code that still imports it from this package (the environments ``env_core``,
``env_cpu``, ``env_mjx``, ``mirror``, benchmarks and tests); new code imports the runtime module."""

from genmimic.core.runtime.observation import *  # noqa: F403
from genmimic.core.runtime.observation import __all__  # noqa: F401
