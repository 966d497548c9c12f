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


def _methods(rows: list[Row]) -> list[str]:
    """Methods in the order they were run."""
    return list(dict.fromkeys(r["method"] for r in rows))


def _group(rows: list[Row], key: str) -> dict[tuple[Any, str], list[Row]]:
    groups: dict[tuple[Any, str], list[Row]] = defaultdict(list)
    for r in rows:
        groups[(r[key], r["method"])].append(r)
    return groups


def _mean(group: list[Row], field: str, scale: float = 1.0) -> float:
    values = np.array([r[field] for r in group], float)
    return float(np.nanmean(values) * scale) if np.isfinite(values).any() else float("nan")


def summary_table(rows: list[Row], key: str) -> list[dict[str, Any]]:
    """Per ``key`` value and method (methods side by side within each value, in run order): clips, strict
    and legacy success and fall rates [%], root-relative error, its worst 1 s window and per group [mm],
    global MPKPE and against the clean motion [mm], root error per metre travelled, heading error [deg],
    joint-angle error [deg],
    foot slip [cm/s], energy [W]. The metrics are :mod:`genmimic.bench.metrics`' (core definitions)."""
    order = {m: i for i, m in enumerate(_methods(rows))}
    out = []
    for (value, method), group in sorted(_group(rows, key).items(), key=lambda kv: (str(kv[0][0]), order[kv[0][1]])):
        head = {"method": method} if key == "method" else {key: value, "method": method}
        out.append({
            **head, "clips": len(group),
            "strict_%": 100.0 * np.mean([r["strict_success"] for r in group]),
            "success_%": 100.0 * np.mean([r["success"] for r in group]),
            "fall_%": 100.0 * np.mean([r["fell"] for r in group]),
            "rel_mm": _mean(group, "root_relative_mm"), "worst_1s_mm": _mean(group, "worst_window_mm"),
            "hands_mm": _mean(group, "hands_mm"), "feet_mm": _mean(group, "feet_mm"),
            "head_mm": _mean(group, "head_mm"), "mpkpe_mm": _mean(group, "mpkpe_mm"),
            "clean_mpkpe_mm": _mean(group, "clean_mpkpe_mm"), "root_err_m_per_m": _mean(group, "root_error_per_m"),
            "heading_deg": _mean(group, "heading_error_deg"), "joint_deg": _mean(group, "joint_error_deg"),
            "foot_slip_cm_s": _mean(group, "foot_slip", 100.0),
            "energy_w": _mean(group, "energy"),
        })
    return out


def side_by_side(rows: list[Row], key: str) -> list[dict[str, Any]]:
    """One row per ``key`` value, one column per method: "strict success % / falls % / root-relative mm"."""
    methods, groups = _methods(rows), _group(rows, key)
    out = []
    for value in sorted({r[key] for r in rows}, key=str):
        row: dict[str, Any] = {key: value}
        for m in methods:
            g = groups.get((value, m), [])
            row[m] = (f"{100 * np.mean([r['strict_success'] for r in g]):.0f} / "
                      f"{100 * np.mean([r['fell'] for r in g]):.0f} / {_mean(g, 'root_relative_mm'):.0f}") if g else "-"
        out.append(row)
    return out


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return "-" if not np.isfinite(v) else f"{v:.2f}" if abs(v) < 10 else f"{v:.1f}"
    return str(v)


def _markdown(table: list[dict[str, Any]]) -> str:
    if not table:
        return "(no results)\n"
    cols = list(table[0])
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(_fmt(r[c]) for c in cols) + " |" for r in table]
    return "\n".join(lines) + "\n"


def markdown_report(rows: list[Row], info: dict[str, Any]) -> str:
    """The report: overall per method, methods side by side per category and per corruption, then the
    detailed tables by category, corruption and severity."""
    parts = [f"# GenMimic benchmark: {info.get('bench', '')}", "",
             f"{len({r['clip_id'] for r in rows})} clips, methods: {', '.join(_methods(rows))}; "
             f"strict success = no fall and root-relative keypoint error <= {info.get('strict_error_m', 0.25)} m in "
             f"every {info.get('strict_window_s', 1.0):g} s window; success (legacy) = no fall and mean keypoint "
             f"error < {info.get('threshold_m', 0.25)} m (genmimic.core.tracking); "
             f"wall time {info.get('wall_s', 0):.0f} s on {info.get('workers', 1)} worker(s).", "",
             "## Overall", "", _markdown(summary_table(rows, "method"))]
    for key in ("category", "corruption"):
        parts += [f"## Side by side by {key} (strict success % / falls % / root-relative error mm)", "",
                  _markdown(side_by_side(rows, key))]
    for key, title in (("category", "By category"), ("corruption", "By corruption"),
                       ("severity", "By severity (0 = clean)")):
        parts += [f"## {title}", "", _markdown(summary_table(rows, key))]
    return "\n".join(parts)


def plots(rows: list[Row], worst: dict[str, np.ndarray]) -> dict[str, bytes]:
    """PNG plots: success by category and severity per method; error over time of the worst clips."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = {}
    methods = _methods(rows)
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    for ax, key in zip(axes, ("category", "severity"), strict=True):
        values = sorted({r[key] for r in rows}, key=str)
        width = 0.8 / max(len(methods), 1)
        for m, method in enumerate(methods):
            rates = [100 * np.mean([r["strict_success"] for r in rows if r["method"] == method and r[key] == v] or [0])
                     for v in values]
            ax.bar(np.arange(len(values)) + m * width, rates, width, label=method)
        ax.set_xticks(np.arange(len(values)) + width * (len(methods) - 1) / 2, [str(v) for v in values],
                      rotation=20, fontsize=8)
        ax.set_ylabel("strict success [%]")
        ax.set_ylim(0, 100)
        ax.set_title(f"strict success by {key}")
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
