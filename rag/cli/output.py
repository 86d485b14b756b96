"""Rendering answers, hits and reports for people (rich) or scripts (JSON)."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.table import Table

from rag.types import Answer, Passage

console = Console()


def emit_json(data: Any) -> None:
    """Write JSON to stdout, unstyled, for scripts."""
    console.print_json(json.dumps(data, default=str), highlight=False)


def show_answer(answer: Answer, passages: dict[str, Passage]) -> None:
    """Print an answer, its citations and the ranked hits."""
    console.print(f"[bold]Q:[/] {answer.question}")
    console.print(f"[bold green]A:[/] {answer.text or '(no answer found)'}  [dim]({answer.reader})[/]")
    for n, cite in enumerate(answer.citations, start=1):
        where = cite.title or cite.source or cite.passage_id
        console.print(f"  [{n}] [cyan]{where}[/] [dim]{cite.passage_id}[/]: “{cite.quote}”")
    table = Table("rank", "score", "passage", "title / source", "text", title="retrieved")
    for rank, hit in enumerate(answer.hits, start=1):
        p = passages.get(hit.passage_id)
        text = (p.text[:70] + "…") if p and len(p.text) > 70 else (p.text if p else "")
        table.add_row(str(rank), f"{hit.score:.4f}", hit.passage_id, (p.title or p.source) if p else "", text)
    console.print(table)
    seconds = sum(e.seconds for e in answer.trace)
    console.print(f"[dim]{len(answer.trace)} steps, {seconds * 1000:.0f} ms[/]")
