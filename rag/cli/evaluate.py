"""`rag eval`: run pipelines side by side on a benchmark and report the figures."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from rag.cli.commands import app, reports_errors, settings_with
from rag.cli.options import RayAddressOption
from rag.cli.output import console, emit_json, print_plain
from rag.cli.paths import output_folder
from rag.cli.safe import clean
from rag.llm.spec import LLM_FLAG_HELP, llm_overrides


@app.command("eval")
@reports_errors
def eval_command(
    dataset: Annotated[
        Path,
        typer.Option(
            "--dataset",
            "-d",
            help="Dataset folder (HippoRAG layout: questions + corpus JSON; a QMSum meetings "
            ".jsonl or a LoCoMo conversations .json, each question asked of its own meeting or "
            "conversation) or questions file.",
        ),
    ],
    pipelines: Annotated[
        str, typer.Option("--pipelines", "-p", help="Comma-separated presets or .yaml files.")
    ] = "dense,bm25,hybrid",
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="Write records, summary.json/.md, settings and chart here."
        ),
    ] = None,
    questions: Annotated[
        Path | None, typer.Option(help="Questions file, when --dataset is a corpus.")
    ] = None,
    corpus: Annotated[
        Path | None, typer.Option(help="Corpus file (needed for a generic JSONL question set).")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Only the first N questions.")] = None,
    sample: Annotated[
        int | None, typer.Option(help="A random sample of N questions (fixed by --seed).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for --sample.")] = 0,
    extractor: Annotated[
        str | None,
        typer.Option(
            help="OpenIE for graph pipelines: offline, spacy, llm or cache:PATH "
            "(default: the dataset's openie*.json if present)."
        ),
    ] = None,
    ks: Annotated[
        str, typer.Option("--k", help="Recall, hit and precision cut-offs, comma-separated.")
    ] = "1,2,5,10",
    no_answer: Annotated[
        bool,
        typer.Option(
            "--no-answer",
            help="Retrieval only: skip the reader (Recall@k, MRR, nDCG, latency; no EM/F1/ROUGE-L)."
            " Much faster.",
        ),
    ] = False,
    turns_per_passage: Annotated[
        int | None,
        typer.Option(min=1, help="LoCoMo: consecutive turns per passage (default 1)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    llm: Annotated[str | None, typer.Option("--llm", help=LLM_FLAG_HELP)] = None,
    engine: Annotated[
        str | None,
        typer.Option(
            help="local, or ray: the index built with Ray Data and the questions spread over "
            "Ray actors that each hold it (pip install 'memrag[ray]')."
        ),
    ] = None,
    ray_address: RayAddressOption = None,
) -> None:
    """Index the dataset's corpus once (cached by content and settings), answer every question
    with each pipeline, and print Recall@k, MRR, EM, F1 and latency side by side (QMSum and
    LoCoMo: one index per meeting or conversation, and their own headline metrics). With --out,
    a killed run resumes where it stopped."""
    from eval.datasets import load_dataset
    from eval.runner import run

    settings = settings_with(
        graph__extractor=extractor,
        engine__name=engine or ("ray" if ray_address else None),
        engine__address=ray_address,
        **llm_overrides(llm),
    )
    if out:
        output_folder(out, "--out")
    ds = load_dataset(
        dataset,
        questions=questions,
        corpus=corpus,
        limit=limit,
        sample=sample,
        seed=seed,
        settings=settings,
        turns_per_passage=turns_per_passage,
    )
    k_values = tuple(int(k) for k in ks.split(","))
    table = run(
        ds,
        [p.strip() for p in pipelines.split(",")],
        out=out,
        settings=settings,
        ks=k_values,
        answer=not no_answer,
    )
    if as_json:
        emit_json(table.to_dict())
        return
    unscored = table.meta["dataset"]["questions_without_gold"]
    skipped = f" ({unscored} without gold, left out of retrieval means)" if unscored else ""
    about = f": {len(ds.questions)} questions{skipped}, index {table.meta['index']}"
    console.print(Text.assemble((clean(ds.name), "bold"), clean(about)))
    print_plain(table.to_markdown())
    if out:
        console.print(Text(f"results in {clean(out)}", style="dim"))
