"""The operator table of docs/local-models.md from `rag eval --out` folders (summary.json).

python experiments/local_models/table.py /tmp/h23/musique-100-qwen2.5-0.5b ...
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def rows(folder: Path) -> list[dict[str, Any]]:
    """The per-pipeline rows of one eval folder's summary."""
    summary = json.loads((folder / "summary.json").read_text())
    found = summary.get("rows") or summary.get("pipelines") or summary
    return list(found.values()) if isinstance(found, dict) else list(found)


def cell(value: Any, digits: int = 3) -> str:
    """A number rounded for the table, or a dash."""
    return "–" if value is None else f"{value:.{digits}f}"


def main() -> None:
    """Print one Markdown row per (set, pipeline)."""
    print("| set | pipeline | n | R@5 | EM | F1 | LLM calls / q | tokens / q | s / q |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for arg in sys.argv[1:]:
        folder = Path(arg)
        for row in rows(folder):
            seconds = (row.get("latency_mean_ms") or 0) / 1000
            print(
                f"| {folder.name} | {Path(str(row['pipeline'])).stem} | {row['questions']} "
                f"| {cell(row.get('recall@5'))} | {cell(row.get('em'))} | {cell(row.get('f1'))} "
                f"| {cell(row.get('llm_calls_per_question'), 1)} "
                f"| {cell(row.get('llm_tokens_per_question'), 0)} | {seconds:.1f} |"
            )


if __name__ == "__main__":
    main()
