"""QMSum: turn windows, gold from spans, ids equal to `rag index`'s, one index per meeting."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

import eval as rag_eval
import eval.runner as runner_module
from eval.datasets import load_dataset
from eval.datasets.corpus import record_passage_id
from eval.report import ResultTable
from indexers.builder import build_index
from indexers.index_dir import open_index_dir
from rag.errors import ConfigError, InputError
from rag.settings import ChunkSettings, Settings
from tests.conftest import SHARED_DATA

QMSUM = SHARED_DATA / "qmsum-val"


def _words(n: int, topic: str) -> str:
    """A turn of exactly n words that starts with `topic`."""
    return " ".join((topic.split() + ["and", "so", "on"] * n)[:n])


def _turn(speaker: str, content: str) -> dict[str, str]:
    return {"speaker": speaker, "content": content}


MEETING_1 = [
    _turn("Project Manager", _words(120, "the budget for the remote is twelve euros")),
    _turn("Industrial Designer", _words(80, "batteries last a year")),  # 120 + 80 = 200: fits
    _turn("Marketing", "Okay."),  # would pass 200: a new window starts here
    _turn("User Interface", _words(250, "a rubber casing in yellow with a curved case")),  # alone
    _turn("Project Manager", _words(30, "so the scroll wheel stays")),
    _turn("Marketing", _words(10, "fine by me")),
]
# Windows of meeting 1: turns 0-1, 2, 3, 4-5.
MEETING_2 = [
    _turn("Chair", _words(150, "fishing quotas for the coming season")),
    _turn("Member", _words(150, "the committee says the harbour needs dredging")),
    _turn("Chair", _words(150, "ferry timetables and the island school")),
]
# Windows of meeting 2: turns 0, 1, 2. None mentions rubber, casing, yellow or budget.

MEETINGS: list[dict[str, Any]] = [
    {
        "topic_list": [{"topic": "design", "relevant_text_span": [["0", "5"]]}],
        "general_query_list": [{"query": "Summarize the meeting.", "answer": "They designed it."}],
        "specific_query_list": [
            {
                "query": "What did they decide about the rubber casing?",
                "answer": "A yellow rubber casing.",
                "relevant_text_span": [["3", "4"]],
            },
            {
                "query": "What was said about the budget and the scroll wheel?",
                "answer": "Twelve euros; the wheel stays.",
                "relevant_text_span": [["0", "0"], ["5", "5"]],
            },
        ],
        "meeting_transcripts": MEETING_1,
    },
    {
        "topic_list": [],
        "general_query_list": [],
        "specific_query_list": [
            {
                # Its best lexical match is meeting 1's casing window; only meeting 2 may answer.
                "query": "Did the committee want a yellow rubber casing within budget?",
                "answer": "No, they talked about the harbour.",
                "relevant_text_span": [["1", "1"]],
            }
        ],
        "meeting_transcripts": MEETING_2,
    },
]


def _write_meetings(folder: Path, meetings: list[dict[str, Any]]) -> Path:
    """A QMSum-layout val.jsonl in `folder`."""
    folder.mkdir(exist_ok=True)
    path = folder / "val.jsonl"
    path.write_text("".join(json.dumps(m) + "\n" for m in meetings), encoding="utf-8")
    return path


@pytest.fixture
def qmsum_dir(tmp_path: Path) -> Path:
    """A folder holding two tiny meetings in QMSum's layout."""
    folder = tmp_path / "qmsum-tiny"
    _write_meetings(folder, MEETINGS)
    return folder


def _records(corpus: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in corpus.read_text().splitlines() if line.strip()]


def test_windows_turn_ranges_and_gold(qmsum_dir: Path, settings: Settings) -> None:
    ds = load_dataset(qmsum_dir, settings=settings)
    assert ds.name == "qmsum-tiny" and list(ds.documents) == ["meeting-01", "meeting-02"]
    assert ds.headline == ["hit@5", "precision@5", "ndcg@10", "rougeL"]
    first = _records(ds.documents["meeting-01"])
    assert [(r["turn_start"], r["turn_end"]) for r in first] == [(0, 1), (2, 2), (3, 3), (4, 5)]
    assert {r["meeting"] for r in first} == {"meeting-01"}
    assert first[1]["text"] == "Marketing: Okay."
    assert first[0]["text"].split("\n")[1].startswith("Industrial Designer: batteries last")
    second = _records(ds.documents["meeting-02"])
    assert [(r["turn_start"], r["turn_end"]) for r in second] == [(0, 0), (1, 1), (2, 2)]
    assert ds.corpus_size == 7

    ids = [record_passage_id(r["text"], None) for r in first]
    items = {q.id: q for q in ds.questions}
    assert list(items) == ["meeting-01-s0", "meeting-01-s1", "meeting-01-g0", "meeting-02-s0"]
    assert items["meeting-01-s0"].gold_ids == [ids[2], ids[3]]  # turns 3-4 touch windows 3, 4-5
    assert items["meeting-01-s1"].gold_ids == [ids[0], ids[3]]
    assert items["meeting-01-g0"].gold_ids == [] and items["meeting-01-g0"].answers
    assert items["meeting-02-s0"].metadata["document"] == "meeting-02"
    assert items["meeting-01-s0"].answers == ["A yellow rubber casing."]


