"""Steps trace themselves: nested events, own times, LLM use per step and per query."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from indexers.builder import build_index
from pipelines.pipeline import Pipeline
from pipelines.rag_index import RagIndex
from pipelines.state import QueryState
from pipelines.steps import RetrieveStep
from rag.settings import Settings
from rag.types import BM25Reason, DenseReason, FusionReason
from tests.conftest import SAMPLE
from tests.rag.openai_stub_server import StubOpenAIServer
from tests.stub_llm import stub_llm_settings

GROUPED = {
    "name": "grouped-hybrid",
    "steps": [
        {
            "type": "group",
            "name": "candidates",
            "steps": [
                {"type": "retrieve", "index": "dense", "k": 20},
                {"type": "retrieve", "index": "bm25", "k": 20},
            ],
        },
        {"type": "fuse", "inputs": ["dense", "bm25"]},
        {"type": "generate", "reader": "llm"},
    ],
}
QUESTIONS = [
    "When was the Hubble Space Telescope launched?",
    "In which city was Ada Lovelace born?",
    "Where is the Great Barrier Reef?",
    "Who designed the Eiffel Tower?",
    "Who created Python?",
    "What did Marie Curie discover?",
    "What is the James Webb Space Telescope?",
    "When was the Eiffel Tower finished?",
]


@pytest.fixture(scope="module")
def sample_index(tmp_path_factory: pytest.TempPathFactory, session_cache: Path) -> Path:
    """The sample corpus indexed once for this module."""
    out = tmp_path_factory.mktemp("steps") / "idx"
    build_index([SAMPLE], out, Settings(cache_dir=session_cache, show_progress=False))
    return out


def _tagging_reply(messages: list[dict[str, Any]]) -> str:
    """An LLM reply that quotes the question back, so each query's answer is its own."""
    question = re.search(r"Question: (.*)", messages[-1]["content"])
    return json.dumps({"answer": question.group(1) if question else "?", "citations": [1]})


@pytest.fixture
def llm_index(sample_index: Path, session_cache: Path) -> Iterator[RagIndex]:
    """The sample index opened with an LLM served on loopback (no LLM cache)."""
    with StubOpenAIServer(reply=_tagging_reply) as server:
        llm = stub_llm_settings(server, max_concurrency=8)
        settings = Settings(cache_dir=session_cache, show_progress=False, llm=llm)
        with RagIndex.open(sample_index, settings) as idx:
            yield idx


def test_a_group_nests_its_steps_and_counts_their_llm_calls(llm_index: RagIndex) -> None:
    answer = llm_index.ask(QUESTIONS[0], Pipeline.from_config(GROUPED))
    steps = [(e.id, e.parent, e.step) for e in answer.trace]
    assert steps == [
        (0, None, "group:candidates"),
        (1, 0, "retrieve:dense"),
        (2, 0, "retrieve:bm25"),
        (3, None, "fuse"),
        (4, None, "generate"),
    ]
    group, dense, bm25, _, generate = answer.trace
    assert group.seconds >= dense.seconds + bm25.seconds > 0
    assert dense.seconds != bm25.seconds  # each event has its own time
    assert (generate.llm_calls, group.llm_calls) == (1, 0)
    assert generate.llm_tokens > 0
    assert answer.text == QUESTIONS[0]


def test_llm_use_is_attributed_to_its_own_query_in_8_threads(llm_index: RagIndex) -> None:
    pipeline = Pipeline.from_config(GROUPED)
    questions = QUESTIONS * 3

    def ask(question: str) -> tuple[str, str, list[str], int]:
        answer = llm_index.ask(question, pipeline)
        calls = sum(e.llm_calls for e in answer.trace if e.parent is None)
        return question, answer.text, [h.passage_id for h in answer.hits], calls

    sequential = [ask(q) for q in questions]
    with ThreadPoolExecutor(max_workers=8) as pool:
        threaded = list(pool.map(ask, questions))
    assert threaded == sequential
    assert all(text == question and calls == 1 for question, text, _, calls in threaded)


def test_retrieval_only_skips_the_reader(llm_index: RagIndex) -> None:
    answer = llm_index.ask(QUESTIONS[1], "hybrid", answer=False)
    assert [e.step for e in answer.trace if e.parent is None] == [
        "retrieve:dense",
        "retrieve:bm25",
        "fuse",
    ]
    assert answer.text == "" and answer.hits
    assert sum(e.llm_calls for e in answer.trace) == 0


def test_hybrid_hits_keep_each_retrievers_reason(sample_index: Path, settings: Settings) -> None:
    with RagIndex.open(sample_index, settings) as idx:
        hit = idx.search("coral reef Queensland", k=1, pipeline="hybrid")[0]
    assert isinstance(hit.reason, FusionReason)
    assert set(hit.reason.ranks) == {"dense", "bm25"}
    assert isinstance(hit.reason.sources["dense"], DenseReason)
    assert isinstance(hit.reason.sources["bm25"], BM25Reason)
    assert "queensland" in hit.reason.sources["bm25"].terms


def test_one_index_searched_twice_under_two_names(sample_index: Path, settings: Settings) -> None:
    config = {
        "steps": [
            {"type": "retrieve", "index": "dense", "k": 2, "output": "narrow"},
            {"type": "retrieve", "index": "dense", "k": 6, "output": "wide"},
            {"type": "fuse", "inputs": ["narrow", "wide"], "k": 6},
        ]
    }
    with RagIndex.open(sample_index, settings) as idx:
        state = Pipeline.from_config(config).run(QUESTIONS[2], idx.resources)
    assert len(state.results["narrow"]) == 2 and len(state.results["wide"]) == 6
    assert state.hits[0].passage_id == state.results["narrow"][0].passage_id


def test_clues_are_searched_in_one_batch_and_named_in_reasons(
    sample_index: Path, settings: Settings
) -> None:
    clues = ["Ada Lovelace Analytical Engine", "Hubble launched aboard Discovery"]
    with RagIndex.open(sample_index, settings) as idx:
        pipeline = Pipeline([RetrieveStep(index="dense", query="clues", k=4)])
        state = QueryState(
            question=pipeline_query(idx, "Which machines do these clues name?"),
            resources=idx.resources,
            clues=clues,
        )
        state = pipeline.steps[0].run(state)
    found_by = {
        q for h in state.hits if isinstance(h.reason, FusionReason)
        for r in h.reason.sources.values() if (q := r.query)
    }  # fmt: skip
    assert found_by == set(clues)
    assert state.trace[0].inputs["query"] == clues


def pipeline_query(idx: RagIndex, text: str) -> Any:
    """The Query a pipeline would build for `text` on this index."""
    from rag.query import Query

    return Query(text, embedder=idx.resources.embedder, llm=None)


def test_retrieval_only_skips_a_reader_inside_a_group(
    sample_index: Path, settings: Settings
) -> None:
    nested = {
        "steps": [
            {"type": "group", "name": "all", "steps": [{"type": "retrieve"}, {"type": "generate"}]}
        ]
    }
    with RagIndex.open(sample_index, settings) as idx:
        answer = idx.ask(QUESTIONS[1], Pipeline.from_config(nested), answer=False)
    assert [e.step for e in answer.trace] == ["group:all", "retrieve:dense"]
    assert answer.text == "" and answer.hits
