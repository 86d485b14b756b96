"""The side-by-side runner on a tiny MuSiQue-style dataset: figures, files, caching, resuming."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import eval as rag_eval
import eval.runner as runner_module
from pipelines.trace_log import read_traces
from rag.settings import Settings
from rag.types import passage_id
from tests.conftest import FACTS, write_tiny_dataset


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    """A folder in the HippoRAG layout with MuSiQue-style questions over the FACTS corpus."""
    return write_tiny_dataset(tmp_path / "tiny")


def test_side_by_side_figures_and_files(dataset: Path, tmp_path: Path, settings: Settings) -> None:
    out = tmp_path / "results"
    table = rag_eval.run(dataset, ["dense", "bm25"], out=out, settings=settings)
    assert [r["pipeline"] for r in table.rows] == ["dense", "bm25"]
    dense = table.row("dense")
    assert dense["questions"] == 3 and dense["recall@1"] == 1.0 and dense["mrr"] == 1.0
    assert dense["hit@1"] == 1.0
    assert 0.0 <= dense["em"] <= dense["f1"] <= 1.0
    assert dense["latency_p95_ms"] >= dense["latency_mean_ms"] * 0.5 > 0
    for name in ("summary.json", "summary.md", "settings.json", "chart.png"):
        assert (out / name).stat().st_size > 0
    records = [json.loads(x) for x in (out / "records" / "dense.jsonl").read_text().splitlines()]
    assert [r["question_id"] for r in records] == ["q1", "q2", "q3"]
    assert records[1]["gold_ids"] == [passage_id(FACTS[2][1], FACTS[2][0])]
    assert records[1]["retrieved"][0][0] == records[1]["gold_ids"][0]
    assert [s["step"] for s in records[0]["trace"]] == ["retrieve:dense", "generate"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["meta"]["dataset"]["questions"] == 3 and "memrag" in summary["meta"]["code"]
    assert "| dense |" in (out / "summary.md").read_text()


def test_killed_run_resumes_and_index_is_reused(
    dataset: Path, tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "results"
    first = rag_eval.run(dataset, ["dense"], out=out, settings=settings)
    path = out / "records" / "dense.jsonl"
    lines = path.read_text().splitlines()
    path.write_text(lines[0] + "\n" + lines[1][:25])  # killed while writing the second record

    def no_rebuild(*_: object, **__: object) -> None:
        raise AssertionError("the cached dataset index should have been reused")

    asked: list[str] = []
    real_ask = runner_module._PipelineRun._ask
    monkeypatch.setattr(runner_module, "ensure_built", no_rebuild)
    monkeypatch.setattr(
        runner_module._PipelineRun,
        "_ask",
        lambda run, item, *a: asked.append(item.id) or real_ask(run, item, *a),
    )
    again = rag_eval.run(dataset, ["dense"], out=out, settings=settings)
    assert asked == ["q2", "q3"]
    assert again.row("dense")["recall@5"] == first.row("dense")["recall@5"]
    assert len(path.read_text().splitlines()) == 3


def test_unknown_pipeline_fails_before_any_work(
    dataset: Path, tmp_path: Path, settings: Settings
) -> None:
    from rag.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown pipeline"):
        rag_eval.run(dataset, ["dense", "psychic"], out=tmp_path / "r", settings=settings)
    assert not (tmp_path / "r" / "records").exists()


def test_rag_eval_command(dataset: Path, tmp_path: Path, session_cache: Path) -> None:
    from typer.testing import CliRunner

    from rag.cli.commands import app

    env = {"RAG_CACHE_DIR": str(session_cache), "RAG_SHOW_PROGRESS": "false"}
    args = ["eval", "--dataset", str(dataset), "-p", "dense,hybrid", "--limit", "2"]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "r"), "--json"], env=env)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert [r["pipeline"] for r in summary["rows"]] == ["dense", "hybrid"]
    assert summary["rows"][0]["questions"] == 2
    bad = CliRunner().invoke(app, ["eval", "--dataset", str(tmp_path / "nope")], env=env)
    assert bad.exit_code == 1 and "nope" in bad.output
    turns = CliRunner().invoke(app, [*args, "--turns-per-passage", "2"], env=env)
    assert turns.exit_code == 1 and "LoCoMo conversations only" in turns.output


def _write_openie(dataset: Path) -> None:
    """A cached OpenIE file for the tiny dataset, one triple (and one malformed) per passage."""
    docs = [
        {
            "title": t,
            "text": x,
            "passage": f"{t}\n{x}",
            "extracted_entities": [t],
            "extracted_triples": [[t, "is described in", f"{t} article"], ["bad"]],
        }
        for t, x in FACTS
    ]
    (dataset / "openie-test.json").write_text(json.dumps({"docs": docs}))


def test_graph_pipelines_build_the_graph_from_the_dataset_openie_file(
    dataset: Path, tmp_path: Path, settings: Settings
) -> None:
    _write_openie(dataset)
    ablations = Path(__file__).resolve().parents[2] / "experiments" / "ablations"
    paper = ablations / "hipporag2-paper.yaml"
    pipelines = ["dense", "hipporag2", str(paper)]
    table = rag_eval.run(dataset, pipelines, out=tmp_path / "r", settings=settings)
    assert [r["pipeline"] for r in table.rows] == ["dense", "hipporag2", "hipporag2-paper"]
    assert table.row("hipporag2")["recall@5"] == 1.0
    manifest = json.loads((Path(table.meta["index"]) / "manifest.json").read_text())
    assert "graph" in manifest["indexes"]
    assert manifest["operators"]["openie"] == f"cache:{dataset / 'openie-test.json'}"
    facts = json.loads((Path(table.meta["index"]) / "graph" / "graph.json").read_text())["facts"]
    assert len(facts) == len(FACTS)  # one per passage; the malformed triple was dropped


def test_a_clue_pipeline_scores_the_same_whatever_else_shares_the_run(
    dataset: Path, tmp_path: Path, settings: Settings
) -> None:
    """A graph pipeline in the run puts a graph in the shared index; memorag-dense names no
    fact source, so its clues, hits and figures must not change (issue 21 item 3)."""
    _write_openie(dataset)
    alone = rag_eval.run(
        dataset, ["memorag-dense"], out=tmp_path / "a", settings=settings, answer=False
    )
    both = rag_eval.run(
        dataset,
        ["memorag-dense", "memorag-hipporag2"],
        out=tmp_path / "b",
        settings=settings,
        answer=False,
    )
    manifest = json.loads((Path(both.meta["index"]) / "manifest.json").read_text())
    assert "graph" in manifest["indexes"] and alone.meta["index"] != both.meta["index"]
    figures = [k for k in alone.row("memorag-dense") if k.startswith(("recall@", "mrr", "clue"))]
    assert {k: both.row("memorag-dense")[k] for k in figures} == {
        k: alone.row("memorag-dense")[k] for k in figures
    }
    assert alone.row("memorag-dense")["clue_drafters"] == {"feedback": 3, "extractive-reader": 3}
    assert both.row("memorag-hipporag2")["clue_drafters"]["graph"] == 3
    ranked = {}
    for side in ("a", "b"):
        lines = (tmp_path / side / "records" / "memorag-dense.jsonl").read_text().splitlines()
        ranked[side] = [json.loads(line)["retrieved"] for line in lines]
    assert ranked["a"] == ranked["b"]
    assert "clue drafters (questions): feedback 3, extractive-reader 3" in both.to_markdown()
    summary = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert summary["rows"][0]["clue_drafters"] == {"feedback": 3, "extractive-reader": 3}


def test_retrieval_only_evaluation_with_traces(
    dataset: Path, tmp_path: Path, settings: Settings
) -> None:
    out = tmp_path / "r"
    table = rag_eval.run(dataset, ["dense", "hybrid"], out=out, settings=settings, answer=False)
    dense = table.row("dense")
    assert dense["recall@1"] == 1.0 and dense["em"] is None and dense["f1"] is None
    assert dense["questions_per_s"] > 0
    assert "questions_per_s" in (out / "summary.md").read_text()
    records = [json.loads(x) for x in (out / "records" / "hybrid.jsonl").read_text().splitlines()]
    assert all(r["prediction"] == "" for r in records)
    assert [s["step"] for s in records[0]["trace"]] == ["retrieve:dense", "retrieve:bm25", "fuse"]
    traces = list(read_traces(out / "traces" / "hybrid.jsonl"))
    assert [t.question_id for t in traces] == ["q1", "q2", "q3"]
    assert traces[0].hits[0].reason is not None


def test_two_eval_processes_share_one_cold_dataset_index(
    dataset: Path, tmp_path: Path, session_cache: Path
) -> None:
    """Two real `rag eval` processes on a dataset no one has indexed: one builds, one waits."""
    corpus = json.loads((dataset / "corpus.json").read_text())
    corpus.append({"title": "Cold", "text": f"A passage unique to {tmp_path.name}."})
    (dataset / "corpus.json").write_text(json.dumps(corpus))
    env = {**os.environ, "RAG_CACHE_DIR": str(session_cache), "RAG_SHOW_PROGRESS": "false"}
    argv = [sys.executable, "-m", "rag.cli", "eval", "--dataset", str(dataset), "-p", "dense"]
    procs = [
        subprocess.Popen(
            [*argv, "--no-answer", "--json", "--out", str(tmp_path / f"r{n}")],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(2)
    ]
    results = [p.communicate(timeout=300) for p in procs]
    for proc, (_, stderr) in zip(procs, results, strict=True):
        assert proc.returncode == 0, stderr
    summaries = [json.loads(stdout) for stdout, _ in results]
    assert summaries[0]["meta"]["index"] == summaries[1]["meta"]["index"]
    assert summaries[0]["rows"][0]["recall@5"] == summaries[1]["rows"][0]["recall@5"] == 1.0
    logs = [line for _, stderr in results for line in stderr.splitlines()]
    assert len([line for line in logs if "building the missing index" in line]) == 1
    index_dir = Path(summaries[0]["meta"]["index"])
    assert json.loads((index_dir / "manifest.json").read_text())["counts"]["passages"] == 9


def test_pipelines_naming_other_tree_builders_run_on_their_own_indexes(
    dataset: Path, tmp_path: Path, settings: Settings
) -> None:
    from rag.manifest import read_manifest

    pipelines = ["dense", "memwalker", "memtree"]
    table = rag_eval.run(dataset, pipelines, out=tmp_path / "r", settings=settings, answer=False)
    assert [r["pipeline"] for r in table.rows] == pipelines
    indexes = table.meta["indexes"]
    assert set(indexes) == {"dense, memwalker", "memtree"}
    built = {
        name: read_manifest(Path(path)).operators["tree_builder"] for name, path in indexes.items()
    }
    assert built == {"dense, memwalker": "memwalker", "memtree": "memtree"}
    assert table.row("memtree")["recall@5"] == 1.0


def test_the_questions_bar_starts_after_every_index_is_built(
    dataset: Path, tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build's minutes are not counted in the questions' rate and ETA."""
    events: list[str] = []
    real_built = runner_module.ensure_built
    real_bar = runner_module.tqdm

    def built(*args: object, **kwargs: object) -> object:
        events.append("build")
        return real_built(*args, **kwargs)  # type: ignore[arg-type]

    def bar(*args: object, **kwargs: object) -> object:
        events.append(f"bar:{kwargs.get('desc')}")
        return real_bar(*args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(runner_module, "ensure_built", built)
    monkeypatch.setattr(runner_module, "tqdm", bar)
    # Two tree builders need two indexes: both are built before any question (a summary size
    # no other test uses keeps the session's cached eval indexes out of it).
    fresh = settings.with_section("tree", summary_tokens=61)
    rag_eval.run(dataset, ["raptor", "memwalker"], out=tmp_path / "r", settings=fresh)
    questions = events.index("bar:tiny")
    assert events.count("build") == 2
    assert all(i < questions for i, e in enumerate(events) if e == "build")


def test_a_new_extraction_rules_version_gets_a_new_graph_index(
    dataset: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ds = runner_module.load_dataset(dataset)
    graph_before = runner_module._index_path(ds, settings, ["dense", "graph"], None)
    dense_before = runner_module._index_path(ds, settings, ["dense"], None)
    monkeypatch.setattr(runner_module, "SPACY_RULES_VERSION", runner_module.SPACY_RULES_VERSION + 1)
    assert runner_module._index_path(ds, settings, ["dense", "graph"], None) != graph_before
    assert runner_module._index_path(ds, settings, ["dense"], None) == dense_before
