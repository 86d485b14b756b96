"""Rendering answers, hits and reports for people (rich) or scripts (JSON).

Text from documents, questions and models is never read as rich markup: it is cleaned of
terminal control characters (`rag.cli.safe.clean`) and printed as `Text`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from rag.cli.safe import PRINT_LIMIT, clean, one_line, strict_json
from rag.types import Answer, Passage


class _PipeFriendlyConsole(Console):
    """A console that ends quietly when its reader leaves (`rag query … | head -1`)."""

    def on_broken_pipe(self) -> None:
        """Drop further output and exit 0: the reader has what it wanted (rich exits 1)."""
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(0)


console = _PipeFriendlyConsole()


def emit_json(data: Any) -> None:
    """Write standard JSON to stdout (NaN and infinities as null), unstyled, for scripts."""
    console.out(strict_json(data), highlight=False)


def print_plain(text: object) -> None:
    """Print a string that may hold corpus text: no markup, no control characters."""
    console.print(Text(clean(text)), soft_wrap=True, highlight=False)


def show_answer(answer: Answer, passages: dict[str, Passage], *, answered: bool = True) -> None:
    """Print an answer, its citations and the ranked hits; only the hits when not `answered`."""
    console.print(Text.assemble(("Q:", "bold"), " ", clean(one_line(answer.question), PRINT_LIMIT)))
    if answered:
        reply = clean(answer.text, PRINT_LIMIT) if answer.text else "(no answer found)"
        console.print(
            Text.assemble(
                ("A:", "bold green"), " ", reply, "  ", (f"({clean(answer.reader)})", "dim")
            )
        )
    for n, cite in enumerate(answer.citations, start=1):
        where = one_line(cite.title or cite.source or cite.passage_id, 200)
        quote = clean(one_line(cite.quote), PRINT_LIMIT)
        console.print(
            Text.assemble(
                f"  [{n}] ", (where, "cyan"), " ", (cite.passage_id, "dim"), f": “{quote}”"
            )
        )
    console.print(Text("retrieved", style="bold"))
    limit = max(40, console.width - 1)
    for rank, hit in enumerate(answer.hits, start=1):
        p = passages.get(hit.passage_id)
        where = (p.title or Path(p.source.split("#")[0]).name) if p else ""
        text = p.text[: 4 * limit] if p else ""
        line = f"{rank:>2}. {hit.score:7.4f}  {hit.passage_id}  {one_line(where, 28)}: {text}"
        console.print(Text(one_line(line, limit)))
    top = [e for e in answer.trace if e.parent is None]
    seconds = sum(e.seconds for e in top)
    console.print(Text(f"{len(top)} steps, {seconds * 1000:.0f} ms", style="dim"))
