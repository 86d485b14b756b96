"""LoCoMo: dated turn passages, gold from evidence, one index per conversation, per-category
scores and the adversarial category's `declined`."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

import eval as rag_eval
from eval.datasets import load_dataset
from eval.datasets.corpus import record_passage_id
from indexers.builder import build_index
from indexers.index_dir import open_index_dir
from rag.errors import ConfigError, InputError
from rag.settings import ChunkSettings, Settings

DATE_A1 = "1:56 pm on 8 May, 2023"
DATE_A3 = "10:37 am on 27 June, 2023"
# Long enough that chunk_size 64 splits its passage: its gold must follow the split.
LONG = " ".join(
    f"On day {n} of the trip we hiked the ridge and watched the eagles circle the valley."
    for n in range(1, 13)
)


def _turn(speaker: str, dia_id: str, text: str, **extra: Any) -> dict[str, Any]:
    return {"speaker": speaker, "dia_id": dia_id, "text": text, **extra}


SAMPLE_A: dict[str, Any] = {
    "sample_id": "conv-a",
    "conversation": {
        "speaker_a": "Caroline",
        "speaker_b": "Melanie",
        "session_1_date_time": DATE_A1,
        "session_1": [
            _turn("Caroline", "D1:1", "I have been practising the violin every evening."),
            _turn(
                "Melanie",
                "D1:2",
                "Look what I painted last weekend!",
                img_url=["https://example.invalid/p.jpg"],
                blip_caption="a painting of a sunset over a lake",
                query="sunset painting",
            ),
            _turn("Caroline", "D1:3", "I went to the LGBTQ support group yesterday."),
        ],
        # No session 2: numbers may have gaps.
        "session_3_date_time": DATE_A3,
        "session_3": [
            _turn("Melanie", "D3:1", "My two kids loved the camping trip."),
            _turn("Caroline", "D3:2", "I played the violin at the charity concert."),
            _turn("Melanie", "D3:3", LONG),
        ],
    },
    "qa": [
        {
            "question": "Where did Caroline play the violin she practises?",
            "answer": "at the charity concert",
            "evidence": ["D1:1", "D3:2"],
            "category": 1,
        },
        {
            "question": "When did Caroline go to the LGBTQ support group?",
            "answer": "7 May 2023",
            "evidence": ["D1:3"],
            "category": 2,
        },
        {
            "question": "How many kids does Melanie have?",
            "answer": 2,
            "evidence": ["D3:1"],
            "category": 3,
        },
        {
            "question": "What did Melanie paint?",
            "answer": "a sunset over a lake",
            "evidence": ["D1:2", "D9:9"],  # D9:9 matches no turn
            "category": 4,
        },
        {
            "question": "What did Melanie watch circle the valley?",
            "answer": "eagles",
            "evidence": ["D3:3"],
            "category": 4,
        },
        {
            "question": "What instrument does Melanie play at concerts?",
            "adversarial_answer": "violin",
            "evidence": ["D3:2"],
            "category": 5,
        },
    ],
    "event_summary": {},
    "observation": {},
    "session_summary": {},
}

SAMPLE_B: dict[str, Any] = {
    "sample_id": "conv-b",
    "conversation": {
        "speaker_a": "Jon",
        "speaker_b": "Gina",
        "session_1_date_time": "4:04 pm on 20 January, 2023",
        "session_1": [
            _turn("Jon", "D1:1", "I lost my job as a banker, so I am opening a dance studio."),
            _turn("Gina", "D1:2", "I lost my job too and started an online clothing store."),
        ],
        "session_2_date_time": "2:32 pm on 29 January, 2023",
        "session_2": [
            _turn("Gina", "D2:1", "The store sold its first hoodies this week."),
            _turn("Jon", "D2:2", "I found a space for the studio downtown."),
        ],
    },
    "qa": [
        {
            # Its words match conv-a's violin turns best; only conv-b's turns may come back.
            "question": "Did Jon play the violin at a charity concert for his dance studio?",
            "answer": "a space downtown",
            "evidence": ["D2:2"],
            "category": 4,
        },
        {
            "question": "What does Gina's store sell?",
            "answer": "hoodies",
            "evidence": ["D2:1"],
            "category": 4,
        },
        {
            "question": "What color is Jon's violin?",
            "adversarial_answer": "brown",
            "evidence": [],
            "category": 5,
        },
    ],
}


def _write(folder: Path, samples: list[dict[str, Any]]) -> Path:
    """A LoCoMo-layout locomo10.json in `folder`."""
    folder.mkdir(exist_ok=True)
    path = folder / "locomo10.json"
    path.write_text(json.dumps(samples), encoding="utf-8")
    return path


@pytest.fixture
def locomo_dir(tmp_path: Path) -> Path:
    """A folder holding two tiny conversations in LoCoMo's layout."""
    folder = tmp_path / "locomo-tiny"
    _write(folder, [SAMPLE_A, SAMPLE_B])
    return folder


