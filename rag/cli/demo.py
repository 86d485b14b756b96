"""`rag demo`: index the bundled sample corpus and answer a question, offline."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from rag.cli.commands import app, reports_errors, settings_with
from rag.cli.output import console, emit_json, show_answer
from rag.cli.paths import output_folder
from rag.cli.query import PIPELINE_HELP
from rag.cli.safe import clean
from rag.llm.spec import LLM_FLAG_HELP, llm_overrides

DEFAULT_QUESTION = "When was the Hubble Space Telescope launched?"


def sample_corpus() -> Path:
    """The folder of sample documents shipped with memrag."""
    return Path(str(resources.files("rag") / "data" / "sample"))


@app.command("demo")
@reports_errors
def demo_command(
    question: Annotated[
        str, typer.Option("--question", help="What to ask the sample corpus.")
    ] = DEFAULT_QUESTION,
    pipeline: Annotated[str, typer.Option("--pipeline", "-p", help=PIPELINE_HELP)] = "hybrid",
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Where to write the demo index (default: <cache_dir>/demo-index)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
    llm: Annotated[str | None, typer.Option("--llm", help=LLM_FLAG_HELP)] = None,
) -> None:
    """Index the bundled sample corpus (6 short documents in 5 formats) and answer a question.

    Offline by default (extractive reader); `--llm local:gemma-270m` reads the answer with a
    small GGUF model run in-process, and the answer's reader names it.
    """
    from pipelines.rag_index import build

    settings = settings_with(**llm_overrides(llm))
    out = output_folder(out, "--out") if out else settings.cache_dir / "demo-index"
    corpus = sample_corpus()
    if not as_json:
        console.print(
            Text.assemble("indexing ", (clean(corpus), "bold"), " into ", (clean(out), "bold"))
        )
    with build([corpus], out, settings) as idx:
        answer = idx.ask(question, pipeline=pipeline)
        if as_json:
            emit_json(answer.model_dump())
            return
        hits = [h.passage_id for h in answer.hits]
        show_answer(answer, {p.id: p for p in idx.index_dir.store.get_many(hits)})
