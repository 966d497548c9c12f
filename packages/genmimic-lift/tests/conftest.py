"""Fixtures of genmimic-lift's tests."""

from __future__ import annotations

import pytest

from genmimic.core import SmplClip
from genmimic.lift.synth import synthesize


@pytest.fixture(scope="session")
def walk_clip() -> SmplClip:
    """A 3 s walk with a wave at 30 fps (the project's synthetic motion, known joint positions)."""
    return synthesize("walk_with_action", seed=3, duration=3.0, fps=30.0)
