"""MemoRAG-style clue drafting: offline drafters, the LLM drafter over a corpus memory, fusion."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from indexers.builder import build_index
from pipelines.pipeline import Pipeline
from pipelines.rag_index import RagIndex
from rag.operators.clues import _parse_clues
from rag.settings import Settings
from rag.trace_outputs import CluesOutput
from rag.types import FusionReason
from tests.rag.openai_stub_server import StubOpenAIServer
from tests.stub_llm import stub_llm_settings

#: A two-hop toy corpus: the question names the film; the answer sits in the director's bio.
TOY = [
    ("Zorblax", "Zorblax is a 1998 science fiction film directed by Jane Roe."),
    ("Jane Roe", "Jane Roe was born in Lisbon and studied painting before turning to film."),
    ("Zorblax sequel", "A sequel to the science fiction film Zorblax was announced in 2005."),
    ("Science fiction", "Science fiction films often feature space travel and robots."),
    ("Lisbon", "Lisbon is the capital of Portugal, on the Tagus estuary."),
    ("Film festivals", "Science fiction films are shown at many film festivals every year."),
]
QUESTION = "Where was the director of the science fiction film Zorblax born?"


def _pipeline(fusion: str = "rrf", drafter: str = "auto", k: int = 2) -> Pipeline:
    step = {"type": "draft_clues", "retrieve": {"index": "dense", "k": k}, "fusion": fusion}
    return Pipeline.from_config({"steps": [{**step, "drafter": drafter}, {"type": "generate"}]})


@pytest.fixture(scope="module")
def toy_index(tmp_path_factory: pytest.TempPathFactory, session_cache: Path) -> Path:
    folder = tmp_path_factory.mktemp("toy")
    corpus = folder / "corpus.json"
    corpus.write_text(json.dumps([{"title": t, "text": x} for t, x in TOY]))
    out = folder / "idx"
    build_index([corpus], out, Settings(cache_dir=session_cache, show_progress=False))
    return out


def test_offline_clues_reach_the_second_hop_the_question_misses(
    toy_index: Path, settings: Settings
) -> None:
    with RagIndex.open(toy_index, settings) as idx:
        plain = idx.ask(QUESTION, Pipeline.from_config({"steps": [{"type": "retrieve", "k": 2}]}))
        clued = idx.ask(QUESTION, _pipeline())
        bio = idx.resources.store.get_many([h.passage_id for h in clued.hits])
    assert "Jane Roe was born" not in " ".join(
        p.text for p in idx_passages(toy_index, settings, plain)
    )
    assert any(p.text.startswith("Jane Roe was born") for p in bio)
    event = clued.trace[0]
    assert isinstance(event.outputs, CluesOutput)
    clues = event.outputs.clues
    assert {c.drafter for c in clues} >= {"feedback", "extractive-reader"}
    assert event.outputs.drafters == ["feedback", "extractive-reader"]  # no fact source named
    hop = next(c for c in clues if c.kind == "sub_question")
    assert hop.text.startswith("Jane Roe")
    second_hop = next(p for p in bio if p.text.startswith("Jane Roe was born"))
    bio_hit = next(h for h in clued.hits if h.passage_id == second_hop.id)
    assert isinstance(bio_hit.reason, FusionReason)
    found_by = {r.query for r in bio_hit.reason.sources.values()}
    assert found_by & {c.text for c in clues}  # a clue, not the question alone, found it
    lineage = {r.query for h in clued.hits if isinstance(h.reason, FusionReason)
               for r in h.reason.sources.values()}  # fmt: skip
    assert hop.text in lineage  # each hit names the clue that found it
    assert clued.trace[-1].inputs["context"] == 1  # the draft answer, as a hint


def idx_passages(index: Path, settings: Settings, answer: Any) -> list[Any]:
    with RagIndex.open(index, settings) as idx:
        return idx.resources.store.get_many([h.passage_id for h in answer.hits])


def test_union_fusion_keeps_the_question_hits_first(toy_index: Path, settings: Settings) -> None:
    with RagIndex.open(toy_index, settings) as idx:
        answer = idx.ask(QUESTION, _pipeline("union", k=2), answer=False)
    out = answer.trace[0].outputs
    assert isinstance(out, CluesOutput)
    first = out.question_hits
    assert [h.passage_id for h in answer.hits[:2]] == first[:2]
    assert [h.score for h in answer.hits] == sorted((h.score for h in answer.hits), reverse=True)


def test_llm_clues_are_drafted_from_the_memory_and_searched(
    toy_index: Path, session_cache: Path
) -> None:
    prompts: list[str] = []

    def reply(messages: list[dict[str, Any]]) -> str:
        content = messages[-1]["content"]
        prompts.append(content)
        if "Write clues" in content:
            return json.dumps(
                {
                    "spans": ["Jane Roe was born in a European capital", "too short"],
                    "sub_questions": ["Where was the film director Jane Roe born?"],
                    "draft_answer": "Lisbon",
                }
            )
        return json.dumps({"answer": "Lisbon", "citations": [1]})

    with StubOpenAIServer(reply=reply) as server:
        llm = stub_llm_settings(server)
        settings = Settings(cache_dir=session_cache, show_progress=False, llm=llm)
        with RagIndex.open(toy_index, settings) as idx:
            answer = idx.ask(QUESTION, _pipeline())
    out = answer.trace[0].outputs
    assert isinstance(out, CluesOutput)
    assert [(c.kind, c.drafter) for c in out.clues] == [
        ("span", "llm"), ("sub_question", "llm"), ("draft_answer", "llm")
    ]  # fmt: skip
    assert out.memory == "retrieved passages" and out.drafters == ["llm"]  # no memory_from
    assert "Zorblax is a 1998" in prompts[0] and QUESTION in prompts[0]
    assert "The answer might be Lisbon." in prompts[1]  # the hint reaches the reader
    assert answer.trace[0].llm_calls == 1 and answer.text == "Lisbon"


def test_clue_replies_are_parsed_tolerantly(caplog: pytest.LogCaptureFixture) -> None:
    lines = "Span: Jane Roe directed the film Zorblax\nSub-question: Where was Jane Roe born?\n"
    assert _parse_clues(lines + "Draft answer: Lisbon") == (
        ["Jane Roe directed the film Zorblax"], ["Where was Jane Roe born?"], "Lisbon"
    )  # fmt: skip
    fenced = '```json\n{"spans": ["a b", "one two three four"], "draft_answer": 3}\n```'
    assert _parse_clues(fenced) == (["one two three four"], [], "")
    assert _parse_clues("I cannot help with that.") == ([], [], "")
