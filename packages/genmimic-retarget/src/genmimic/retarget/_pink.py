"""Pink (and its qpsolvers), imported without starting JAX; the one place this package imports them from.

qpsolvers (under Pink) tries every QP backend it knows when it is imported, and its jaxopt backend imports
``jax.numpy`` first: 1.3 s of CPU at each start of ``genmimic-retarget`` on the development machine, for
a backend the IK never uses (it solves with daqp). While Pink is imported here, ``import jax`` fails as if
JAX were not installed (unless JAX is loaded already, in which case nothing changes); qpsolvers then lists
the backends it found without jaxopt (jaxopt itself is not installed in the project's environment, so
nothing is lost there). ``tests/test_ik_speed_paths.py`` checks the command starts without JAX.

The IK (:mod:`.ik`) computes Pink's QP itself and calls daqp directly, so the command does not import this
module; the tests import it to compare each IK step with ``pink.solve_ik``.
"""

from __future__ import annotations

import sys

if "jax" not in sys.modules and "qpsolvers" not in sys.modules:
    sys.modules["jax"] = None  # type: ignore[assignment]  # the import system's "not installed" marker
    try:
        import pink  # noqa: F401  (the guarded import itself)
    finally:
        del sys.modules["jax"]

import qpsolvers
from pink import Configuration, solve_ik
from pink.limits import ConfigurationLimit, VelocityLimit
from pink.tasks import PostureTask, Task

__all__ = ["Configuration", "ConfigurationLimit", "PostureTask", "Task", "VelocityLimit", "qpsolvers", "solve_ik"]
