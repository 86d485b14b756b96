"""Rerank scorers: how relevant each passage is to a question, one score per passage.

`LLMRelevanceScorer` asks a model, for each passage, "can the question be answered from this
passage?" and reads the probability of "yes" from the first reply token's log-probabilities
(no text is generated, so no parser is needed and the score is graded, not a bare yes/no).
`BestSentenceScorer` is the offline stand-in, and says so by its name: the extractive reader's
score of the passage's best sentence (embedding similarity, question-word overlap and the
input rank); no model reads the passage.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from rag.embed.base import Embedder
from rag.llm.base import LLM, ChatMessage
from rag.llm.usage import in_this_context
from rag.types import Passage

logger = logging.getLogger(__name__)

SYSTEM = "You judge search results. Answer with one word: yes or no."
#: Log-probabilities asked for: enough that "yes" and "no" (in their spellings) are among them.
TOP_LOGPROBS = 20
#: Longer passages are cut so a prompt fits a small model's context.
MAX_PASSAGE_CHARS = 2000


@dataclass(frozen=True)
class Relevance:
    """One passage's score and the parts it was made of."""

    score: float
    details: dict[str, float] = field(default_factory=dict)


class RelevanceScorer(Protocol):
    """Scores passages for a question; a higher score means more relevant."""

    name: str

    def score(
        self, question: str, passages: Sequence[Passage], query_vector: Any = None
    ) -> list[Relevance]:
        """One Relevance per passage, in the passages' order."""
        ...


def relevance_prompt(question: str, passage: Passage) -> list[ChatMessage]:
    """The pointwise question, asked after the passage.

    The question comes last: on three toy queries Qwen2.5-0.5B separated the relevant passage
    (P(yes) 0.66-0.73 against at most 0.48) only in this order; asked before the passage
    ("does this passage help answer the question?") it ranked a wrong telescope first.
    """
    text = passage.text[:MAX_PASSAGE_CHARS]
    title = f"{passage.title}\n" if passage.title else ""
    return [
        ChatMessage(role="system", content=SYSTEM),
        ChatMessage(
            role="user",
            content=f"Passage: {title}{text}\n\nQuestion: {question}\n\n"
            "Can the question be answered from this passage? Answer yes or no.",
        ),
    ]


def yes_probability(top_logprobs: Sequence[Sequence[Any]]) -> Relevance:
    """P(yes) among the first reply token's likeliest tokens, renormalized over yes and no.

    Every spelling of the word counts ("yes", " Yes", "YES"); when neither word is among the
    tokens reported, the score is 0.5 (the model said something else: no evidence either way).
    """
    p_yes = p_no = 0.0
    for token, logprob in top_logprobs:
        word = str(token).strip().lower()
        if word == "yes":
            p_yes += math.exp(float(logprob))
        elif word == "no":
            p_no += math.exp(float(logprob))
    total = p_yes + p_no
    score = p_yes / total if total > 0 else 0.5
    return Relevance(score, {"p_yes": round(p_yes, 6), "p_no": round(p_no, 6)})


class LLMRelevanceScorer:
    """Pointwise LLM relevance: P(yes) for "can the question be answered from this passage?"."""

    def __init__(self, llm: LLM, top_logprobs: int = TOP_LOGPROBS) -> None:
        """Keep the model; nothing is called until score()."""
        self.llm = llm
        self.top_logprobs = top_logprobs
        self.name = f"llm:{llm.model}"

    def score(
        self, question: str, passages: Sequence[Passage], query_vector: Any = None
    ) -> list[Relevance]:
        """Score the passages, as many at a time as the LLM's concurrency cap allows."""

        def one(passage: Passage) -> Relevance:
            reply = self.llm.next_token_logprobs(
                relevance_prompt(question, passage), top=self.top_logprobs, stage="rerank"
            )
            return yes_probability(reply.raw.get("top_logprobs") or [])

        workers = min(int(getattr(self.llm, "max_concurrency", 1)), len(passages))
        if workers <= 1:
            return [one(p) for p in passages]
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="memrag-rerank") as pool:
            # One context copy per call: a context cannot be entered by two threads at once.
            futures = [pool.submit(in_this_context(one), p) for p in passages]
            return [f.result() for f in futures]


class BestSentenceScorer:
    """Offline: the extractive reader's score of each passage's best sentence (no model reads)."""

    name = "best_sentence"

    def __init__(self, embedder: Embedder) -> None:
        """Keep the embedder the reader's sentence scores use."""
        from rag.operators.reader.extractive import ExtractiveReader

        self._reader = ExtractiveReader(embedder)

    def warm_up(self) -> None:
        """Load the embedding model now."""
        self._reader.warm_up()

    def score(
        self, question: str, passages: Sequence[Passage], query_vector: Any = None
    ) -> list[Relevance]:
        """Each passage's best sentence score; a passage without sentences scores -1."""
        vector = None if query_vector is None else np.asarray(query_vector)
        ranked = self._reader.rank_sentences(question, list(passages), vector)
        best = [-1.0] * len(passages)
        if not isinstance(ranked, str):
            for sentence in ranked:
                best[sentence.rank] = max(best[sentence.rank], float(sentence.score))
        return [Relevance(round(s, 6)) for s in best]
