"""The performance benchmarks on a tiny corpus and tiny synthetic sizes: fields and sane values."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from eval.bench import run_bench
from eval.bench.suite import parse_sizes
from rag.cli.commands import app
from rag.errors import InputError
from rag.settings import Settings
from tests.conftest import FACTS

runner = CliRunner()
EXTRA = [
    (f"Town {n}", f"Town {n} has {n * 1000 + 17} inhabitants and a river port.") for n in range(12)
]
RECORDS = FACTS + EXTRA  # 20 passages
QUESTIONS = [
    ("When was the Eiffel Tower completed?", 0),
    ("Who released the first version of Python?", 2),
    ("Which river carries the most water on Earth?", 7),
]


def _write_dataset(folder: Path) -> tuple[Path, Path]:
    """A 20-record corpus and three MuSiQue-style questions, each with one gold paragraph."""
    folder.mkdir(parents=True, exist_ok=True)
    corpus, questions = folder / "corpus.json", folder / "questions.json"
    corpus.write_text(json.dumps([{"title": t, "text": x} for t, x in RECORDS]))
    paragraphs = [{"title": t, "paragraph_text": x} for t, x in RECORDS]
    records = [
        {
            "question": q,
            "paragraphs": [{**p, "is_supporting": i == gold} for i, p in enumerate(paragraphs)],
        }
        for q, gold in QUESTIONS
    ]
    questions.write_text(json.dumps(records))
    return corpus, questions


@pytest.fixture(scope="module")
def summary(tmp_path_factory: pytest.TempPathFactory, session_cache: Path) -> dict[str, Any]:
    """One run of both benchmarks: the tiny dataset, and scaling at 200 and 1,000 passages."""
    root = tmp_path_factory.mktemp("bench")
    corpus, questions = _write_dataset(root / "data")
    settings = Settings(cache_dir=session_cache, show_progress=False)
    out = root / "out"
    run_bench(
        out,
        settings,
        dataset=corpus,
        questions=questions,
        scaling_sizes=[1000, 200],
        scaling_queries=20,
    )
    written = json.loads((out / "summary.json").read_text())
    written["markdown"] = (out / "summary.md").read_text()
    return written


def test_machine_and_version_are_described(summary: dict[str, Any]) -> None:
    machine = summary["machine"]
    assert machine["cores"] >= 1 and machine["ram_gib"] > 0 and machine["cpu"]
    assert machine["memrag_version"]
    assert "Machine:" in summary["markdown"] and "cores" in summary["markdown"]


def test_build_throughput_per_stage_and_memory(summary: dict[str, Any]) -> None:
    build = summary["dataset"]["build"]
    assert build["passages"] == 20 and build["seconds"] > 0 and build["passages_per_s"] > 0
    assert {"read", "chunk", "embed", "index:dense", "index:bm25", "other"} <= set(build["stages"])
    assert build["stages"]["embed"]["passages_per_s"] > 0
    assert build["peak_rss_mb"] >= build["rss_start_mb"] > 0


def test_index_size_on_disk_per_part(summary: dict[str, Any]) -> None:
    disk = summary["dataset"]["disk_mb"]
    parts = ("passages.sqlite", "dense/", "bm25/")
    assert all(disk[p] > 0 for p in parts)
    assert disk["total"] >= sum(disk[p] for p in parts)


def test_query_latency_and_recall_per_pipeline(summary: dict[str, Any]) -> None:
    queries = summary["dataset"]["queries"]
    rows = {r["pipeline"]: r for r in queries["rows"]}
    assert set(rows) == {"dense", "bm25", "hybrid"} and queries["peak_rss_mb"] > 0
    for row in rows.values():
        assert row["queries"] == 3
        assert 0 <= row["recall@2"] <= row["recall@5"] <= 1
        assert 0 < row["search_p50_ms"] <= row["search_p95_ms"]
        assert 0 < row["answer_p50_ms"] <= row["answer_p95_ms"]
    assert rows["dense"]["recall@5"] == 1.0
    assert "| pipeline |" in summary["markdown"]


def test_scaling_rows_grow_with_size(summary: dict[str, Any]) -> None:
    scaling = summary["scaling"]
    assert scaling["dim"] == 384 and scaling["queries"] == 20
    rows = {(r["kind"], r["size"]): r for r in scaling["rows"]}
    assert set(rows) == {(k, s) for k in ("flat", "hnsw", "bm25") for s in (200, 1000)}
    for kind in ("flat", "hnsw", "bm25"):
        small, large = rows[(kind, 200)], rows[(kind, 1000)]
        assert large["disk_mb"] > small["disk_mb"] > 0
        for row in (small, large):
            assert row["build_s"] > 0 and row["build_per_s"] > 0 and row["peak_rss_mb"] > 0
            assert 0 < row["query_p50_ms"] <= row["query_p95_ms"]
            assert row["rss_delta_mb"] >= 0
    assert rows[("flat", 1000)]["recall@10"] == 1.0  # exact search finds every source row
    assert rows[("bm25", 1000)]["recall@10"] >= 0.8
    assert "| size | kind |" in summary["markdown"]


def test_cli_without_questions_times_sampled_queries(tmp_path: Path, session_cache: Path) -> None:
    corpus, _ = _write_dataset(tmp_path / "data")
    env = {"RAG_CACHE_DIR": str(session_cache), "RAG_SHOW_PROGRESS": "false"}
    args = ["bench", "--dataset", str(corpus), "--pipelines", "bm25", "--out", str(tmp_path / "o")]
    result = runner.invoke(app, [*args, "--json"], env=env)
    assert result.exit_code == 0, result.output
    queries = json.loads(result.stdout)["dataset"]["queries"]
    assert queries["queries"] == 20 and "first words" in queries["query_source"]
    assert queries["rows"][0]["recall@5"] is None and queries["rows"][0]["search_p50_ms"] > 0
    assert (tmp_path / "o" / "summary.md").read_text().startswith("# memrag benchmarks")


def test_cli_help_explains_each_option() -> None:
    result = runner.invoke(app, ["bench", "--help"])
    assert result.exit_code == 0
    for option in ("--dataset", "--questions", "--pipelines", "--scaling", "--sizes", "--out"):
        assert option in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "nothing to benchmark"),
        (["--scaling", "--sizes", "10k"], "--sizes"),
        (["--dataset", "/no/such/corpus.json"], "no such file"),
        (["--scaling", "--kinds", "annoy"], "unknown annoy"),
    ],
)
def test_cli_errors_are_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["bench", *args, "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and message in result.output
    assert "Traceback" not in result.output


def test_parse_sizes() -> None:
    assert parse_sizes("10000,100_000,1e6") == [10_000, 100_000, 1_000_000]
    with pytest.raises(InputError):
        parse_sizes("0")


def test_ppr_bench_is_a_rag_bench_command(tmp_path: Path) -> None:
    args = ["bench", "ppr", "--sizes", "500", "--queries", "3", "--networkx-budget", "5"]
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "p")])
    assert result.exit_code == 0, result.output
    rows = json.loads((tmp_path / "p" / "results.json").read_text())["ppr"]
    by_method = {r["method"]: r for r in rows}
    assert by_method["networkx"]["max_abs_diff"] < 1e-6
    assert "memrag" in (tmp_path / "p" / "results.md").read_text()


def test_bench_without_a_sub_command_needs_out() -> None:
    result = runner.invoke(app, ["bench", "--scaling"])
    assert result.exit_code != 0 and "--out" in result.output