def _records(corpus: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in corpus.read_text().splitlines() if line.strip()]


def _ids_by_dia(corpus: Path) -> dict[str, str]:
    """Turn dia_id -> the id `rag index` gives its one-turn passage (default chunking)."""
    return {r["dia_ids"]: record_passage_id(r["text"], None) for r in _records(corpus)}


def test_turn_passages_keep_dates_speakers_and_dia_ids(
    locomo_dir: Path, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="eval.datasets.locomo"):
        ds = load_dataset(locomo_dir, settings=settings)
    assert "its own conversation only" in caplog.text
    assert ds.name == "locomo-tiny" and list(ds.documents) == ["conv-a", "conv-b"]
    assert ds.headline == ["recall@5", "recall@10", "f1", "declined_cat5"]
    first = _records(ds.documents["conv-a"])
    assert [r["dia_ids"] for r in first] == ["D1:1", "D1:2", "D1:3", "D3:1", "D3:2", "D3:3"]
    assert [r["session"] for r in first] == [1, 1, 1, 3, 3, 3]
    assert (
        first[0]["text"]
        == f"[{DATE_A1}] Caroline: I have been practising the violin every evening."
    )
    assert first[1]["text"] == (
        f"[{DATE_A1}] Melanie: Look what I painted last weekend! "
        "[shares a photo: a painting of a sunset over a lake]"
    )
    assert first[3]["date_time"] == DATE_A3 and first[3]["text"].startswith(f"[{DATE_A3}] Melanie:")
    assert {r["sample_id"] for r in first} == {"conv-a"}
    assert len(_records(ds.documents["conv-b"])) == 4 and ds.corpus_size == 10