def test_cached_corpus_is_reused_and_keyed_by_content(
    qmsum_dir: Path, tmp_path: Path, settings: Settings
) -> None:
    # A cache of its own: this test marks a cached file, which other tests must not see.
    settings = settings.model_copy(update={"cache_dir": tmp_path / "cache"})
    corpus = load_dataset(qmsum_dir, settings=settings).documents["meeting-01"]
    corpus.write_text(corpus.read_text() + "\n")  # a marker: a rewrite would drop it
    again = load_dataset(qmsum_dir / "val.jsonl", settings=settings)
    assert again.documents["meeting-01"] == corpus and corpus.read_text().endswith("\n\n")
    assert again.name == "val"
    changed = [dict(MEETINGS[0], meeting_transcripts=MEETING_1[:2]), MEETINGS[1]]
    changed[0]["specific_query_list"] = []
    _write_meetings(qmsum_dir, changed)
    other = load_dataset(qmsum_dir, settings=settings)
    assert other.corpus_path != again.corpus_path
    assert not list(other.corpus_path.glob(".*.tmp"))


@pytest.mark.parametrize(
    ("chunking", "passages"),
    [(ChunkSettings(), 4), (ChunkSettings(chunk_size=64, chunk_overlap=8), 10)],
)
def test_gold_ids_are_the_ids_rag_index_gives(
    qmsum_dir: Path, tmp_path: Path, settings: Settings, chunking: ChunkSettings, passages: int
) -> None:
    """Also when chunking splits a window: then each of its passages is gold with it."""
    settings = settings.model_copy(update={"chunking": chunking})
    ds = load_dataset(qmsum_dir, settings=settings)
    out = tmp_path / "index"
    build_index([ds.documents["meeting-01"]], out, settings, ["bm25"])
    with open_index_dir(out, settings) as index_dir:
        store = index_dir.store
        held = {pid: store.get(pid) for pid in store.ids()}
    assert len(held) == passages
    casing = {pid for pid, p in held.items() if p is not None and p.metadata["turn_start"] == 3}
    wheel = {pid for pid, p in held.items() if p is not None and p.metadata["turn_start"] == 4}
    gold = next(q for q in ds.questions if q.id == "meeting-01-s0").gold_ids
    assert set(gold) == casing | wheel and set(gold) <= set(held)
    assert len(casing) == (1 if passages == 4 else 4)


