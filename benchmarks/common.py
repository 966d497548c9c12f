"""Shared helpers of the benchmark modules."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import NamedTuple


class Result(NamedTuple):
    """One row of the benchmark table."""

    name: str
    value: float
    unit: str
    note: str = ""
    target: str | None = None


def rate(fn: Callable[[], int], min_seconds: float = 1.0) -> float:
    """Items per second of ``fn`` (which returns how many items it processed), over >= ``min_seconds``."""
    fn()  # warm up
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < min_seconds:
        count += fn()
    return count / elapsed
