"""Retarget many clips in parallel worker processes (one clip per task)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from genmimic.core.clips import SmplClip, load_clip, save_clip
from genmimic.core.errors import GenMimicError
from genmimic.core.parallel import ordered_map

from .pipeline import RetargetConfig, RetargetReport, retarget


class BatchItem(NamedTuple):
    """Outcome for one input file: its report, or the one-line error that stopped it."""

    source: Path
    output: Path
    report: RetargetReport | None
    error: str | None


def retarget_file(source: Path, output: Path, config: RetargetConfig) -> BatchItem:
    """Load, retarget and save one clip; errors are returned, not raised, so a batch goes on."""
    try:
        result = retarget(load_clip(source, SmplClip), config, source=str(source))
        save_clip(result.clip, output)
        return BatchItem(source, output, result.report, None)
    except GenMimicError as err:
        return BatchItem(source, output, None, str(err))


def retarget_folder(src: Path, dst: Path, config: RetargetConfig, workers: int | None = None,
                    pattern: str = "*.npz") -> Iterator[BatchItem]:
    """Retarget every ``pattern`` file of ``src`` into ``dst`` (same names), yielding results as they finish
    in input order. ``workers`` defaults to the number of cores."""
    if not src.is_dir():
        raise GenMimicError(f"{src}: not a folder")
    files = sorted(src.glob(pattern))
    if not files:
        raise GenMimicError(f"{src}: no {pattern} files to retarget")
    dst.mkdir(parents=True, exist_ok=True)
    workers = max(1, min(workers or os.cpu_count() or 1, len(files)))
    yield from ordered_map(retarget_file, files, [dst / f.name for f in files], [config] * len(files), workers=workers)
