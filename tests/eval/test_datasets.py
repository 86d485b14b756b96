"""Tests for eval.datasets: MuSiQue on the shared data, HotpotQA-style and JSONL fixtures."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import pytest

from eval.datasets import load_dataset
from eval.datasets.corpus import record_passage_id
from rag.errors import ConfigError, InputError
from rag.ingest.records import read_json
from rag.types import passage_id

SHARED_DATA = Path(os.environ.get("RAG_BENCH_DATA", Path(__file__).parents[3] / "shared" / "data"))
MUSIQUE = SHARED_DATA / "musique-100"
needs_musique = pytest.mark.skipif(
    not (MUSIQUE / "questions.json").is_file(), reason=f"{MUSIQUE} not present"
)

CORPUS = [
    {"title": "Scott Derrickson", "text": "Scott Derrickson is an American director."},
    {"title": "Ed Wood", "text": "Ed Wood was an American filmmaker."},
    # A second passage under the same title: title matching makes both gold.
    {"title": "Ed Wood", "text": "Ed Wood directed Plan 9 from Outer Space."},
    {"title": "Paris", "text": "Paris is the capital of France."},
]


def _write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _hotpot(qid: str, facts: list[list[Any]], **extra: Any) -> dict[str, Any]:
    return {
        "_id": qid,
        "question": "Were Scott Derrickson and Ed Wood of the same nationality?",
        "answer": "yes",
        "supporting_facts": facts,
        "context": [
            ["Scott Derrickson", ["Scott Derrickson is an American director."]],
            ["Ed Wood", ["Ed Wood was an American filmmaker."]],
            ["Ghost", ["A title the corpus ", "lacks."]],
        ],
        **extra,
    }


@pytest.fixture
def hotpot_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "hotpot-mini"
    folder.mkdir()
    _write(folder / "hotpotqa_corpus.json", CORPUS)
    _write(
        folder / "hotpotqa.json",
        [
            _hotpot("h1", [["Scott Derrickson", 0], ["Ed Wood", 0]], type="comparison"),
            _hotpot("h2", [["Ed Wood", 0], ["Ghost", 1]]),
        ],
    )
    return folder


@needs_musique
def test_musique_100(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        data = load_dataset(MUSIQUE)
    assert not caplog.records
    corpus = json.loads((MUSIQUE / "corpus.json").read_text(encoding="utf-8"))
    corpus_ids = {passage_id(r["text"], r["title"]) for r in corpus}
    assert data.name == "musique-100"
    assert len(data.questions) == 100
    assert data.corpus_size == len(corpus_ids) == 1890
    assert sum(len(q.gold_ids) for q in data.questions) / len(data.questions) == 2.37
    assert all(set(q.gold_ids) <= corpus_ids for q in data.questions)
    assert data.openie_path == MUSIQUE / "openie-gpt-3.5-turbo.json"
    first = json.loads((MUSIQUE / "questions.json").read_text(encoding="utf-8"))[0]
    assert data.questions[0].answers == [first["answer"], *first["answer_aliases"]]
    hops = [q.metadata["hops"] for q in data.questions]
    assert (hops.count(2), hops.count(3), hops.count(4)) == (68, 27, 5)


@needs_musique
def test_limit_and_sample_are_stable_and_hashed() -> None:
    full = load_dataset(MUSIQUE)
    ids = [q.id for q in full.questions]
    first = load_dataset(MUSIQUE, limit=10)
    assert [q.id for q in first.questions] == ids[:10]
    sample = load_dataset(MUSIQUE, sample=10, seed=3)
    picked = [q.id for q in sample.questions]
    assert len(picked) == 10 and picked == sorted(picked, key=ids.index)
    assert picked == [q.id for q in load_dataset(MUSIQUE, sample=10, seed=3).questions]
    assert picked != [q.id for q in load_dataset(MUSIQUE, sample=10, seed=4).questions]
    hashes = {full.content_hash, first.content_hash, sample.content_hash}
    assert len(hashes) == 3
    assert full.content_hash == load_dataset(MUSIQUE).content_hash


def test_hotpot_gold_matches_corpus_passages_by_title(
    hotpot_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        data = load_dataset(hotpot_dir)
    assert data.questions_path.name == "hotpotqa.json"
    assert data.openie_path is None
    h1, h2 = data.questions
    ids = {r["text"]: passage_id(r["text"], r["title"]) for r in CORPUS}
    assert h1.id == "h1" and h1.answers == ["yes"]
    assert h1.gold_titles == ["Scott Derrickson", "Ed Wood"]
    assert h1.gold_ids == [ids[CORPUS[0]["text"]], ids[CORPUS[1]["text"]], ids[CORPUS[2]["text"]]]
    assert h1.metadata == {"type": "comparison"}
    # "Ghost" is not in the corpus: h2 keeps an id for it (a miss for recall), and one
    # warning counts the questions so affected.
    assert len(h2.gold_ids) == 3
    assert h2.gold_ids[2] == passage_id("A title the corpus lacks.", "Ghost")
    assert "Ghost" in h2.metadata["unmatched_gold"]
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1 and "1 of 2 questions" in warnings[0]


def test_two_wiki_ids_and_hugging_face_layout(tmp_path: Path) -> None:
    corpus = _write(tmp_path / "corpus.json", CORPUS)
    record = {
        "id": "w1",
        "question": "Where is Paris?",
        "answer": "France",
        "supporting_facts": {"title": ["Paris"], "sent_id": [0]},
        "context": {"title": ["Paris"], "sentences": [["Paris is the capital of France."]]},
    }
    questions = _write(tmp_path / "dev.json", [record])
    data = load_dataset(questions, corpus=corpus)
    assert data.name == "dev"
    assert data.questions[0].id == "w1"
    assert data.questions[0].gold_ids == [passage_id(CORPUS[3]["text"], "Paris")]


def test_jsonl_questions_with_gold_ids_and_titles(tmp_path: Path) -> None:
    corpus = _write(tmp_path / "docs.json", CORPUS)
    paris = passage_id(CORPUS[3]["text"], "Paris")
    lines = [
        {"question": "Capital of France?", "answers": "Paris", "gold_ids": [paris]},
        {"id": "mine", "question": "Who was Ed Wood?", "answers": ["a filmmaker", "director"],
         "gold_titles": ["Ed Wood"]},
    ]  # fmt: skip
    path = tmp_path / "my-set.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    data = load_dataset(path, corpus=corpus)
    first, second = data.questions
    assert (first.id, first.answers, first.gold_ids) == ("q0", ["Paris"], [paris])
    assert second.id == "mine" and second.answers == ["a filmmaker", "director"]
    assert second.gold_ids == [passage_id(r["text"], r["title"]) for r in CORPUS[1:3]]
    assert data.corpus_path == corpus


def test_jsonl_without_corpus_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "my-set.jsonl"
    path.write_text(json.dumps({"question": "q?", "answers": ["a"]}) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"my-set\.jsonl: no corpus given.*corpus="):
        load_dataset(path)


def test_unknown_gold_id_is_kept_and_warned(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    corpus = _write(tmp_path / "corpus.json", CORPUS)
    path = _write(tmp_path / "q.json", [{"question": "q?", "answers": "a", "gold_ids": ["nope"]}])
    with caplog.at_level(logging.WARNING):
        data = load_dataset(path, corpus=corpus)
    assert data.questions[0].gold_ids == ["nope"]
    assert data.questions[0].metadata["unmatched_gold"] == ["nope"]
    assert len(caplog.records) == 1


def test_selection_changes_the_hash_and_is_validated(hotpot_dir: Path) -> None:
    assert load_dataset(hotpot_dir).content_hash != load_dataset(hotpot_dir, limit=1).content_hash
    assert len(load_dataset(hotpot_dir, sample=50).questions) == 2
    with pytest.raises(ConfigError, match="limit or sample, not both"):
        load_dataset(hotpot_dir, limit=1, sample=1)
    with pytest.raises(ConfigError, match="limit must be at least 1"):
        load_dataset(hotpot_dir, limit=0)


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nowhere: no such dataset folder"):
        load_dataset(tmp_path / "nowhere")


def test_folder_without_questions(tmp_path: Path) -> None:
    _write(tmp_path / "corpus.json", CORPUS)
    with pytest.raises(InputError, match="no questions file"):
        load_dataset(tmp_path)


def test_several_question_files_need_a_choice(hotpot_dir: Path) -> None:
    _write(hotpot_dir / "other.json", [_hotpot("x", [["Paris", 0]])])
    with pytest.raises(ConfigError, match=r"several question files.*questions="):
        load_dataset(hotpot_dir)
    assert load_dataset(hotpot_dir, questions="other.json").questions[0].id == "x"


def test_unreadable_json_names_the_file(tmp_path: Path) -> None:
    _write(tmp_path / "corpus.json", CORPUS)
    (tmp_path / "questions.json").write_text("[{not json", encoding="utf-8")
    with pytest.raises(InputError, match=r"questions\.json: invalid JSON at line 1"):
        load_dataset(tmp_path)


def test_unknown_style_lists_the_keys(tmp_path: Path) -> None:
    _write(tmp_path / "corpus.json", CORPUS)
    _write(tmp_path / "questions.json", [{"query": "q?", "label": 1}])
    with pytest.raises(InputError, match=r"unknown question style.*keys: label, query"):
        load_dataset(tmp_path)


def test_hipporag1_title_mapping_corpus_is_read(tmp_path: Path) -> None:
    sentences = ["Paris is the capital of France.", " It lies on the Seine."]
    _write(tmp_path / "hotpotqa_corpus.json", {"Paris": sentences, "Lyon": "Lyon is a city."})
    _write(tmp_path / "hotpotqa.json", [_hotpot("h1", [["Paris", 0]])])
    dataset = load_dataset(tmp_path)
    gold = record_passage_id("Paris is the capital of France. It lies on the Seine.", "Paris")
    assert dataset.questions[0].gold_ids == [gold]
    docs = read_json(tmp_path / "hotpotqa_corpus.json")
    assert [(d.title, d.text) for d in docs] == [
        ("Paris", "Paris is the capital of France. It lies on the Seine."),
        ("Lyon", "Lyon is a city."),
    ]


def test_duplicate_question_ids_are_an_error(tmp_path: Path) -> None:
    corpus = _write(tmp_path / "corpus.json", CORPUS)
    path = _write(tmp_path / "q.json", [{"id": "a", "question": "q?", "answers": "x"}] * 2)
    with pytest.raises(InputError, match="'a' appears twice"):
        load_dataset(path, corpus=corpus)
