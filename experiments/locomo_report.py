"""Issue 26: per-category recall, held-out halves, answer F1 and latency from `rag eval` records.

`rag eval --out DIR` keeps every question's record; the summary has overall means only. This
prints, per pipeline, Recall@5 over all questions, over each half of the conversations
(conv-26+30 and conv-41+42, to check that a choice made on one half holds on the other), per
category, latency p50 / p95, and (when the reader ran) F1 per category and declined_cat5.

    python experiments/locomo_report.py DIR [DIR ...]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

HALVES = (("conv-26", "conv-30"), ("conv-41", "conv-42"))


def _mean(values: list[float]) -> str:
    """A mean to three places, or a dash."""
    return f"{np.mean(values):.3f}" if values else "–"


def report(folder: Path) -> None:
    """Print one Markdown table of retrieval rows and, if answered, one of answer rows."""
    retrieval, answers = [], []
    for path in sorted((folder / "records").glob("*.jsonl")):
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        recall = [r for r in rows if r["scores"].get("recall@5") is not None]

        def r5(keep: object, rows: list[dict] = recall) -> str:
            return _mean([r["scores"]["recall@5"] for r in rows if keep(r)])  # type: ignore[operator]

        halves = [r5(lambda r, h=h: r["question_id"].rsplit("-q", 1)[0] in h) for h in HALVES]
        cats = [r5(lambda r, c=c: r.get("category") == c) for c in range(1, 6)]
        lat = np.percentile([r["latency_ms"] for r in rows], [50, 95])
        name = path.stem
        retrieval.append(
            f"| {name} | {r5(lambda r: True)} | {' | '.join(halves)} | {' | '.join(cats)} "
            f"| {lat[0]:.1f} / {lat[1]:.1f} |"
        )
        if any(r["scores"].get("f1") is not None for r in rows):
            f1 = [
                _mean([r["scores"]["f1"] for r in rows if r.get("category") == c])
                for c in range(1, 5)
            ]
            every = _mean([r["scores"]["f1"] for r in rows if r["scores"].get("f1") is not None])
            declined = _mean(
                [r["scores"]["declined"] for r in rows if r["scores"].get("declined") is not None]
            )
            answers.append(f"| {name} | {every} | {' | '.join(f1)} | {declined} |")
    print(f"\n{folder}\n")
    print(
        "| pipeline | R@5 | conv-26+30 | conv-41+42 | cat1 | cat2 | cat3 | cat4 | cat5 "
        "| latency p50 / p95 ms |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(retrieval))
    if answers:
        print("\n| pipeline | F1 | cat1 | cat2 | cat3 | cat4 | declined_cat5 |")
        print("|---|---|---|---|---|---|---|")
        print("\n".join(answers))


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        report(Path(arg))