def test_questions_categories_answers_and_gold(
    locomo_dir: Path, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        ds = load_dataset(locomo_dir, settings=settings)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert (
        len(warnings) == 1
        and "1 of 9 questions have evidence dia_ids that match no turn" in (warnings[0])
    )
    assert str(locomo_dir / "locomo10.json") in warnings[0]
    items = {q.id: q for q in ds.questions}
    assert list(items)[:2] == ["conv-a-q0", "conv-a-q1"] and len(items) == 9
    turn = _ids_by_dia(ds.documents["conv-a"])
    assert items["conv-a-q0"].gold_ids == [turn["D1:1"], turn["D3:2"]]
    temporal = items["conv-a-q1"]
    assert temporal.metadata["category"] == 2 and temporal.answers == ["7 May 2023"]
    assert temporal.gold_ids == [turn["D1:3"]]
    assert items["conv-a-q2"].answers == ["2"]  # a number in the data, a string here
    painted = items["conv-a-q3"]
    assert painted.gold_ids == [turn["D1:2"]] and painted.metadata["unmatched_gold"] == ["D9:9"]
    adversarial = items["conv-a-q5"]
    assert adversarial.answers == [] and adversarial.metadata["adversarial"] is True
    assert adversarial.metadata["category"] == 5
    assert adversarial.metadata["adversarial_answer"] == "violin"
    assert items["conv-b-q2"].gold_ids == [] and items["conv-b-q0"].metadata["document"] == "conv-b"
    assert "adversarial" not in items["conv-a-q0"].metadata


def test_windows_of_turns_stay_within_a_session(locomo_dir: Path, settings: Settings) -> None:
    ds = load_dataset(locomo_dir, settings=settings, turns_per_passage=2)
    first = _records(ds.documents["conv-a"])
    assert [r["dia_ids"] for r in first] == ["D1:1,D1:2", "D1:3", "D3:1,D3:2", "D3:3"]
    assert first[0]["text"].startswith(f"[{DATE_A1}] Caroline: I have been")
    assert "\nMelanie: Look what I painted" in first[0]["text"]
    ids = [record_passage_id(r["text"], None) for r in first]
    multi_hop = next(q for q in ds.questions if q.id == "conv-a-q0")
    assert multi_hop.gold_ids == [ids[0], ids[2]]
    default = load_dataset(locomo_dir, settings=settings)
    assert default.documents["conv-a"] != ds.documents["conv-a"]
    assert default.content_hash != ds.content_hash
    with pytest.raises(ConfigError, match="at least 1"):
        load_dataset(locomo_dir, settings=settings, turns_per_passage=0)


def test_turns_carry_speaker_and_position_as_fields(locomo_dir: Path, settings: Settings) -> None:
    first = _records(load_dataset(locomo_dir, settings=settings).documents["conv-a"])
    assert [r["speaker"] for r in first[:3]] == ["Caroline", "Melanie", "Caroline"]
    # Positions count over the whole conversation, across sessions.
    assert [r["turn"] for r in first] == [0, 1, 2, 3, 4, 5]
    assert all("context_dia_ids" not in r for r in first)
    windows = _records(
        load_dataset(locomo_dir, settings=settings, turns_per_passage=2).documents["conv-a"]
    )
    assert [r["turn"] for r in windows] == [0, 2, 3, 5]
    assert windows[0]["speaker"] == "Caroline,Melanie"


def test_previous_turn_context_is_shown_but_not_gold(locomo_dir: Path, settings: Settings) -> None:
    from eval.datasets.locomo import load_locomo

    ds = load_locomo(
        locomo_dir / "locomo10.json",
        "locomo-tiny",
        {},
        settings,
        turns_per_passage=1,
        context_turns=1,
    )
    first = _records(ds.documents["conv-a"])
    assert [r["dia_ids"] for r in first] == ["D1:1", "D1:2", "D1:3", "D3:1", "D3:2", "D3:3"]
    # A session's first turn has no context; later ones show the turn before, after the date.
    assert "context_dia_ids" not in first[0] and "context_dia_ids" not in first[3]
    assert first[2]["context_dia_ids"] == "D1:2"
    assert first[2]["text"].startswith(f"[{DATE_A1}] Melanie: Look what I painted")
    assert first[2]["text"].endswith("\nCaroline: I went to the LGBTQ support group yesterday.")
    temporal = next(q for q in ds.questions if q.id == "conv-a-q1")
    assert temporal.gold_ids == [record_passage_id(first[2]["text"], None)]
    with pytest.raises(ConfigError, match="context_turns must be at least 0"):
        load_locomo(locomo_dir / "locomo10.json", "x", {}, settings, context_turns=-1)


@pytest.mark.parametrize(
    ("chunking", "split"),
    [(ChunkSettings(), False), (ChunkSettings(chunk_size=64, chunk_overlap=8), True)],
)
def test_gold_ids_are_the_ids_rag_index_gives(
    locomo_dir: Path, tmp_path: Path, settings: Settings, chunking: ChunkSettings, split: bool
) -> None:
    settings = settings.model_copy(update={"chunking": chunking})
    ds = load_dataset(locomo_dir, settings=settings)
    out = tmp_path / "index"
    build_index([ds.documents["conv-a"]], out, settings, ["bm25"])
    with open_index_dir(out, settings) as index_dir:
        store = index_dir.store
        held = [p for p in (store.get(pid) for pid in store.ids()) if p is not None]
    by_dia: dict[str, set[str]] = {}
    for passage in held:
        by_dia.setdefault(passage.metadata["dia_ids"], set()).add(passage.id)
        assert passage.metadata["sample_id"] == "conv-a" and "date_time" in passage.metadata
    assert len(by_dia["D3:3"]) > 1 if split else len(held) == 6
    items = {q.id: q for q in ds.questions}
    assert set(items["conv-a-q4"].gold_ids) == by_dia["D3:3"]
    assert set(items["conv-a-q0"].gold_ids) == by_dia["D1:1"] | by_dia["D3:2"]


def _read_records(out: Path, pipeline: str) -> dict[str, dict[str, Any]]:
    lines = (out / "records" / f"{pipeline}.jsonl").read_text().splitlines()
    return {json.loads(x)["question_id"]: json.loads(x) for x in lines}


def test_each_question_is_asked_of_its_own_conversation_with_per_category_scores(
    locomo_dir: Path, tmp_path: Path, settings: Settings
) -> None:
    ds = load_dataset(locomo_dir, settings=settings)
    own = {doc: set(_ids_by_dia(path).values()) for doc, path in ds.documents.items()}

    retrieval = rag_eval.run(ds, ["dense"], out=tmp_path / "r", settings=settings, answer=False)
    records = _read_records(tmp_path / "r", "dense")
    for qid, record in records.items():
        retrieved = {pid for pid, _ in record["retrieved"]}
        assert retrieved and retrieved <= own[qid.rsplit("-", 1)[0]], qid
    row = retrieval.row("dense")
    assert row["recall@5"] is not None and row["f1"] is None
    assert row["f1_cat1"] is None and row["declined_cat5"] is None
    assert (
        records["conv-a-q5"]["category"] == 5 and records["conv-a-q5"]["scores"]["declined"] is None
    )

    table = rag_eval.run(ds, ["dense"], out=tmp_path / "a", settings=settings)
    records = _read_records(tmp_path / "a", "dense")
    adversarial = [r for r in records.values() if r["category"] == 5]
    assert len(adversarial) == 2
    for record in adversarial:
        assert record["scores"]["em"] is None and record["scores"]["f1"] is None
        assert record["scores"]["declined"] in (0.0, 1.0)
    answered = [r["scores"]["f1"] for r in records.values() if r["category"] != 5]
    row = table.row("dense")
    assert row["f1"] == pytest.approx(sum(answered) / len(answered))
    assert row["declined_cat5"] == pytest.approx(
        sum(r["scores"]["declined"] for r in adversarial) / 2
    )
    for category in (1, 2, 3, 4):
        members = [r["scores"]["f1"] for r in records.values() if r["category"] == category]
        assert row[f"f1_cat{category}"] == pytest.approx(sum(members) / len(members))
    assert "f1_cat5" not in row and "declined_cat4" not in row
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert summary["meta"]["dataset"]["documents"] == 2
    assert {"f1_cat1", "f1_cat2", "f1_cat3", "f1_cat4", "declined_cat5"} <= set(summary["rows"][0])
    header = (tmp_path / "a" / "summary.md").read_text().splitlines()[0]
    assert header.startswith("| pipeline | questions | recall@5 | recall@10 | f1 | declined_cat5 |")


def _broken(sample: dict[str, Any]) -> list[dict[str, Any]]:
    return [sample, SAMPLE_B]


def _with_qa(qa: dict[str, Any]) -> list[dict[str, Any]]:
    return _broken(dict(SAMPLE_A, qa=[qa]))


def _with_turn(turn: dict[str, Any]) -> list[dict[str, Any]]:
    conversation = dict(SAMPLE_A["conversation"], session_1=[turn])
    return _broken(dict(SAMPLE_A, conversation=conversation))


@pytest.mark.parametrize(
    ("samples", "message"),
    [
        (_broken({"sample_id": "conv-x", "qa": []}), r"\(conv-x\) has no conversation"),
        (_with_qa({"answer": "x", "evidence": [], "category": 1}), r"qa\[0\] has no question"),
        (_with_qa({"question": "Why?", "answer": "x", "category": 7}), "'category' must be one of"),
        (_with_qa({"question": "Why?", "category": 1, "evidence": "D1:1"}), "'evidence' must be"),
        (_with_turn({"speaker": "Caroline", "text": "Hi."}), r"session_1, turn 0 has no 'dia_id'"),
        (_with_turn({"dia_id": "D1:1", "text": "Hi."}), r"turn 0 \(D1:1\): 'speaker' must be"),
        (
            _broken(dict(SAMPLE_A, conversation={"session_1": []})),
            "the conversation has no turns",
        ),
        (
            _broken(dict(SAMPLE_A, conversation={"session_4": [_turn("A", "D4:1", "Hi.")]})),
            "session_4 has no date",
        ),
        ([SAMPLE_A, SAMPLE_A], "sample_id 'conv-a' appears twice"),
    ],
)
def test_malformed_samples_are_named(
    tmp_path: Path, settings: Settings, samples: list[dict[str, Any]], message: str
) -> None:
    path = _write(tmp_path / "bad", samples)
    with pytest.raises(InputError, match=message) as info:
        load_dataset(path, settings=settings)
    assert str(path) in str(info.value)


def test_detection_by_content(locomo_dir: Path, tmp_path: Path, settings: Settings) -> None:
    file = load_dataset(locomo_dir / "locomo10.json", settings=settings)
    assert file.name == "locomo10" and len(file.documents) == 2
    with pytest.raises(ConfigError, match="drop questions="):
        load_dataset(locomo_dir, questions="locomo10.json", settings=settings)
    # A folder with a corpus file is a HippoRAG-layout set, not a LoCoMo one.
    (locomo_dir / "corpus.json").write_text(json.dumps([{"title": "t", "text": "x"}]))
    with pytest.raises(InputError, match="question"):
        load_dataset(locomo_dir, settings=settings)
    with pytest.raises(ConfigError, match="LoCoMo conversations only"):
        load_dataset(locomo_dir, settings=settings, turns_per_passage=2)


def test_a_missing_answer_is_reported(
    tmp_path: Path, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    qa = {"question": "What?", "evidence": ["D1:1"], "category": 4}
    path = _write(tmp_path / "no-answer", _with_qa(qa))
    with caplog.at_level(logging.WARNING):
        ds = load_dataset(path, settings=settings)
    assert "1 questions of categories 1-4 have no answer" in caplog.text
    assert ds.questions[0].answers == []


def test_rag_eval_command_on_a_conversations_folder(locomo_dir: Path, env: dict[str, str]) -> None:
    from typer.testing import CliRunner

    from rag.cli.commands import app

    args = ["eval", "--dataset", str(locomo_dir), "-p", "bm25", "--no-answer"]
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    assert "9 questions (1 without gold" in result.output
    assert "| bm25 | 9 |" in result.output and "recall@10" in result.output
    windows = CliRunner().invoke(app, [*args, "--turns-per-passage", "2", "--json"], env=env)
    assert windows.exit_code == 0, windows.output
    assert json.loads(windows.stdout)["rows"][0]["questions"] == 9
