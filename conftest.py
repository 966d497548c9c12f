"""Fixtures shared by the tests of every package (pytest loads this file for the whole tree)."""

from __future__ import annotations

from pathlib import Path

import pytest

from genmimic.core import testing

REPO = Path(__file__).resolve().parent
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (real videos and mocap); the test is skipped where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"sample data not found at {SHARED_DATA} (it sits beside the project in development and CI)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def g1_clip():
    """A valid 2 s G1 clip at 50 fps: standing, waving the right arm."""
    return testing.waving_g1_clip(100, 50.0)


@pytest.fixture(scope="session")
def moving_g1_clip(g1_clip):
    """``g1_clip`` with its pelvis moving at (0.6, 0, 0.3) m/s (0.67 m/s): a clip that starts in motion."""
    return testing.moving_clip(g1_clip)


@pytest.fixture(scope="session")
def smpl_clip():
    """A valid 1 s SMPL clip at 30 fps with smooth random joint motion."""
    return testing.random_smpl_clip(30, 30.0, seed=0)
