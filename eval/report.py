"""Side-by-side result tables: markdown for people, JSON for tools, a bar chart for papers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: Columns of the side-by-side table, in order, with how to print them.
_FORMATS = {
    "pipeline": "{}",
    "questions": "{}",
    "recall@1": "{:.3f}",
    "recall@2": "{:.3f}",
    "recall@5": "{:.3f}",
    "recall@10": "{:.3f}",
    "mrr": "{:.3f}",
    "em": "{:.3f}",
    "f1": "{:.3f}",
    "latency_mean_ms": "{:.1f}",
    "latency_p95_ms": "{:.1f}",
    "questions_per_s": "{:.1f}",
    "llm_calls": "{}",
    "llm_tokens": "{}",
}


class ResultTable:
    """One row of aggregate figures per pipeline, as returned by `eval.run`."""

    def __init__(self, rows: list[dict[str, Any]], meta: dict[str, Any]) -> None:
        """Hold the rows and what produced them (dataset, settings, code version)."""
        self.rows = rows
        self.meta = meta

    def row(self, pipeline: str) -> dict[str, Any]:
        """The figures of one pipeline."""
        return next(r for r in self.rows if r["pipeline"] == pipeline)

    def columns(self) -> list[str]:
        """Known columns that some row has, in display order (LLM columns only when used)."""
        cols = [c for c in _FORMATS if any(r.get(c) is not None for r in self.rows)]
        if not any(r.get("llm_calls") for r in self.rows):
            cols = [c for c in cols if not c.startswith("llm_")]
        return cols

    def to_markdown(self) -> str:
        """A markdown table of the rows."""
        cols = self.columns()
        lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        for r in self.rows:
            cells = [_FORMATS[c].format(r[c]) if r.get(c) is not None else "–" for c in cols]
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines)

    def __str__(self) -> str:
        """The markdown table."""
        return self.to_markdown()

    def to_dict(self) -> dict[str, Any]:
        """Rows and provenance, JSON-ready."""
        return {"meta": self.meta, "rows": self.rows}


def save_chart(table: ResultTable, path: Path) -> None:
    """Write a grouped bar chart of recall, MRR, EM and F1 per pipeline as a PNG."""
    import matplotlib

    matplotlib.use("Agg")  # headless: no display on servers and CI
    import matplotlib.pyplot as plt
    import numpy as np

    metrics = [c for c in table.columns() if c.startswith("recall@") or c in ("mrr", "em", "f1")]
    x = np.arange(len(metrics))
    width = 0.8 / max(1, len(table.rows))
    fig, ax = plt.subplots(figsize=(1.2 * len(metrics) + 3, 4))
    for i, row in enumerate(table.rows):
        values = [row.get(m) or 0.0 for m in metrics]
        bars = ax.bar(x + i * width, values, width, label=row["pipeline"])
        ax.bar_label(bars, fmt="%.2f", fontsize=7)
    ax.set_xticks(x + width * (len(table.rows) - 1) / 2, metrics)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("score")
    ax.set_title(f"{table.meta.get('dataset', {}).get('name', '')}: pipelines side by side")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
