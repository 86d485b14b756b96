"""`rag index`: build or update an index dir from files and folders."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rag.cli.commands import app, reports_errors, settings_with
from rag.cli.options import RayAddressOption
from rag.cli.output import console, emit_json, print_plain
from rag.cli.paths import output_folder
from rag.errors import InputError


@app.command("index")
@reports_errors
def index_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="Index dir to create or update.")],
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Files or folders (.txt .md .pdf .html .json .jsonl); with --rebuild, "
            "default the files the index was built from."
        ),
    ] = None,
    chunk_size: Annotated[
        int | None, typer.Option(help="Tokens per passage (default 512).")
    ] = None,
    chunk_overlap: Annotated[
        int | None, typer.Option(help="Overlap in tokens (default 64).")
    ] = None,
    embedder: Annotated[
        str | None, typer.Option(help="Model: all-MiniLM-L6-v2, a local folder, or openai:<model>.")
    ] = None,
    precision: Annotated[
        str | None,
        typer.Option(
            help="auto (bf16 where the CPU has it, else int8), fp32 (exact), bf16 or int8."
        ),
    ] = None,
    vector_kind: Annotated[
        str | None, typer.Option(help="FAISS index: auto, flat, hnsw or ivf.")
    ] = None,
    kinds: Annotated[
        str | None,
        typer.Option(
            help="Index kinds to build, comma-separated: dense, bm25, graph, tree, milvus "
            "(memrag[milvus]) (default: dense,bm25; an existing index keeps its kinds)."
        ),
    ] = None,
    graph: Annotated[
        bool, typer.Option("--graph", help="Shorthand: add the knowledge-graph index (HippoRAG).")
    ] = False,
    rebuild: Annotated[
        bool,
        typer.Option(
            "--rebuild",
            help="Build OUT anew, ignoring what it holds (say, a damaged index); cached "
            "embeddings are reused and the old index stays until the new one is swapped in.",
        ),
    ] = False,
    wait: Annotated[
        float,
        typer.Option(
            help="Seconds to wait when another build is writing OUT (default: fail at once)."
        ),
    ] = 0.0,
    extractor: Annotated[
        str | None,
        typer.Option(
            help="OpenIE for --graph: llm, offline, or cache:PATH (a HippoRAG OpenIE file) "
            "(default: llm if one is configured, else offline)."
        ),
    ] = None,
    tree_builder: Annotated[
        str | None,
        typer.Option(
            help="Shape of the tree kind: raptor, memwalker or memtree (default raptor; a "
            "different one rebuilds an existing tree)."
        ),
    ] = None,
    tree_scope: Annotated[
        str | None,
        typer.Option(help="Tree kind: one tree over the corpus, or one per document."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the build report as JSON.")
    ] = False,
    engine: Annotated[
        str | None,
        typer.Option(
            help="Where parsing, embedding and OpenIE run: local (this process) or ray (Ray "
            "Data stages; pip install 'memrag[ray]')."
        ),
    ] = None,
    ray_address: RayAddressOption = None,
) -> None:
    """Index files into OUT. Re-running on the same paths reads only changed files and removes
    passages of deleted files; a killed run leaves the previous index intact and resumes.
    With --kinds …,graph (or --graph), passages are also read into triples and linked in a
    knowledge graph; with tree, they become the leaves of summary trees. One build at a time
    per OUT; queries meanwhile see the previous index."""
    from indexers.build_manifest import recorded_sources
    from indexers.builder import build_index
    from indexers.registry import DEFAULT_KINDS, parse_kinds

    settings = settings_with(
        chunking__chunk_size=chunk_size,
        chunking__chunk_overlap=chunk_overlap,
        embedder__model=embedder,
        embedder__precision=precision,
        vector__kind=vector_kind,
        graph__extractor=extractor,
        tree__builder=tree_builder,
        tree__scope=tree_scope,
        engine__name=engine or ("ray" if ray_address else None),
        engine__address=ray_address,
    )
    wanted = parse_kinds(kinds) if kinds else list(DEFAULT_KINDS)
    if graph and "graph" not in wanted:
        wanted.append("graph")
    if not paths:
        if not rebuild:
            raise InputError("name the files or folders to index (or pass --rebuild)")
        paths = [Path(p) for p in recorded_sources(out)]
    output_folder(out, "--out")
    report = build_index(paths, out, settings, kinds=wanted, wait_s=wait, rebuild=rebuild)
    summary = {
        "out": str(report.out),
        "passages": report.passages,
        "added": report.added,
        "removed": report.removed,
        "sources_read": report.sources_read,
        "sources_unchanged": report.sources_unchanged,
        "skipped": report.skipped,
        "engine": report.engine,
        "cached": report.cached,
        "seconds": round(report.seconds, 3),
        "stage_seconds": {k: round(v, 3) for k, v in report.stage_seconds.items()},
        "passages_per_second": round(report.added / report.seconds, 1) if report.seconds else None,
    }
    if as_json:
        emit_json(summary)
        return
    # The path is the user's text: printed plain, never read as rich markup.
    print_plain(
        f"{report.out}: {report.passages} passages "
        f"(+{report.added} / -{report.removed}), {report.sources_read} files read, "
        f"{report.sources_unchanged} unchanged, {len(report.skipped)} skipped, "
        f"{report.seconds:.1f} s"
    )
    stages = ", ".join(f"{k} {v:.1f}s" for k, v in report.stage_seconds.items())
    console.print(stages, style="dim", markup=False, highlight=False)
