"""Moved to :mod:`genmimic.core.runtime.observation` (NumPy-only runtime shared with track, bench and deploy).

Re-exported here for the training modules that build the same observation over ``jax.numpy``."""

from genmimic.core.runtime.observation import *  # noqa: F403
from genmimic.core.runtime.observation import __all__  # noqa: F401
