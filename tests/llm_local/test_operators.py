"""Every LLM operator end to end against a real small model, in-process or on loopback.

The assertions are what each operator guarantees whatever the model says: replies parse,
citations point at passages shown, triples are well formed and their entities occur in the
passage (or the drop is logged), loops stop within their step limits. The answers of a
135M-270M model are not checked for wisdom.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from indexers.builder import build_index
from indexers.tree import TreeIndex, TreeSettings
from pipelines.pipeline import Pipeline
from pipelines.rag_index import RagIndex
from rag.embed.base import Embedder
from rag.llm import ManagedLLM
from rag.operators.clues import CLUE_KINDS, MIN_CLUE_WORDS, LLMClueDrafter
from rag.operators.openie import LLMOpenIE
from rag.operators.reader.llm import LLMReader
from rag.operators.recognition import recognize_facts
from rag.operators.summarize import LLMSummarizer
from rag.query import Query
from rag.settings import Settings
from rag.trace_outputs import IterateOutput
from rag.types import Passage
from tests.llm_local.conftest import LlamaServer, server_settings

#: (model, how it runs): the base model in-process (completion prompts, GBNF grammar), the
#: instruct model behind llama_cpp.server (chat, response_format json_object with a schema).
ROUTES = [("gemma-270m", "in-process"), ("smollm2-135m", "served")]
CURIE = Passage.from_text(
    "Marie Curie was a Polish physicist who won the Nobel Prize in Chemistry in 1911. "
    "She was born in Warsaw and worked in Paris.",
    title="Marie Curie",
)
HUBBLE = Passage.from_text(
    "The Hubble Space Telescope was launched aboard Space Shuttle Discovery in 1990.",
    title="Hubble Space Telescope",
)
REEF = Passage.from_text(
    "The Great Barrier Reef lies off the coast of Queensland, Australia.",
    title="Great Barrier Reef",
)


@pytest.fixture
def llm_for(
    local_llms: Callable[[str], ManagedLLM], served_llm: Callable[..., ManagedLLM]
) -> Callable[[str, str], ManagedLLM]:
    """The model by route: its in-process backend or the client of its server."""

    def get(model: str, route: str) -> ManagedLLM:
        return local_llms(model) if route == "in-process" else served_llm(model, max_tokens=96)

    return get


@pytest.mark.parametrize(("model", "route"), ROUTES)
def test_reader_answers_with_citations_of_shown_passages(
    llm_for: Callable[[str, str], ManagedLLM], model: str, route: str
) -> None:
    llm = llm_for(model, route)
    shown = [REEF, HUBBLE, CURIE]
    reading = LLMReader(llm).read("When was the Hubble Space Telescope launched?", shown)
    assert reading.reader == f"llm:{model}"
    assert reading.details["parse"] == "json"  # structured output: no repair, no fallback
    assert reading.details["structured"] == ("grammar" if route == "in-process" else "json_object")
    assert reading.answer
    assert reading.citations and {c.passage_id for c in reading.citations} <= {p.id for p in shown}
    assert all(c.quote for c in reading.citations)


@pytest.mark.parametrize(("model", "route"), ROUTES)
def test_openie_keeps_well_formed_grounded_triples_or_logs_the_drop(
    llm_for: Callable[[str, str], ManagedLLM],
    model: str,
    route: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    llm = llm_for(model, route)
    with caplog.at_level(logging.INFO, logger="rag.operators.openie"):
        [found] = LLMOpenIE(llm, max_workers=1).extract([CURIE])
    text = CURIE.embedding_text.lower()
    assert all(entity.lower() in text for entity in found.entities)
    assert all(
        len(t) == 3 and all(isinstance(p, str) and p.strip() for p in t) for t in found.triples
    )
    if not found.triples:
        assert "nothing kept" in caplog.text or "dropped" in caplog.text
    assert "no JSON object in reply" not in caplog.text
    assert llm.metrics.stage("openie.ner").calls >= 1


def test_recognition_filter_keeps_numbered_facts_from_a_parsed_reply(
    served_llm: Callable[..., ManagedLLM], caplog: pytest.LogCaptureFixture
) -> None:
    llm = served_llm("smollm2-135m", max_tokens=32)
    facts = [
        "Hubble Space Telescope launched in 1990",
        "Great Barrier Reef lies off Queensland",
        "Marie Curie born in Warsaw",
    ]
    with caplog.at_level(logging.WARNING, logger="rag.operators.recognition"):
        kept = recognize_facts(llm, "When was Hubble launched?", facts)
    assert "no 'relevant' list" not in caplog.text
    assert list(kept) == sorted(set(kept.tolist())) and all(0 <= i < len(facts) for i in kept)


def test_clue_drafter_returns_only_asked_kinds_within_limits(
    local_llms: Callable[[str], ManagedLLM], caplog: pytest.LogCaptureFixture
) -> None:
    llm = local_llms("gemma-270m")
    memory = [CURIE.text, HUBBLE.text]
    with caplog.at_level(logging.WARNING, logger="rag.operators.clues"):
        clues = LLMClueDrafter(llm).draft(
            "Where was the winner of the 1911 chemistry prize born?", memory, CLUE_KINDS, 2
        )
    assert all(c.drafter == "llm" and c.kind in CLUE_KINDS for c in clues)
    for kind in ("span", "sub_question"):
        texts = [c.text for c in clues if c.kind == kind]
        assert len(texts) <= 2 and all(len(t.split()) >= MIN_CLUE_WORDS for t in texts)
    assert sum(c.kind == "draft_answer" for c in clues) <= 1
    assert clues or "no clues" in caplog.text


def test_summaries_and_memwalker_navigation_stop_within_limits(
    embedder: Embedder, served_llm: Callable[..., ManagedLLM], caplog: pytest.LogCaptureFixture
) -> None:
    llm = served_llm("smollm2-135m", max_tokens=64)
    index = TreeIndex(
        embedder, TreeSettings(builder="memwalker", memwalker_fanout=2), LLMSummarizer(llm, 40)
    )
    index.add([CURIE, HUBBLE, REEF])
    summaries = list(index.tree.summary_nodes())
    assert summaries and all(node.text.strip() for node in summaries)
    for node in summaries:
        made_by = node.provenance["summarizer"]
        assert made_by == "llm" or node.provenance.get("fallback")
    query = Query("When was the Hubble Space Telescope launched?", embedder=embedder, llm=llm)
    config = {"mode": "navigate", "navigator": "llm", "max_steps": 4, "max_invalid": 2}
    with caplog.at_level(logging.WARNING):
        result = index.search_with_details(query, 3, config)
    walk = result.details["walk"]
    assert 1 <= len(walk) <= 4 + 1  # a leaf read may follow the last decision
    assert {s["action"] for s in walk} <= {"child", "back", "invalid", "answer"}
    assert result.details["invalid_replies"] <= 2
    if result.details["invalid_replies"]:
        assert "invalid reply" in caplog.text
    assert len(result.hits) == 3


@pytest.fixture
def served_index(
    tmp_path: Path, session_cache: Path, llama_servers: Callable[[str], LlamaServer]
) -> Iterator[RagIndex]:
    """Three passages in a dense index, opened with the served SmolLM2 as its LLM."""
    corpus = tmp_path / "corpus.json"
    corpus.write_text(
        json.dumps([{"title": p.title, "text": p.text} for p in (CURIE, HUBBLE, REEF)])
    )
    settings = Settings(cache_dir=session_cache, show_progress=False)
    build_index([corpus], tmp_path / "idx", settings, kinds=["dense"])
    llm = server_settings(llama_servers("smollm2-135m"), max_tokens=48).model_dump()
    with RagIndex.open(
        tmp_path / "idx", Settings(cache_dir=tmp_path, show_progress=False, llm=llm)
    ) as idx:
        yield idx


def test_ircot_reasoner_stops_within_the_step_limit_and_the_reader_cites(
    served_index: RagIndex,
) -> None:
    pipeline = Pipeline.from_config(
        {
            "steps": [
                {
                    "type": "iterate",
                    "retrieve": {"index": "dense", "k": 3},
                    "max_steps": 2,
                    "reasoner": "llm",
                },
                {"type": "generate", "reader": "llm", "passages": 3},
            ]
        }
    )
    answer = served_index.ask("Where was the Nobel chemistry laureate of 1911 born?", pipeline)
    iterate = answer.trace[0]
    assert iterate.inputs["reasoner"] == "llm"
    assert isinstance(iterate.outputs, IterateOutput)
    assert len(iterate.outputs.thoughts) <= 2
    assert iterate.outputs.stop_reason in {"answer", "no new query", "empty reply", "step limit"}
    assert iterate.llm_calls <= 2
    assert answer.reader == "llm:smollm2-135m" and answer.citations