def test_each_question_is_asked_of_its_own_meeting_only(
    qmsum_dir: Path, tmp_path: Path, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "r"
    with caplog.at_level(logging.INFO, logger="eval.datasets.qmsum"):
        table = rag_eval.run(qmsum_dir, ["bm25", "dense"], out=out, settings=settings, answer=False)
    assert "its own meeting only" in caplog.text and "1 queries have no evidence" in caplog.text
    ds = load_dataset(qmsum_dir, settings=settings)
    own = {
        doc: {record_passage_id(r["text"], None) for r in _records(path)}
        for doc, path in ds.documents.items()
    }
    records = {}
    for pipeline in ("bm25", "dense"):
        lines = (out / "records" / f"{pipeline}.jsonl").read_text().splitlines()
        records[pipeline] = {json.loads(x)["question_id"]: json.loads(x) for x in lines}
    for pipeline, by_id in records.items():
        for qid, record in by_id.items():
            retrieved = {pid for pid, _ in record["retrieved"]}
            assert retrieved <= own[qid.rsplit("-", 1)[0]], (pipeline, qid)
            assert retrieved or pipeline == "bm25"  # BM25 finds nothing without a shared term
    # Meeting 1's casing window matches best, but only meeting 2's "committee" turn is there.
    lexical = records["bm25"]["meeting-02-s0"]["retrieved"]
    assert lexical[0][0] == record_passage_id(_records(ds.documents["meeting-02"])[1]["text"], None)
    # The general query is asked but left out of the retrieval means, and counted.
    general = records["bm25"]["meeting-01-g0"]["scores"]
    assert general["precision@5"] is None and general["ndcg@10"] is None
    bm25 = table.row("bm25")
    specific = [r["scores"]["ndcg@10"] for q, r in records["bm25"].items() if q != "meeting-01-g0"]
    assert bm25["questions"] == 4 and bm25["ndcg@10"] == pytest.approx(sum(specific) / 3)
    assert bm25["rougeL"] is None
    summary = json.loads((out / "summary.json").read_text())
    assert summary["meta"]["dataset"]["questions_without_gold"] == 1
    assert summary["meta"]["dataset"]["documents"] == 2
    header = (out / "summary.md").read_text().splitlines()[0]
    assert "precision@5" in header and "ndcg@10" in header and "recall@1" not in header
    traces = [
        json.loads(x)["index"] for x in (out / "traces" / "bm25.jsonl").read_text().splitlines()
    ]
    assert len(set(traces)) == 2


def test_meeting_indexes_are_reused_and_answers_get_rouge(
    qmsum_dir: Path, tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = rag_eval.run(qmsum_dir, ["bm25"], settings=settings, answer=False)

    def no_rebuild(*_: object, **__: object) -> None:
        raise AssertionError("each meeting's cached index should have been reused")

    monkeypatch.setattr(runner_module, "ensure_built", no_rebuild)
    table = rag_eval.run(qmsum_dir, ["bm25"], out=tmp_path / "r", settings=settings)
    row = table.row("bm25")
    assert row["ndcg@10"] == first.row("bm25")["ndcg@10"]
    assert row["rougeL"] is not None and 0.0 <= row["rougeL"] <= 1.0
    assert "rougeL" in table.to_markdown().splitlines()[0]


def test_gold_computed_for_other_chunking_is_refused(qmsum_dir: Path, settings: Settings) -> None:
    ds = load_dataset(qmsum_dir, settings=settings)
    other = settings.model_copy(update={"chunking": ChunkSettings(chunk_size=64, chunk_overlap=8)})
    with pytest.raises(ConfigError, match="chunk"):
        rag_eval.run(ds, ["bm25"], settings=other, answer=False)


def _broken(**changes: Any) -> list[dict[str, Any]]:
    """The tiny meetings with the first specific query of meeting 1 changed."""
    meeting = json.loads(json.dumps(MEETINGS[0]))
    meeting["specific_query_list"][0].update(changes)
    return [meeting, MEETINGS[1]]


@pytest.mark.parametrize(
    ("meetings", "message"),
    [
        (_broken(relevant_text_span=[["3"]]), r"span \['3'\] is not two turn numbers"),
        (_broken(relevant_text_span=[["x", "4"]]), "'x' is not a turn number"),
        (_broken(relevant_text_span=[["4", "3"]]), "starts after it ends"),
        (_broken(relevant_text_span=[["3", "9"]]), r"goes past the last turn \(5\)"),
        (_broken(relevant_text_span="3-4"), "must be a list of"),
        ([{"specific_query_list": [], "meeting_transcripts": []}], "has no transcript"),
        ([{"meeting_transcripts": [{"speaker": "A"}]}], r"turn 0: 'content' must be a string"),
    ],
)
def test_malformed_meetings_are_named(
    tmp_path: Path, settings: Settings, meetings: list[dict[str, Any]], message: str
) -> None:
    path = _write_meetings(tmp_path / "bad", meetings)
    with pytest.raises(InputError, match=message) as info:
        load_dataset(path, settings=settings)
    assert str(path) in str(info.value)


def test_questions_option_does_not_apply(qmsum_dir: Path, settings: Settings) -> None:
    with pytest.raises(ConfigError, match="drop questions="):
        load_dataset(qmsum_dir, questions="val.jsonl", settings=settings)


def test_table_shows_headline_metrics_only_when_the_dataset_names_them() -> None:
    row = {"pipeline": "p", "questions": 2, "recall@2": 0.5, "precision@5": 0.2, "ndcg@10": 0.4}
    plain = ResultTable([row], {}).to_markdown().splitlines()[0]
    assert "recall@2" in plain and "precision@5" not in plain
    meta = {"headline": ["hit@5", "precision@5", "ndcg@10"]}
    headline = ResultTable([row], meta).to_markdown()
    assert headline.splitlines()[0] == "| pipeline | questions | precision@5 | ndcg@10 |"
    assert "| 0.200 | 0.400 |" in headline


@pytest.mark.skipif(not (QMSUM / "val.jsonl").is_file(), reason=f"{QMSUM} not present")
def test_the_shared_qmsum_validation_set(settings: Settings) -> None:
    ds = load_dataset(QMSUM, settings=settings)
    assert len(ds.documents) == 35
    windows = sum(len(_records(path)) for path in ds.documents.values())
    assert windows == 1827  # the data README's reference count
    # A few long single turns exceed 512 tokens and are chunked in two.
    assert windows <= ds.corpus_size < windows + 40
    assert len(ds.questions) == 272
    assert sum(bool(q.gold_ids) for q in ds.questions) == 237


def test_rag_eval_command_on_a_meetings_folder(
    qmsum_dir: Path, tmp_path: Path, env: dict[str, str]
) -> None:
    from typer.testing import CliRunner

    from rag.cli.commands import app

    args = ["eval", "--dataset", str(qmsum_dir), "-p", "bm25", "--no-answer"]
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    assert "4 questions (1 without gold" in result.output
    assert "| bm25 | 4 |" in result.output and "ndcg@10" in result.output
