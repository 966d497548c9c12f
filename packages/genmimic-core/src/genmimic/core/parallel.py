"""Work spread over processes, for the batch commands (``genmimic-retarget batch``, the bench runner)."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any


def ordered_map(fn: Callable[..., Any], *iterables: Iterable[Any], workers: int) -> Iterator[Any]:
    """``map(fn, *iterables)`` over ``workers`` processes, results in input order as they are ready.

    ``workers`` 1 runs in this process (no pickling, tracebacks as usual). Worker processes start by
    forkserver, not fork: forking a process that has started threads (JAX, a BLAS pool) can deadlock.
    ``fn`` and the items must pickle; an exception in ``fn`` is raised here when its result is reached.
    """
    if workers <= 1:
        yield from map(fn, *iterables)
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("forkserver")) as pool:
        yield from pool.map(fn, *iterables)
