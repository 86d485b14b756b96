"""The conversation preset's steps: turns in context of the previous turn, and declining."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from indexers.builder import build_index
from pipelines.rag_index import RagIndex
from pipelines.steps.decline import DECLINED
from pipelines.steps.turn_context import previous_turns
from rag.settings import Settings
from rag.types import Passage

TURNS = [
    ("Melanie", "What did you do at the weekend with your violin?"),
    ("Caroline", "I played at the charity concert downtown."),
    ("Melanie", "My kids loved the camping trip by the lake."),
    ("Caroline", "We baked bread and watched old films all afternoon."),
    ("Melanie", "The museum had a new exhibit about ancient ships."),
]


def _corpus(path: Path, dialogue: bool) -> Path:
    """The turns as a JSONL corpus, with turn metadata only when `dialogue`."""
    records: list[dict[str, Any]] = []
    for n, (speaker, text) in enumerate(TURNS):
        record: dict[str, Any] = {"text": f"{speaker}: {text}"}
        if dialogue:
            record |= {"sample_id": "c", "session": 1, "turn": n, "speaker": speaker}
        records.append(record)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _index(tmp_path: Path, settings: Settings, dialogue: bool) -> RagIndex:
    corpus = _corpus(tmp_path / "turns.jsonl", dialogue)
    build_index([corpus], tmp_path / "index", settings, ["dense", "bm25"])
    return RagIndex.open(tmp_path / "index", settings)


def test_previous_turns_stay_within_a_session() -> None:
    def turn(n: int, session: int, sample: str = "c") -> Passage:
        meta = {"turn": n, "session": session, "sample_id": sample}
        return Passage.from_text(f"t{n}{session}{sample}", metadata=meta)

    passages = [turn(2, 1), turn(0, 1), turn(1, 1), turn(3, 2), turn(5, 1), turn(1, 1, "d")]
    ids = {(p.metadata["turn"], p.metadata["sample_id"]): p.id for p in passages}
    # Windows step by more than one turn: 5 follows 2 in session 1.
    assert previous_turns([*passages, Passage.from_text("no turn")]) == {
        ids[1, "c"]: ids[0, "c"],
        ids[2, "c"]: ids[1, "c"],
        ids[5, "c"]: ids[2, "c"],
    }


def test_a_reply_is_found_through_its_prompt(tmp_path: Path, settings: Settings) -> None:
    question = "What happened with the violin at the weekend?"
    with _index(tmp_path, settings, dialogue=True) as index:
        state = index.pipeline("conversation").run(question, index.resources, answer=False)
        reply = next(p for p in index.index_dir.store.iter_passages() if "charity" in p.text)
        bm25 = [h.passage_id for h in state.results["bm25"]]
        context = state.results["bm25_context"]
        # BM25 alone misses the reply, which shares no word with the question; in context it
        # enters on its prompt's score, at half of it (the preset also gives it a quarter of
        # the next turn's, which matches nothing).
        assert reply.id not in bm25
        prompt_score = state.results["bm25"][0].score
        scored = {h.passage_id: h.score for h in context}
        assert scored[reply.id] == pytest.approx(0.5 * prompt_score)
        assert reply.id in [h.passage_id for h in state.hits[:3]]


def test_outside_dialogues_the_preset_is_dense(tmp_path: Path, settings: Settings) -> None:
    question = "Who went camping by the lake?"
    with _index(tmp_path, settings, dialogue=False) as index:
        state = index.pipeline("conversation").run(question, index.resources, answer=False)
        assert state.results["bm25_context"] == []
        dense = index.pipeline("dense").run(question, index.resources, answer=False)
        top = [h.passage_id for h in state.hits]
        assert top[:5] == [h.passage_id for h in dense.results["dense"][:5]]


def test_weak_evidence_is_declined(tmp_path: Path, settings: Settings) -> None:
    steps = [{"type": "retrieve", "index": "dense"}, {"type": "generate", "reader": "offline"}]
    strict = tmp_path / "strict.yaml"
    loose = tmp_path / "loose.yaml"
    strict.write_text(
        json.dumps({"name": "s", "steps": [*steps, {"type": "decline", "below": 0.99}]})
    )
    loose.write_text(json.dumps({"name": "l", "steps": [*steps, {"type": "decline", "below": -1}]}))
    question = "Which ship sank in the harbour storm?"
    with _index(tmp_path, settings, dialogue=True) as index:
        declined = index.ask(question, pipeline=strict)
        kept = index.ask(question, pipeline=loose)
    assert declined is not None and declined.text == DECLINED and declined.citations
    assert kept is not None and kept.text not in ("", DECLINED)


def test_named_speakers_are_whole_first_names() -> None:
    from pipelines.steps.speaker import named_speakers

    people = {"Caroline", "Melanie", "Jon Smith"}
    assert named_speakers("What did Caroline's mother paint?", people) == {"Caroline"}
    assert named_speakers("Did jon meet Melanie?", people) == {"Jon Smith", "Melanie"}
    assert named_speakers("What did Carol paint?", people) == set()


def test_a_named_speakers_turns_are_raised(tmp_path: Path, settings: Settings) -> None:
    spec = tmp_path / "speaker.yaml"
    steps = [
        {"type": "retrieve", "index": "dense", "k": 5},
        {"type": "speaker", "input": "dense", "boost": 10.0},
    ]
    spec.write_text(json.dumps({"name": "s", "steps": steps}))
    with _index(tmp_path, settings, dialogue=True) as index:
        state = index.pipeline(spec).run("What did Melanie say?", index.resources, answer=False)
        speakers = [
            index.index_dir.store.get(h.passage_id).metadata["speaker"]  # type: ignore[union-attr]
            for h in state.hits
        ]
        before = {h.passage_id: h.score for h in state.results["dense"]}
    # Cosines are positive here, so an elevenfold score puts every Melanie turn first.
    assert all(s > 0 for s in before.values())
    assert speakers == ["Melanie"] * 3 + ["Caroline"] * 2
