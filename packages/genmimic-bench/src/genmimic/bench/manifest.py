"""The benchmark definition: a folder of SMPL clips and ``manifest.json`` saying what each one is.

Categories follow GenMimicBench: gestures, upper-body compositions, walking with an upper-body action,
turning, and object-interaction-like motions. Each clean motion appears once clean and once per
corruption, at a severity that cycles over 1-3 so every corruption is measured at every severity.
"""

from __future__ import annotations

import json
import os
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path

from genmimic.core.clips import SmplClip, load_clip, save_clip
from genmimic.core.errors import GenMimicError
from genmimic.core.files import write_bytes_atomic

from .corruptions import CORRUPTIONS, corrupt

FORMAT = "genmimic.bench/1"
CATEGORIES = ("gestures", "compositions", "walking_upper_body", "turning", "object_interaction")
#: Procedural motions (genmimic-lift's synth kinds) of each category.
SYNTH_KINDS = {
    "gestures": ("wave", "thumbs_up", "point"),
    "compositions": ("composition", "arms_cross"),
    "walking_upper_body": ("walk_with_action", "walk"),
    "turning": ("turn", "step"),
    "object_interaction": ("reach", "squat"),
}


class BenchError(GenMimicError):
    """A benchmark folder or manifest that cannot be used."""


@dataclass(frozen=True)
class Entry:
    """One benchmark clip. ``file`` and ``clean_file`` are relative to the benchmark folder."""

    clip_id: str
    category: str
    source: str
    corruption: str  # "none" for the clean motion
    severity: int  # 0 for the clean motion
    seed: int
    file: str
    clean_file: str


def category_of(name: str) -> str:
    """The category of a synth kind or file name (``object_interaction`` when nothing matches)."""
    for category, kinds in SYNTH_KINDS.items():
        if any(k in name for k in kinds):
            return category
    return "object_interaction" if "reach" in name or "lift" in name else "gestures"


def _variants(clean: SmplClip, base: str, category: str, source: str, index: int, seed: int, out: Path,
              severities: tuple[int, ...] | None) -> list[Entry]:
    clean_file = f"clips/{base}.npz"
    save_clip(clean, out / clean_file)
    entries = [Entry(base, category, source, "none", 0, seed, clean_file, clean_file)]
    for c, name in enumerate(CORRUPTIONS):
        severity = severities[(index + c) % len(severities)] if severities else 1 + (index + c) % 3
        clip_id = f"{base}__{name}{severity}"
        # each clip its own noise: with seed * 1000 + c alone, every motion of one seed got the same draw
        # (the 7 jitter-3 clips of the default benchmark were 2 draws; found by a fresh-clone tester)
        noise_seed = zlib.crc32(f"{clip_id}/{seed}".encode())
        save_clip(corrupt(clean, name, severity, noise_seed), out / f"clips/{clip_id}.npz")
        entries.append(Entry(clip_id, category, source, name, severity, seed, f"clips/{clip_id}.npz", clean_file))
    return entries


def make_benchmark(out: str | os.PathLike[str], sources: list[Path] | None = None, seeds: int = 2,
                   severities: tuple[int, ...] | None = None, progress=None) -> list[Entry]:
    """Write a benchmark into ``out``: clean motions (procedural by default, or ``sources``: SMPL clips
    and BVH files) and their corrupted variants, and ``manifest.json``."""
    out = Path(out)
    (out / "clips").mkdir(parents=True, exist_ok=True)
    jobs: list[tuple[str, str, str, int, object]] = []
    if sources:
        for path in sources:
            jobs.append((path.stem, category_of(path.stem), str(path), 0, path))
    else:
        for category, kinds in SYNTH_KINDS.items():
            for kind in kinds:
                for seed in range(seeds):
                    jobs.append((f"{kind}_s{seed}", category, f"genmimic-synth {kind} --seed {seed}", seed, kind))
    entries: list[Entry] = []
    items = jobs if progress is None else progress(jobs)
    for index, (base, category, source, seed, what) in enumerate(items):
        entries += _variants(_load_clean(what, seed), base, category, source, index, seed, out, severities)
    save_manifest(entries, out)
    return entries


