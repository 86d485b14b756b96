"""The side-by-side runner on a tiny MuSiQue-style dataset: figures, files, caching, resuming."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import eval as rag_eval
import eval.runner as runner_module
from rag.settings import Settings
from rag.types import passage_id
from tests.conftest import FACTS

QUESTIONS = [
    ("q1", "When was the Eiffel Tower completed?", "1889", 0),
    ("q2", "Who released the first version of Python?", "Guido van Rossum", 2),
    ("q3", "Which river carries the most water?", "Amazon River", 7),
]


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    """A folder in the HippoRAG layout with MuSiQue-style questions over the FACTS corpus."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    corpus = [{"title": t, "text": x} for t, x in FACTS]
    (folder / "corpus.json").write_text(json.dumps(corpus))
    questions = [
        {
            "id": qid,
            "question": q,
            "answer": a,
            "answer_aliases": [],
            "paragraphs": [
                {"title": t, "paragraph_text": x, "is_supporting": i == gold}
                for i, (t, x) in enumerate(FACTS)
            ],
        }
        for qid, q, a, gold in QUESTIONS
    ]
    (folder / "questions.json").write_text(json.dumps(questions))
    return folder


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


def test_graph_pipelines_build_the_graph_from_the_dataset_openie_file(
    dataset: Path, tmp_path: Path, settings: Settings
) -> None:
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
    paper = Path(__file__).resolve().parents[2] / "eval" / "ablations" / "hipporag2-paper.yaml"
    pipelines = ["dense", "hipporag2", str(paper)]
    table = rag_eval.run(dataset, pipelines, out=tmp_path / "r", settings=settings)
    assert [r["pipeline"] for r in table.rows] == ["dense", "hipporag2", "hipporag2-paper"]
    assert table.row("hipporag2")["recall@5"] == 1.0
    manifest = json.loads((Path(table.meta["index"]) / "manifest.json").read_text())
    assert "graph" in manifest["indexes"]
    assert manifest["operators"]["openie"] == f"cache:{dataset / 'openie-test.json'}"
    facts = json.loads((Path(table.meta["index"]) / "graph" / "graph.json").read_text())["facts"]
    assert len(facts) == len(FACTS)  # one per passage; the malformed triple was dropped
