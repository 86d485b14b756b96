"""One table of Recall@2/@5 from several `rag eval --out` folders, with each half of the questions.

Usage: python experiments/spacy_openie/merge_tables.py LABEL=FOLDER [LABEL=FOLDER ...]

Rows are `pipeline (label)`; the halves (first and last half of the question file's order) show
whether a figure holds on questions no rule was checked against.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _records(path: Path) -> list[dict[str, float]]:
    """The per-question scores of one pipeline, in question order (a resumed run's last wins)."""
    rows: dict[str, dict[str, float]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            rows[record["question_id"]] = record["scores"]
    return list(rows.values())


def _mean(rows: list[dict[str, float]], metric: str) -> float:
    """The mean of one metric over questions that have it."""
    values = [r[metric] for r in rows if r.get(metric) is not None]
    return sum(values) / len(values) if values else float("nan")


def main() -> None:
    """Print the merged markdown table."""
    print(
        "| pipeline | R@2 | R@5 | R@2 1st half | R@5 1st half | R@2 2nd half | R@5 2nd half |\n"
        "| --- | --- | --- | --- | --- | --- | --- |"
    )
    seen: set[str] = set()
    for arg in sys.argv[1:]:
        label, folder = arg.split("=", 1)
        for path in sorted(Path(folder, "records").glob("*.jsonl")):
            rows = _records(path)
            half = len(rows) // 2
            name = path.stem
            shared = name in ("dense", "bm25", "hybrid")
            if shared and name in seen:
                continue
            seen.add(name)
            cells = [
                _mean(part, metric)
                for part in (rows, rows[:half], rows[half:])
                for metric in ("recall@2", "recall@5")
            ]
            label_text = "" if shared else f" ({label})"
            print(f"| {name}{label_text} | " + " | ".join(f"{c:.3f}" for c in cells) + " |")


if __name__ == "__main__":
    main()
