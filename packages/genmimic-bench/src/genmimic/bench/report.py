"""Benchmark reports: a markdown table, plots and an HTML page that embeds them."""

from __future__ import annotations

import base64
import html
import io
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from genmimic.core.files import write_bytes_atomic

Row = dict[str, Any]  # one (clip, method) result: manifest fields + metrics + method


def _group(rows: list[Row], key: str) -> dict[tuple[str, Any], list[Row]]:
    groups: dict[tuple[str, Any], list[Row]] = defaultdict(list)
    for r in rows:
        groups[(r["method"], r[key])].append(r)
    return groups


def summary_table(rows: list[Row], key: str) -> list[dict[str, Any]]:
    """Per method and ``key`` value: clips, success rate, mean MPKPE, end-effector error, slip, energy."""
    out = []
    for (method, value), group in sorted(_group(rows, key).items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
        out.append({
            "method": method, key: value, "clips": len(group),
            "success_%": 100.0 * np.mean([r["success"] for r in group]),
            "fall_%": 100.0 * np.mean([r["fell"] for r in group]),
            "mpkpe_mm": float(np.mean([r["mpkpe_mm"] for r in group])),
            "ee_mm": float(np.mean([r["ee_error_mm"] for r in group])),
            "clean_mpkpe_mm": float(np.nanmean([r["clean_mpkpe_mm"] for r in group])),
            "foot_slip_cm_s": 100.0 * float(np.mean([r["foot_slip"] for r in group])),
            "energy_w": float(np.mean([r["energy"] for r in group])),
        })
    return out


def _markdown(table: list[dict[str, Any]]) -> str:
    if not table:
        return "(no results)\n"
    cols = list(table[0])
    fmt = lambda v: f"{v:.1f}" if isinstance(v, float) else str(v)  # noqa: E731
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(fmt(r[c]) for c in cols) + " |" for r in table]
    return "\n".join(lines) + "\n"


def markdown_report(rows: list[Row], info: dict[str, Any]) -> str:
    parts = [f"# GenMimic benchmark: {info.get('bench', '')}", "",
             f"{len({r['clip_id'] for r in rows})} clips, methods: {', '.join(sorted({r['method'] for r in rows}))}; "
             f"success = no fall and mean keypoint error < {info.get('threshold_m', 0.25)} m; "
             f"wall time {info.get('wall_s', 0):.0f} s on {info.get('workers', 1)} worker(s).", ""]
    for key, title in (("method", "Overall"), ("category", "By category"), ("corruption", "By corruption"),
                       ("severity", "By severity (0 = clean)")):
        table = summary_table(rows, key)
        if key == "method":
            for r in table:
                r.pop("method", None)
        parts += [f"## {title}", "", _markdown(table)]
    return "\n".join(parts)


def plots(rows: list[Row], worst: dict[str, np.ndarray]) -> dict[str, bytes]:
    """PNG plots: success by category and severity per method; error over time of the worst clips."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = {}
    methods = sorted({r["method"] for r in rows})
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    for ax, key in zip(axes, ("category", "severity"), strict=True):
        values = sorted({r[key] for r in rows}, key=str)
        width = 0.8 / max(len(methods), 1)
        for m, method in enumerate(methods):
            rates = [100 * np.mean([r["success"] for r in rows if r["method"] == method and r[key] == v] or [0])
                     for v in values]
            ax.bar(np.arange(len(values)) + m * width, rates, width, label=method)
        ax.set_xticks(np.arange(len(values)) + width * (len(methods) - 1) / 2, [str(v) for v in values],
                      rotation=20, fontsize=8)
        ax.set_ylabel("success [%]")
        ax.set_ylim(0, 100)
        ax.set_title(f"success by {key}")
        ax.legend(fontsize=8)
    fig.tight_layout()
    out["success.png"] = _png(fig)
    if worst:
        fig, ax = plt.subplots(figsize=(11, 3.8))
        for name, err in worst.items():
            ax.plot(np.arange(len(err)) / 50.0, err * 1000, label=name)
        ax.set_xlabel("time [s]")
        ax.set_ylabel("mean keypoint error [mm]")
        ax.set_title("error over time, worst clips")
        ax.legend(fontsize=7)
        fig.tight_layout()
        out["worst.png"] = _png(fig)
    plt.close("all")
    return out


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    return buf.getvalue()


def write_report(out: Path, rows: list[Row], info: dict[str, Any], worst: dict[str, np.ndarray]) -> None:
    """Write ``report.md``, the PNG plots and ``report.html`` (plots embedded) into ``out``."""
    md = markdown_report(rows, info)
    images = plots(rows, worst)
    for name, data in images.items():
        write_bytes_atomic(out / name, data)
    write_bytes_atomic(out / "report.md", (md + "\n" + "\n".join(f"![{n}]({n})" for n in images) + "\n").encode())
    body = "".join(f'<img alt="{n}" src="data:image/png;base64,{base64.b64encode(d).decode()}"><br>'
                   for n, d in images.items())
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>GenMimic benchmark</title>"
            f"<style>body{{font-family:sans-serif;max-width:1100px;margin:auto}}table{{border-collapse:collapse}}"
            f"td,th{{border:1px solid #ccc;padding:2px 6px}}</style></head><body>{body}"
            f"<pre>{html.escape(md)}</pre></body></html>")
    write_bytes_atomic(out / "report.html", page.encode())
