"""Rendering answers, hits and reports for people (rich) or scripts (JSON)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from rich.console import Console

from rag.types import Answer, Passage


class _PipeFriendlyConsole(Console):
    """A console that ends quietly when its reader leaves (`rag query … | head -1`)."""

    def on_broken_pipe(self) -> None:
        """Drop further output and exit 0: the reader has what it wanted (rich exits 1)."""
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(0)


console = _PipeFriendlyConsole()


def emit_json(data: Any) -> None:
    """Write JSON to stdout, unstyled, for scripts."""
    console.print_json(json.dumps(data, default=str), highlight=False)


def show_answer(answer: Answer, passages: dict[str, Passage]) -> None:
    """Print an answer, its citations and the ranked hits."""
    console.print(f"[bold]Q:[/] {answer.question}")
    console.print(
        f"[bold green]A:[/] {answer.text or '(no answer found)'}  [dim]({answer.reader})[/]"
    )
    for n, cite in enumerate(answer.citations, start=1):
        where = cite.title or cite.source or cite.passage_id
        console.print(f"  [{n}] [cyan]{where}[/] [dim]{cite.passage_id}[/]: “{cite.quote}”")
    console.print("[bold]retrieved[/]")
    for rank, hit in enumerate(answer.hits, start=1):
        p = passages.get(hit.passage_id)
        where = (p.title or Path(p.source.split("#")[0]).name) if p else ""
        text = " ".join(p.text.split()) if p else ""
        line = f"{rank:>2}. {hit.score:7.4f}  {hit.passage_id}  {where[:28]}: {text}"
        limit = max(40, console.width - 1)
        console.print(line if len(line) <= limit else line[: limit - 1] + "…", highlight=False)
    top = [e for e in answer.trace if e.parent is None]
    seconds = sum(e.seconds for e in top)
    console.print(f"[dim]{len(top)} steps, {seconds * 1000:.0f} ms[/]")
