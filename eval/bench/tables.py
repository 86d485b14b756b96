"""Benchmark results as markdown tables, and the summary.md / summary.json pair in an out dir."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eval.bench.system import machine_line


def markdown_table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    """Render rows of flat dicts as a markdown table; missing or None cells show as –."""
    cols = list(columns or [c for c in rows[0] if not isinstance(rows[0][c], dict)])
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in rows:
        cells = ["–" if row.get(c) is None else _cell(row[c]) for c in cols]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(value: Any) -> str:
    """A table cell: thousands separators for counts and large rates, small floats as measured."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, float) and abs(value) >= 10_000:
        return f"{value:,.0f}"
    return str(value)


def dataset_markdown(result: dict[str, Any]) -> str:
    """The per-dataset section: build stages, size on disk, and queries per pipeline."""
    build, queries = result["build"], result["queries"]
    stages = [{"stage": "total", **_total(build)}]
    stages += [{"stage": name, **figures} for name, figures in build["stages"].items()]
    disk = [{"part": part, "MiB": mb} for part, mb in result["disk_mb"].items()]
    return "\n\n".join([
        f"## Dataset `{result['dataset']}`",
        f"{build['passages']:,} passages from {build['sources']} file(s), embedder "
        f"{build['embedder']}, empty embedding cache. Build peak RSS {build['peak_rss_mb']} MiB "
        f"(process start {build['rss_start_mb']} MiB).",
        markdown_table(stages, ["stage", "seconds", "passages_per_s", "share"]),
        "Index size on disk (du):",
        markdown_table(disk),
        f"Queries: {queries['query_source']} ({queries['queries']}), one at a time, no "
        f"embedding cache. Index open {queries['open_s']} s; query process peak RSS "
        f"{queries['peak_rss_mb']} MiB.",
        markdown_table(queries["rows"]),
    ])  # fmt: skip


def _total(build: dict[str, Any]) -> dict[str, Any]:
    """The whole build as a stage row."""
    return {"seconds": build["seconds"], "passages_per_s": build["passages_per_s"], "share": 1.0}


SCALING_COLUMNS = (
    "size", "kind", "build_s", "build_per_s", "query_p50_ms", "query_p95_ms", "recall@10",
    "rss_delta_mb", "peak_rss_mb", "disk_mb", "save_s",
)  # fmt: skip


def scaling_markdown(result: dict[str, Any]) -> str:
    """The scaling section: one row per (size, index kind)."""
    hnsw = result["hnsw"]
    return "\n\n".join([
        "## Scaling (synthetic corpora)",
        f"Vectors: random unit vectors of dim {result['dim']} (FAISS inner product; HNSW "
        f"M={hnsw['m']}, efSearch={hnsw['ef_search']}, "
        f"efConstruction={hnsw['ef_construction']}). BM25: pseudo-word passages of 40–120 "
        f"words, double-Zipf frequencies. {result['queries']} queries per row, one at a time, top "
        f"{result['top_k']}; recall@10 = share of queries whose source passage is in the top "
        "10. rss_delta_mb = resident memory the built index added; peak_rss_mb = the whole "
        "process, synthetic inputs included.",
        markdown_table(result["rows"], SCALING_COLUMNS),
    ])  # fmt: skip


def summary_markdown(summary: dict[str, Any]) -> str:
    """The whole summary: machine line, then each section that was run."""
    parts = ["# memrag benchmarks", f"Machine: {machine_line(summary['machine'])}"]
    if summary.get("dataset"):
        parts.append(dataset_markdown(summary["dataset"]))
    if summary.get("scaling"):
        parts.append(scaling_markdown(summary["scaling"]))
    return "\n\n".join(parts) + "\n"


def write_summary(out: Path, summary: dict[str, Any]) -> str:
    """Write summary.json and summary.md into `out` and return the markdown."""
    out.mkdir(parents=True, exist_ok=True)
    text = summary_markdown(summary)
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    (out / "summary.md").write_text(text)
    return text
