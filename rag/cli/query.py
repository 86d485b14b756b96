"""`rag query`: answer a question from an index dir."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rag.cli.app import app, reports_errors, settings_with
from rag.cli.output import emit_json, show_answer


@app.command("query")
@reports_errors
def query_command(
    index: Annotated[Path, typer.Argument(help="Index dir built by `rag index`.")],
    question: Annotated[str, typer.Argument(help="The question to answer.")],
    pipeline: Annotated[
        str,
        typer.Option(
            "--pipeline",
            "-p",
            help="Preset (dense, bm25, hybrid, hipporag, hipporag2) or a pipeline .yaml.",
        ),
    ] = "dense",
    k: Annotated[
        int | None, typer.Option("--k", "-k", help="Passages to retrieve [default 5].")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the answer, citations, hits and trace as JSON.")
    ] = False,
) -> None:
    """Answer QUESTION from INDEX with a pipeline; prints the answer with citations."""
    from pipelines.rag_index import RagIndex

    settings = settings_with(retrieval__top_k=k)
    idx = RagIndex.open(index, settings)
    answer = idx.ask(question, pipeline=pipeline)
    if as_json:
        emit_json(answer.model_dump())
    else:
        hits = [h.passage_id for h in answer.hits]
        show_answer(answer, {p.id: p for p in idx.index_dir.store.get_many(hits)})
    idx.close()
