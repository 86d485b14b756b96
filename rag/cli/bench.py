"""`rag bench`: indexing throughput, query latency, memory and disk, on a dataset and at scale."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from rag.cli.commands import app, reports_errors, settings_with
from rag.cli.output import console, emit_json
from rag.cli.paths import output_file, output_folder
from rag.cli.safe import strict_json

bench_app = typer.Typer(
    help="Benchmark memrag's speed, memory and disk use (one command line for every bench).",
    invoke_without_command=True,
)
app.add_typer(bench_app, name="bench")


@bench_app.callback()
@reports_errors
def bench_command(
    ctx: typer.Context,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Folder for summary.md, summary.json and the dataset's index (OUT/index, "
            "replaced on every run).",
        ),
    ] = None,
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
        typer.Option(help="OpenIE for graph pipelines: offline, spacy, llm or cache:PATH."),
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

    Without a sub-command: a dataset's build and queries (--dataset) and/or synthetic scaling
    (--scaling). Each build and each scaling point runs in a fresh process, so its peak memory
    is its own. Embedder and index settings come from --config, RAG_* variables and defaults.
    """
    if ctx.invoked_subcommand is not None:
        return
    if out is None:
        raise typer.BadParameter("--out is required", param_hint="--out")
    _check_outputs(out, None)
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


def _check_outputs(out: Path | None, json_out: Path | None) -> None:
    """Fail before any timing when --out or --json-out names the wrong kind of path."""
    if out is not None:
        output_folder(out, "--out")
    if json_out is not None:
        output_file(json_out, "--json-out")


def _print_rows(rows: list[dict[str, Any]], json_out: Path | None) -> None:
    """A markdown table of rows with the machine line; JSON beside it when asked."""
    from eval.bench.system import machine_info, machine_line
    from eval.bench.tables import markdown_table

    machine = machine_info()
    console.print(
        f"machine: {machine_line(machine)}\n\n{markdown_table(rows)}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    if json_out:
        json_out.write_text(strict_json({"machine": machine, "rows": rows}), encoding="utf-8")


@bench_app.command("variants")
@reports_errors
def variants_command(
    corpus: Annotated[Path, typer.Argument(help="Corpus file or folder to index.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Index dir (the last build stays).")],
    variants: Annotated[
        str, typer.Option(help="backend/precision pairs, comma-separated.")
    ] = "openvino/bf16,openvino/int8,openvino/fp32,torch/bf16,torch/fp32",
    json_out: Annotated[Path | None, typer.Option(help="Also write the rows as JSON.")] = None,
) -> None:
    """Indexing throughput per embedder backend and precision, each build from scratch."""
    from eval.bench.variants import bench_variants

    _check_outputs(out, json_out)
    _print_rows(bench_variants(corpus, out, settings_with(), variants), json_out)


@bench_app.command("precision")
@reports_errors
def precision_command(
    data: Annotated[
        list[Path],
        typer.Argument(
            help="MuSiQue- or HotpotQA-layout folders (corpus.json, questions.json), e.g. "
            "musique-100 and hotpotqa-dev-500; --build needs one with an openie*.json."
        ),
    ],
    configs: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated: openvino-fp32, openvino-bf16, openvino-int8, st-fp32, "
            "torch-bf16 (default: OpenVINO fp32, bf16 where the CPU has it, int8)."
        ),
    ] = None,
    build: Annotated[
        bool,
        typer.Option(
            "--build/--no-build",
            help="Also build the first set with cached OpenIE (musique-100) as dense + graph "
            "from scratch per config: build time, passages/s and phrases/s.",
        ),
    ] = True,
    repeats: Annotated[int, typer.Option(min=1, help="Timed passes per set; best shown.")] = 1,
    json_out: Annotated[Path | None, typer.Option(help="Also write all figures as JSON.")] = None,
) -> None:
    """Embedder precisions side by side in one run: passages/s, phrases/s, single-query p50,
    Recall@2/5 and cosine to fp32, and the int8 quality guard (R@5 within 0.005, cos >= 0.99)."""
    from eval.bench.precision import run_precision_bench
    from eval.bench.precision_embed import CONFIGS, parse_args
    from eval.bench.suite import parse_list

    _check_outputs(None, json_out)
    argv = ["--data", *map(str, data), "--repeats", str(repeats)]
    if configs:
        argv += ["--configs", *parse_list(configs, "--configs", list(CONFIGS))]
    argv += ["--build"] if build else []
    argv += ["--json-out", str(json_out)] if json_out else []
    argv += ["--cache-dir", str(settings_with().cache_dir)]
    text = run_precision_bench(parse_args(argv))
    console.print(text, markup=False, highlight=False, soft_wrap=True)


