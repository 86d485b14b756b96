"""The LLM rerank scorer with the real Qwen2.5-0.5B in-process: P(yes) from the logits."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from indexers.builder import build_index
from pipelines.pipeline import Pipeline
from pipelines.rag_index import RagIndex
from rag.llm import ManagedLLM
from rag.operators.rerank import LLMRelevanceScorer
from rag.settings import Settings
from rag.trace_outputs import RerankOutput
from rag.types import Passage, RerankReason
from tests.conftest import SAMPLE
from tests.llm_local.conftest import N_CTX, skip_without

MODEL = "qwen2.5-0.5b"
#: A direct question: asked as "Which telescope did Space Shuttle Discovery carry into orbit?"
#: the 0.5B gave Hubble's passage P(yes) 0.45 and Webb's 0.47 (it is a small judge).
QUESTION = "When was the Hubble Space Telescope launched?"
HUBBLE = Passage.from_text(
    "The Hubble Space Telescope was launched aboard Space Shuttle Discovery in 1990.",
    title="Hubble Space Telescope",
)
WEBB = Passage.from_text(
    "The James Webb Space Telescope was launched in December 2021 on an Ariane 5 rocket.",
    title="James Webb Space Telescope",
)
REEF = Passage.from_text(
    "The Great Barrier Reef lies off the coast of Queensland, Australia.",
    title="Great Barrier Reef",
)


def test_the_relevant_passage_scores_above_a_near_miss_and_an_unrelated_one(
    local_llms: Callable[[str], ManagedLLM],
) -> None:
    llm = local_llms(MODEL)
    scores = LLMRelevanceScorer(llm).score(QUESTION, [REEF, WEBB, HUBBLE])
    reef, webb, hubble = (s.score for s in scores)
    assert hubble > webb and hubble > reef
    assert all(0 < s.details["p_yes"] < 1 and 0 < s.details["p_no"] < 1 for s in scores)
    # The same prompt again reads the same distribution (the shared prefix stays cached).
    again = LLMRelevanceScorer(llm).score(QUESTION, [HUBBLE])
    assert abs(again[0].score - hubble) < 0.02


def test_rerank_dense_in_process_puts_the_answering_passage_first(
    tmp_path: Path, session_cache: Path
) -> None:
    skip_without(MODEL)
    index = tmp_path / "idx"
    build_index([SAMPLE], index, Settings(cache_dir=session_cache, show_progress=False))
    llm = {"provider": "local", "model": MODEL, "n_ctx": N_CTX, "cache": False}
    settings = Settings(cache_dir=session_cache, show_progress=False, llm=llm)
    config = Pipeline.load("rerank-dense").to_config()
    config["steps"][1].update(scorer="llm", top_n=3)
    config["steps"][2]["reader"] = "extractive"
    with RagIndex.open(index, settings) as idx:
        answer = idx.ask(QUESTION, Pipeline.from_config(config))
        top = idx.resources.store.get_many([answer.hits[0].passage_id])[0]
    assert "Hubble" in top.text
    event = next(e for e in answer.trace if e.step == "rerank:dense")
    assert isinstance(event.outputs, RerankOutput) and event.outputs.scorer == f"llm:{MODEL}"
    assert event.llm_calls == 3 and len(event.outputs.moves) == 3
    reason = answer.hits[0].reason
    assert isinstance(reason, RerankReason) and reason.relevance is not None
    assert reason.details["p_yes"] > 0
