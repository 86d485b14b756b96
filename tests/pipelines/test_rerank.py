"""The rerank step: offline by the best-sentence score, with an LLM by P(yes) from logprobs."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from indexers.builder import build_index
from pipelines.pipeline import Pipeline
from pipelines.rag_index import RagIndex
from rag.errors import ConfigError
from rag.operators.registry import role
from rag.operators.rerank import yes_probability
from rag.settings import Settings
from rag.trace_outputs import RerankOutput
from rag.types import FusionReason, RerankReason
from tests.conftest import SAMPLE
from tests.rag.openai_stub_server import StubOpenAIServer
from tests.stub_llm import stub_llm_settings

QUESTION = "When was the Hubble Space Telescope launched?"


@pytest.fixture(scope="module")
def sample_index(tmp_path_factory: pytest.TempPathFactory, session_cache: Path) -> Path:
    """The sample corpus indexed once for this module."""
    out = tmp_path_factory.mktemp("rerank") / "idx"
    build_index([SAMPLE], out, Settings(cache_dir=session_cache, show_progress=False))
    return out


def test_yes_probability_counts_every_spelling_and_renormalizes() -> None:
    top = [(" Yes", math.log(0.6)), ("yes", math.log(0.1)), ("No", math.log(0.1)), ("Maybe", -1)]
    relevance = yes_probability(top)
    assert relevance.score == pytest.approx(0.7 / 0.8)
    assert relevance.details == {"p_yes": pytest.approx(0.7), "p_no": pytest.approx(0.1)}
    assert yes_probability([("Perhaps", -0.1)]).score == 0.5  # no evidence either way


def test_the_reranker_role_names_its_implementations() -> None:
    reranker = role("reranker")
    assert reranker.offline == "best_sentence"
    assert {"llm", "best_sentence"} <= set(reranker.implementations)
    with pytest.raises((ValueError, ConfigError), match="unknown reranker"):
        Pipeline.from_config(
            {
                "name": "x",
                "steps": [
                    {"type": "retrieve", "index": "dense"},
                    {"type": "rerank", "input": "dense", "scorer": "oracle"},
                ],
            }
        )


def test_offline_rerank_hybrid_moves_hits_with_typed_reasons(
    sample_index: Path, settings: Settings
) -> None:
    with RagIndex.open(sample_index, settings) as idx:
        answer = idx.ask(QUESTION, Pipeline.load("rerank-hybrid"))
    event = next(e for e in answer.trace if e.step == "rerank:fused")
    out = event.outputs
    assert isinstance(out, RerankOutput) and out.scorer == "best_sentence"
    scored = [h for h in answer.hits if isinstance(h.reason, RerankReason) and h.reason.relevance]
    assert 0 < len(scored) <= 10 and len(out.moves) == len(scored)
    # Scores fall down the list; each reason holds its move and the fused reason it replaced.
    assert [h.score for h in answer.hits] == sorted((h.score for h in answer.hits), reverse=True)
    assert [h.reason.after for h in answer.hits if isinstance(h.reason, RerankReason)] == list(
        range(1, len(answer.hits) + 1)
    )
    assert all(isinstance(h.reason.source, FusionReason) for h in scored if h.reason)
    assert "Hubble" in idx_text(sample_index, settings, answer.hits[0].passage_id)
    assert "1990" in answer.text


def idx_text(index: Path, settings: Settings, passage_id: str) -> str:
    """A passage's text from an index dir."""
    with RagIndex.open(index, settings) as idx:
        return idx.resources.store.get_many([passage_id])[0].text


def test_llm_rerank_needs_an_llm(sample_index: Path, settings: Settings) -> None:
    config = Pipeline.load("rerank-dense").to_config()
    config["steps"][1]["scorer"] = "llm"
    with RagIndex.open(sample_index, settings) as idx, pytest.raises(ConfigError, match="LLM"):
        idx.ask(QUESTION, Pipeline.from_config(config))


def _hubble_is_relevant(messages: list[dict[str, Any]]) -> list[tuple[str, float]]:
    """A judge that says yes to passages about Hubble, no to the rest, in OpenAI's logprobs."""
    passage = messages[-1]["content"].split("Passage:", 1)[1].split("Question:", 1)[0]
    if "Hubble" in passage:
        return [("Yes", math.log(0.9)), ("No", math.log(0.08)), ("yes", math.log(0.01))]
    return [("No", math.log(0.85)), ("Yes", math.log(0.1))]


@pytest.fixture
def judged_index(sample_index: Path, session_cache: Path) -> Iterator[tuple[RagIndex, Any]]:
    """The sample index with an OpenAI-compatible judge on loopback."""
    with StubOpenAIServer(logprobs=_hubble_is_relevant) as server:
        llm = stub_llm_settings(server, max_concurrency=4)
        settings = Settings(cache_dir=session_cache, show_progress=False, llm=llm)
        with RagIndex.open(sample_index, settings) as idx:
            yield idx, server


def test_llm_rerank_reads_p_yes_from_a_servers_logprobs(
    judged_index: tuple[RagIndex, Any],
) -> None:
    idx, server = judged_index
    config = Pipeline.load("rerank-dense").to_config()
    config["steps"][1]["scorer"] = "llm"
    config["steps"][2]["reader"] = "extractive"
    answer = idx.ask("Which space telescope went up in 1990?", Pipeline.from_config(config))
    requests = [b for b in server.bodies if b.get("logprobs")]
    assert requests and all(b["top_logprobs"] == 20 and b["max_tokens"] == 1 for b in requests)
    top = answer.hits[0]
    assert isinstance(top.reason, RerankReason) and top.reason.scorer == "llm:stub"
    assert top.score == pytest.approx(0.91 / 0.99)
    assert top.reason.details == {"p_yes": pytest.approx(0.91), "p_no": pytest.approx(0.08)}
    event = next(e for e in answer.trace if e.step == "rerank:dense")
    assert event.llm_calls == len(requests)
    assert isinstance(event.outputs, RerankOutput)
    assert {m.passage_id for m in event.outputs.moves} == {
        h.passage_id for h in answer.hits[: len(event.outputs.moves)]
    }