@bench_app.command("queries")
@reports_errors
def queries_command(
    index: Annotated[Path, typer.Argument(help="Index dir built by `rag index`.")],
    questions: Annotated[
        Path | None, typer.Option(help="MuSiQue-layout questions JSON for Recall@2/5.")
    ] = None,
    pipelines: Annotated[
        str, typer.Option(help="Comma-separated pipelines.")
    ] = "dense,bm25,hybrid",
    json_out: Annotated[Path | None, typer.Option(help="Also write the rows as JSON.")] = None,
) -> None:
    """Query latency (retrieval alone and full answer) and Recall@2/5 of a built index."""
    _check_outputs(None, json_out)
    from eval.bench.dataset import bench_queries
    from eval.bench.suite import parse_list

    settings = settings_with(show_progress=False)
    result = bench_queries(index, settings, questions, parse_list(pipelines, "--pipelines"))
    _print_rows(result["rows"], json_out)


@bench_app.command("ppr")
@reports_errors
def ppr_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for results.json/.md.")],
    sizes: Annotated[str, typer.Option(help="Graph node counts.")] = "100000,1000000",
    edges_per_node: Annotated[int, typer.Option(min=1)] = 5,
    queries: Annotated[int, typer.Option(min=1, help="Reset vectors per size.")] = 20,
    damping: Annotated[float, typer.Option(min=0.01, max=0.99)] = 0.5,
    networkx_budget: Annotated[float, typer.Option(help="Seconds; 0 skips networkx.")] = 60.0,
    synonymy: Annotated[
        int, typer.Option(help="Entities for the synonymy kNN bench; 0 skips.")
    ] = 0,
    dim: Annotated[int, typer.Option(help="Synonymy embedding dimension.")] = 384,
    loose_tol: Annotated[
        float, typer.Option(help="An extra memrag row at this L1 tolerance; 0 skips.")
    ] = 1e-6,
    seed: Annotated[int, typer.Option()] = 0,
) -> None:
    """Personalized PageRank against igraph (memrag[bench]) and networkx; synonymy kNN."""
    _check_outputs(out, None)
    from eval.bench.ppr import PPRBenchOptions, run_ppr_bench

    options = PPRBenchOptions(
        out=out,
        sizes=sizes,
        edges_per_node=edges_per_node,
        queries=queries,
        damping=damping,
        networkx_budget=networkx_budget,
        synonymy=synonymy,
        dim=dim,
        loose_tol=loose_tol,
        seed=seed,
    )
    console.print(run_ppr_bench(options), markup=False, highlight=False, soft_wrap=True)


@bench_app.command("tree-updates")
@reports_errors
def tree_updates_command(
    corpus: Annotated[Path, typer.Argument(help="Corpus file or folder.")],
    builder: Annotated[str, typer.Option(help="raptor, memwalker or memtree.")] = "memtree",
    deletes: Annotated[int, typer.Option(min=0, help="Passages deleted after the inserts.")] = 100,
    limit: Annotated[int, typer.Option(min=0, help="Only the first N passages; 0 = all.")] = 0,
    initial: Annotated[
        int, typer.Option(min=0, help="Build from the first N passages at once, then insert.")
    ] = 0,
    json_out: Annotated[Path | None, typer.Option(help="Also write the result as JSON.")] = None,
) -> None:
    """Insert a corpus into a tree one passage at a time, then delete some: time and summaries
    per insert and per delete, and the tree's load checks afterwards."""
    from eval.bench.tree_updates import bench_tree_updates

    _check_outputs(None, json_out)
    result = bench_tree_updates(corpus, settings_with(), builder, deletes, limit, initial)
    emit_json(result)
    if json_out:
        json_out.write_text(strict_json(result), encoding="utf-8")
