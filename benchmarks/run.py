"""Run every benchmark module (``benchmarks/bench_*.py``), print one table, write it to ``--out``.

Each module has ``run() -> list[Result]``. Results are measured in this one run, on this machine, so
ratios between rows are fair; absolute figures depend on the machine (the table names it).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import Result  # noqa: E402


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("bench_out"), help="folder for results.md/.json")
    parser.add_argument("-k", default="", help="only modules whose name contains this")
    args = parser.parse_args()
    cpu = platform.processor() or platform.machine()
    machine = f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"
    rows: list[Result] = []
    for path in sorted(HERE.glob("bench_*.py")):
        if args.k in path.stem:
            start = time.perf_counter()
            print(f"running {path.stem} ...", file=sys.stderr, flush=True)
            rows += _load(path).run()
            print(f"  {path.stem} took {time.perf_counter() - start:.1f} s", file=sys.stderr)
    lines = [f"Benchmarks on {machine}", "",
             "| benchmark | value | unit | target | note |", "|---|---:|---|---|---|"]
    lines += [f"| {r.name} | {r.value:.4g} | {r.unit} | {r.target or ''} | {r.note} |" for r in rows]
    table = "\n".join(lines)
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.md").write_text(table + "\n")
    (args.out / "results.json").write_text(json.dumps({"machine": machine, "results": [r._asdict() for r in rows]},
                                                      indent=2))
    print(f"\nwritten to {args.out}/results.md and results.json", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
