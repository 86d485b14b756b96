"""Side-by-side result tables: markdown for people, JSON for tools, a bar chart for papers."""

from __future__ import annotations

from collections.abc import Sequence
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
#: What a headline table shows after its dataset's metrics.
_COST_COLUMNS = ("latency_mean_ms", "latency_p95_ms", "questions_per_s", "llm_calls", "llm_tokens")
#: How a metric without its own format above is printed.
_SCORE_FORMAT = "{:.3f}"


class ResultTable:
    """One row of aggregate figures per pipeline, as returned by `eval.run`."""

    def __init__(
        self,
        rows: list[dict[str, Any]],
        meta: dict[str, Any],
        headline: Sequence[str] | None = None,
    ) -> None:
        """Hold the rows and what produced them; `headline` names the metrics to show.

        Without `headline` (nor one in `meta`), the table shows recall@k, MRR, EM and F1;
        a dataset such as QMSum names its own (hit@5, precision@5, nDCG@10, ROUGE-L). The
        rows keep every figure either way.
        """
        self.rows = rows
        self.meta = meta
        self.headline = list(headline if headline is not None else meta.get("headline", []))

    def row(self, pipeline: str) -> dict[str, Any]:
        """The figures of one pipeline."""
        return next(r for r in self.rows if r["pipeline"] == pipeline)

    def columns(self) -> list[str]:
        """Shown columns that some row has, in display order (LLM columns only when used)."""
        shown = (
            ["pipeline", "questions", *self.headline, *_COST_COLUMNS] if self.headline else _FORMATS
        )
        cols = [c for c in shown if any(r.get(c) is not None for r in self.rows)]
        if not any(r.get("llm_calls") for r in self.rows):
            cols = [c for c in cols if not c.startswith("llm_")]
        return cols

    def score_columns(self) -> list[str]:
        """The shown columns that are quality scores in [0, 1], for the chart."""
        if self.headline:
            return [c for c in self.columns() if c in self.headline]
        return [c for c in self.columns() if c.startswith("recall@") or c in ("mrr", "em", "f1")]

    def to_markdown(self) -> str:
        """A markdown table of the rows."""
        cols = self.columns()
        lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        for r in self.rows:
            cells = [
                _FORMATS.get(c, _SCORE_FORMAT).format(r[c]) if r.get(c) is not None else "–"
                for c in cols
            ]
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines + self._wrapped_lines())

    def _wrapped_lines(self) -> list[str]:
        """Under the table: recall per IRCoT round and clues per question, where measured."""
        lines = []
        for r in self.rows:
            parts = []
            curve = r.get("recall@5_by_round")
            if curve:
                parts.append("recall@5 by round " + " → ".join(f"{x:.3f}" for x in curve))
            if r.get("clues_per_question") is not None:
                parts.append(f"{r['clues_per_question']:.1f} clues per question")
            if r.get("clue_drafters"):
                ran = ", ".join(f"{name} {n}" for name, n in r["clue_drafters"].items())
                parts.append(f"clue drafters (questions): {ran}")
            if r.get("llm_calls"):
                parts.append(
                    f"{r['llm_calls_per_question']:.1f} LLM calls and "
                    f"{r['llm_tokens_per_question']:.0f} tokens per question"
                )
            if parts:
                lines.append(f"- {r['pipeline']}: " + "; ".join(parts))
        return ["", *lines] if lines else []

    def __str__(self) -> str:
        """The markdown table."""
        return self.to_markdown()

    def to_dict(self) -> dict[str, Any]:
        """Rows and provenance, JSON-ready."""
        return {"meta": self.meta, "rows": self.rows}


def save_chart(table: ResultTable, path: Path) -> None:
    """Write a grouped bar chart of the table's scores (recall, MRR, EM, F1 or its headline)."""
    import matplotlib

    matplotlib.use("Agg")  # headless: no display on servers and CI
    import matplotlib.pyplot as plt
    import numpy as np

    metrics = table.score_columns()
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