def _load_clean(what: object, seed: int) -> SmplClip:
    if isinstance(what, str):
        from genmimic.lift.synth import synthesize

        return synthesize(what, seed=seed, fps=30.0)
    path = Path(str(what))
    if path.suffix.lower() == ".bvh":
        from genmimic.lift.bvh import import_bvh

        return import_bvh(path)  # without a calibration pose it starts with (CMU's T-pose)
    return load_clip(path, SmplClip)


#: Which generation of ``make_benchmark`` wrote a manifest (saved as its ``"generator"``): benchmarks written
#: before it share one noise draw between every motion of a seed, so a cached one without it is stale.
GENERATOR = "per-clip noise seeds (2026-12-04)"


def is_current(bench: str | os.PathLike[str]) -> bool:
    """Whether ``bench`` holds a manifest written by this generation of :func:`make_benchmark`
    (:data:`GENERATOR`); False when there is none, or an older or unreadable one (a cache to write again)."""
    try:
        return json.loads((Path(bench) / "manifest.json").read_text()).get("generator") == GENERATOR
    except (OSError, ValueError, AttributeError):
        return False


def save_manifest(entries: list[Entry], out: Path) -> None:
    data = {"format": FORMAT, "generator": GENERATOR, "categories": list(CATEGORIES), "corruptions": {
        name: {"doc": c.doc, "unit": c.unit} for name, c in CORRUPTIONS.items()},
        "clips": [asdict(e) for e in entries]}
    write_bytes_atomic(out / "manifest.json", json.dumps(data, indent=1).encode())


def _remake_fix(bench: str | os.PathLike[str], entries: list[Entry] | None) -> str:
    """How to write ``bench`` again: the ``make`` command with the ``--from`` folder its clean clips came from
    and its ``--seeds``, where the entries tell them (``None``: unknown, so the user is reminded of them)."""
    if entries is None:
        return (f"fix: make it again with the command that made it (`genmimic-bench make -o {bench}`, with its "
                "`--from` and `--seeds` if it had them)")
    folders = sorted({str(Path(e.source).parent) for e in entries if Path(e.source).suffix})
    synth_seeds = {e.seed for e in entries if e.source.startswith("genmimic-synth")}
    options = "".join(f" --from {f}" for f in folders[:1])
    if synth_seeds and max(synth_seeds) + 1 != 2:  # 2: make's default
        options += f" --seeds {max(synth_seeds) + 1}"
    return f"fix: make it again with `genmimic-bench make -o {bench}{options}`"


def load_manifest(bench: str | os.PathLike[str]) -> list[Entry]:
    path = Path(bench) / "manifest.json"
    if not Path(bench).exists():
        raise BenchError(f"{bench}: no such folder; make a benchmark with `genmimic-bench make -o {bench}`")
    if not Path(bench).is_dir():
        raise BenchError(f"{bench}: is a file, not a benchmark folder; give the folder `genmimic-bench make` wrote")
    if not path.is_file():
        raise BenchError(f"{bench}: not a benchmark folder (no manifest.json); make one with `genmimic-bench make`")
    remake = _remake_fix(bench, None)
    try:
        text = path.read_text()
        if not text.strip():
            raise BenchError(f"{path}: the manifest is empty; {remake}")
        data = json.loads(text)
        if not isinstance(data, dict):
            raise TypeError(f"a JSON {type(data).__name__}, not an object")
        if data.get("format") != FORMAT:
            raise BenchError(f"{path}: unknown manifest format {data.get('format')!r} (expected {FORMAT}); {remake} "
                             "(or upgrade genmimic-bench, if a newer one wrote it)")
        entries = [Entry(**e) for e in data["clips"]]
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as err:
        why = f"missing key {err}" if isinstance(err, KeyError) else str(err).splitlines()[0]
        raise BenchError(f"{path}: not a valid manifest ({why}); {remake}") from None
    for e in entries:
        if not (Path(bench) / e.file).is_file():
            raise BenchError(f"{path}: clip {e.clip_id} is missing ({e.file}); restore the file, or "
                             f"{_remake_fix(bench, entries)}")
    return entries
