"""`rag query`: answer a question from an index dir."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipelines.presets import preset_names
from rag.cli.commands import app, reports_errors, settings_with
from rag.cli.output import emit_json, print_plain, show_answer
from rag.cli.paths import output_file
from rag.llm.spec import LLM_FLAG_HELP, llm_overrides

#: The --pipeline help of every command that runs one pipeline.
PIPELINE_HELP = f"A preset ({', '.join(preset_names())}) or a pipeline .yaml file."


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
            help=PIPELINE_HELP,
        ),
    ] = "dense",
    k: Annotated[
        int | None, typer.Option("--k", "-k", min=1, help="Passages to retrieve (default 5).")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the answer, citations, hits and trace as JSON.")
    ] = False,
    no_answer: Annotated[
        bool, typer.Option("--no-answer", help="Retrieval only: print the hits, skip the reader.")
    ] = False,
    trace_out: Annotated[
        Path | None,
        typer.Option(
            help="Append the trace (hits with reasons, every step's inputs, outputs, time and "
            "LLM use) to this JSON Lines file, one record per query."
        ),
    ] = None,
    show_trace: Annotated[
        bool, typer.Option("--trace", help="Print the steps as a tree with times and LLM calls.")
    ] = False,
    llm: Annotated[str | None, typer.Option("--llm", help=LLM_FLAG_HELP)] = None,
) -> None:
    """Answer QUESTION from INDEX with a pipeline; prints the answer with citations."""
    from pipelines.rag_index import RagIndex
    from pipelines.trace import format_trace
    from pipelines.trace_log import TraceRecord, append_trace

    settings = settings_with(retrieval__top_k=k, **llm_overrides(llm))
    if trace_out:
        output_file(trace_out, "--trace-out")
    with RagIndex.open(index, settings) as idx:
        pipe = idx.pipeline(pipeline)
        answer = idx.ask(question, pipeline=pipe, answer=not no_answer)
        if trace_out:
            append_trace(trace_out, TraceRecord.of(answer, pipe.name, str(idx.path)))
        if as_json:
            emit_json(answer.model_dump())
            return
        hits = [h.passage_id for h in answer.hits]
        passages = {p.id: p for p in idx.index_dir.store.get_many(hits)}
        show_answer(answer, passages, answered=not no_answer)
        if show_trace:
            print_plain(format_trace(answer.trace))
