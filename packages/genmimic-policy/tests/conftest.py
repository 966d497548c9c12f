from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from helpers import fresh_policy, small_bank


@pytest.fixture(scope="session")
def bank():
    return small_bank()


@pytest.fixture(scope="session")
def policy():
    return fresh_policy()
