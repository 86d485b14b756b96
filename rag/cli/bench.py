"""`rag bench`: indexing throughput, query latency, memory and disk, on a dataset and at scale."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rag.cli.commands import app, reports_errors, settings_with
from rag.cli.output import console, emit_json


@app.command("bench")
@reports_errors
def bench_command(
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="Folder for summary.md, summary.json and the dataset's index (OUT/index, "
            "replaced on every run).",
        ),
    ],
    dataset: Annotated[
        Path | None,
        typer.Option(
            help="Corpus file or folder to index from scratch (empty embedding cache) and "
            "query: passages/s per stage, peak memory of the build, size on disk per part, "
            "query latency p50/p95 per pipeline.",
        ),
    ] = None,
    questions: Annotated[
        Path | None,
        typer.Option(
            help="Questions JSON in the MuSiQue layout (question, paragraphs with title, "
            "paragraph_text, is_supporting) for Recall@2/5. Without it, latency is timed on "
            "queries made of passages' first words and recall is not reported.",
        ),
    ] = None,
    pipelines: Annotated[
        str,
        typer.Option(help="Comma-separated pipelines to time: presets or .yaml files."),
    ] = "dense,bm25,hybrid",
    extractor: Annotated[
        str | None,
        typer.Option(help="OpenIE for graph pipelines: offline, llm or cache:PATH."),
    ] = None,
    scaling: Annotated[
        bool,
        typer.Option(
            "--scaling",
            help="Run the scaling benchmark on synthetic corpora (alone, or after --dataset): "
            "build time, query latency, memory and disk of FAISS flat, FAISS HNSW and BM25 at "
            "each of --sizes, each in a fresh process.",
        ),
    ] = False,
    sizes: Annotated[
        str,
        typer.Option(
            help="Comma-separated passage counts for --scaling. The default takes about 7 "
            "minutes and peaks near 5 GiB of RAM on 2 cores; the HNSW build at 1,000,000 is "
            "half of it.",
        ),
    ] = "10000,100000,1000000",
    kinds: Annotated[
        str, typer.Option(help="Index kinds for --scaling: flat, hnsw, bm25.")
    ] = "flat,hnsw,bm25",
    scaling_queries: Annotated[
        int, typer.Option(min=1, help="Queries per size and kind in --scaling, one at a time.")
    ] = 200,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print summary.json instead of the markdown tables.")
    ] = False,
) -> None:
    """Benchmark memrag's speed, memory and disk use; tables go to stdout and OUT/summary.md.

    Each build and each scaling point runs in a fresh process, so its peak memory is its own.
    Embedder and index settings come from --config, RAG_* variables and their defaults.
    """
    from eval.bench.scaling import KINDS
    from eval.bench.suite import parse_list, parse_sizes, run_bench

    summary, text = run_bench(
        out,
        settings_with(show_progress=False, graph__extractor=extractor),
        dataset=dataset,
        questions=questions,
        pipelines=parse_list(pipelines, "--pipelines"),
        scaling_sizes=parse_sizes(sizes) if scaling else None,
        scaling_kinds=parse_list(kinds, "--kinds", KINDS),
        scaling_queries=scaling_queries,
    )
    if as_json:
        emit_json(summary)
        return
    console.print(text, markup=False, highlight=False, soft_wrap=True)
