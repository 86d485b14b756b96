"""The built-in operator entries: each role's implementations, registered by name.

A new implementation (a spaCy extractor, an LLM rerank scorer, a small bundled model) is one
more `@register` here or in its own module, not a new branch where an operator is chosen.
Builders import their operator's module when called, so importing the registry stays cheap.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rag.operators.registry import BuildInputs, define_role, register

define_role("reader", "extractive", "read an answer out of the top passages")
define_role("openie", "pattern", "extract entities and triples from passages (graph.extractor)")
define_role("summarizer", "extractive", "summarize a tree node's children (tree.summarizer)")
define_role("navigator", "embedding", "walk a summary tree to the passages (tree navigate)")
define_role("reasoner", "bridge", "write the next thought of an iterative retrieval")
define_role("drafter", "feedback", "draft clues to search with (draft_clues)")
define_role(
    "recognition",
    "keep_all",
    "filter the facts matched to a query (hipporag2)",
    aliases={"on": "llm", "off": "keep_all"},
)
define_role("reranker", "best_sentence", "score the top hits of a ranking (rerank)")


def _llm(inputs: BuildInputs) -> Any:
    """The LLM an LLM implementation was resolved with (resolution checked there is one)."""
    if inputs.llm is None:
        raise ValueError("an LLM implementation was built without an LLM")
    return inputs.llm


def _embedder(inputs: BuildInputs) -> Any:
    """The embedder an embedding-based implementation needs."""
    if inputs.embedder is None:
        raise ValueError("this operator needs the index's embedder")
    return inputs.embedder


@register(
    "reader",
    "llm",
    "LLMReader: a prompt and a tolerant parser",
    needs_llm=True,
    options=("max_passages",),
)
def _llm_reader(inputs: BuildInputs) -> Any:
    from rag.operators.reader.llm import LLMReader

    return LLMReader(_llm(inputs), **inputs.options)


@register(
    "reader",
    "extractive",
    "ExtractiveReader: the frozen span-heuristic baseline",
    options=("max_passages",),
)
def _extractive_reader(inputs: BuildInputs) -> Any:
    from rag.operators.reader.extractive import ExtractiveReader

    return ExtractiveReader(_embedder(inputs), **inputs.options)


@register("openie", "llm", "LLMOpenIE: entities, then triples, from an LLM", needs_llm=True)
def _llm_openie(inputs: BuildInputs) -> Any:
    from rag.operators.openie import CachedExtractor, LLMOpenIE

    llm = _llm(inputs)
    # The LLM's own cap decides how many calls run at once; more threads would only wait.
    extractor = LLMOpenIE(llm, max_workers=getattr(llm, "max_concurrency", 4))
    return extractor if inputs.cache_dir is None else CachedExtractor(extractor, inputs.cache_dir)


@register("openie", "pattern", "PatternOpenIE: offline pattern rules")
def _pattern_openie(inputs: BuildInputs) -> Any:
    from rag.operators.openie import PatternOpenIE

    # Not behind a disk cache: the rules take milliseconds, and a cache would serve old rules.
    return PatternOpenIE()


@register("openie", "spacy", "SpacyOpenIE: spaCy NER and dependency triples (memrag[nlp])")
def _spacy_openie(inputs: BuildInputs) -> Any:
    from rag.operators.openie import CachedExtractor
    from rag.operators.openie.spacy_extractor import SpacyOpenIE

    extractor = SpacyOpenIE()
    # Large cache batches: each one is a single nlp.pipe call, which streams its passages.
    if inputs.cache_dir is None:
        return extractor
    return CachedExtractor(extractor, inputs.cache_dir, batch_size=512)


@register(
    "openie",
    "cache",
    "a HippoRAG OpenIE file (cache:PATH), pattern rules for the rest",
    takes_argument="PATH",
)
def _hipporag_cache(inputs: BuildInputs) -> Any:
    from rag.operators.openie import HippoRAGOpenIECache, PatternOpenIE

    return HippoRAGOpenIECache(Path(inputs.argument).expanduser(), fallback=PatternOpenIE())


@register(
    "summarizer",
    "llm",
    "LLMSummarizer (extractive fallback on an empty reply)",
    needs_llm=True,
    options=("max_tokens",),
)
def _llm_summarizer(inputs: BuildInputs) -> Any:
    from rag.operators.summarize import LLMSummarizer

    return LLMSummarizer(_llm(inputs), **inputs.options)


@register(
    "summarizer", "extractive", "ExtractiveSummarizer: sentence centrality", options=("max_tokens",)
)
def _extractive_summarizer(inputs: BuildInputs) -> Any:
    from rag.operators.summarize import ExtractiveSummarizer

    return ExtractiveSummarizer(**inputs.options)


@register("navigator", "llm", "LLMNavigator: MemWalker's walk", needs_llm=True)
def _llm_navigator(inputs: BuildInputs) -> Any:
    from rag.operators.navigate import LLMNavigator

    return LLMNavigator(_llm(inputs))


@register("navigator", "embedding", "the tree's greedy walk by node-vector similarity")
def _embedding_navigator(inputs: BuildInputs) -> Any:
    from rag.operators.navigate import EmbeddingNavigator

    return EmbeddingNavigator()


@register(
    "reasoner",
    "llm",
    "LLMReasoner: IRCoT's next sentence, bundled few-shot examples",
    needs_llm=True,
    options=("shots",),
)
def _llm_reasoner(inputs: BuildInputs) -> Any:
    from rag.operators.reasoning import LLMReasoner

    return LLMReasoner(_llm(inputs), **inputs.options)


@register(
    "reasoner", "bridge", "BridgeReasoner: an offline bridge follower", options=("max_passages",)
)
def _bridge_reasoner(inputs: BuildInputs) -> Any:
    from rag.operators.bridge_reasoner import BridgeReasoner

    return BridgeReasoner(_embedder(inputs), **inputs.options)


@register("drafter", "llm", "LLMClueDrafter: clues from the corpus memory", needs_llm=True)
def _llm_drafter(inputs: BuildInputs) -> Any:
    from rag.operators.clues import LLMClueDrafter

    return LLMClueDrafter(_llm(inputs))


@register("drafter", "feedback", "graph facts, pseudo-relevance feedback, a draft answer")
def _feedback_drafter(inputs: BuildInputs) -> Any:
    from rag.operators.clues import OfflineClueDrafters

    return OfflineClueDrafters(_embedder(inputs))


@register(
    "reranker",
    "llm",
    "LLMRelevanceScorer: P(yes) from the first reply token's log-probabilities",
    needs_llm=True,
)
def _llm_reranker(inputs: BuildInputs) -> Any:
    from rag.operators.rerank import LLMRelevanceScorer

    return LLMRelevanceScorer(_llm(inputs))


@register(
    "reranker",
    "best_sentence",
    "BestSentenceScorer: the extractive reader's best-sentence score (no model reads)",
)
def _best_sentence_reranker(inputs: BuildInputs) -> Any:
    from rag.operators.rerank import BestSentenceScorer

    return BestSentenceScorer(_embedder(inputs))


@register(
    "recognition", "llm", "HippoRAG 2's recognition memory: an LLM keeps facts", needs_llm=True
)
def _llm_recognition(inputs: BuildInputs) -> Any:
    from rag.operators.recognition import LLMRecognition

    return LLMRecognition(_llm(inputs))


@register("recognition", "keep_all", "no filter: every matched fact is kept")
def _keep_all(inputs: BuildInputs) -> Any:
    from rag.operators.recognition import KeepAllFacts

    return KeepAllFacts()
