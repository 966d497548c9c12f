"""Building MediaPipe trackers in threads leaves the process's stderr as it was (a thread-unsafe
``redirect_stderr`` once left ``sys.stderr`` a StringIO, so every later message and error was lost)."""

import sys
from concurrent.futures import ThreadPoolExecutor

import pytest


def test_trackers_built_in_threads_leave_sys_stderr_alone():
    pytest.importorskip("mediapipe")
    from genmimic.lift import pose2d

    before = sys.stderr
    with ThreadPoolExecutor(4) as pool:
        trackers = list(pool.map(lambda _: pose2d._pose_tracker(), range(8)))
    for t in trackers:
        t.close()
    assert sys.stderr is before
