"""An offline reader that quotes the best-supported sentence and cuts a short answer span from it."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from rag.embed.base import Embedder
from rag.operators.answer_spans import KIND_WEIGHTS, Span, answer_type, candidate_spans
from rag.operators.reader_text import (
    content_words,
    is_content_word,
    normalize_word,
    split_sentences,
    tokenize,
)
from rag.operators.reading import Reader, Reading, cite
from rag.types import Passage

logger = logging.getLogger(__name__)

# Sentence score = similarity, word overlap and a rank prior; the retriever's order is a weak hint.
W_SIM, W_LEX, W_RANK = 0.5, 0.4, 0.1
# Title words count for less than sentence words: they say what the passage is about, not the fact.
TITLE_WEIGHT = 0.5


class _Sentence(NamedTuple):
    rank: int
    text: str
    score: float
    sim: float
    lex: float


class _Choice(NamedTuple):
    text: str
    kind: str
    score: float
    sentence: _Sentence


class ExtractiveReader(Reader):
    """Extractive span heuristic, not a reading model: it never writes text the passages lack.

    It splits the top passages into sentences, scores each by embedding similarity to the
    question, content-word overlap and passage rank, then picks a short span (a name, date,
    number, quoted title or noun chunk) that fits the question's wh-word from the best few
    sentences, and falls back to the whole sentence when no span fits. Multi-hop questions whose
    answer needs a bridge fact are beyond it; it is the default reader where no LLM is available.
    """

    name = "extractive"

    def __init__(self, embedder: Embedder, max_passages: int = 5, sentence_pool: int = 3) -> None:
        """Keep the embedder; read at most max_passages and look for spans in sentence_pool sentences."""
        self.embedder = embedder
        self.max_passages = max_passages
        self.sentence_pool = sentence_pool

    def read(
        self,
        question: str,
        passages: Sequence[Passage],
        query_vector: np.ndarray | None = None,
    ) -> Reading:
        """Answer with a span of the best-supported sentence and cite the passages it came from."""
        top = list(passages[: self.max_passages])
        units = [(rank, s) for rank, p in enumerate(top) for s in split_sentences(p.text)]
        if not units:
            reason = "no passages" if not top else "passages have no text"
            logger.info("extractive reader has nothing to read: %s", reason)
            return Reading(answer="", reader=self.name, details={"reason": reason})
        sentences = self._score_sentences(question, top, units, query_vector)
        ranked = sorted(sentences, key=lambda s: (-s.score, s.rank))
        qtype, head = answer_type(question)
        choice = self._choose_span(question, qtype, head, ranked[: self.sentence_pool])
        fallback = choice is None
        if choice is None:
            choice = _Choice(ranked[0].text, "sentence", ranked[0].score, ranked[0])
        quoted = choice.sentence
        citations = [cite(top[quoted.rank], quoted.text)]
        # A second passage is cited when its best sentence is nearly as good (multi-hop support).
        for other in ranked:
            if other.rank != quoted.rank and other.score >= quoted.score - 0.08:
                citations.append(cite(top[other.rank], other.text))
                break
        details: dict[str, Any] = {
            "question_type": qtype,
            "head_noun": head,
            "span_kind": choice.kind,
            "span_score": round(choice.score, 4),
            "fell_back_to_sentence": fallback,
            "sentences": [
                {"passage_id": top[s.rank].id, "sentence": s.text, "score": round(s.score, 4),
                 "similarity": round(s.sim, 4), "overlap": round(s.lex, 4)}
                for s in ranked[: self.sentence_pool]
            ],
        }
        return Reading(answer=choice.text, citations=citations, reader=self.name, details=details)

    def _score_sentences(
        self,
        question: str,
        top: list[Passage],
        units: list[tuple[int, str]],
        query_vector: np.ndarray | None,
    ) -> list[_Sentence]:
        """Score every sentence once, embedding all of them in one batch."""
        # The title rides along so that "It was built in 1889." still matches "the Eiffel Tower".
        texts = [f"{top[r].title}: {s}" if top[r].title else s for r, s in units]
        vectors = self.embedder.embed(texts)
        qvec = self.embedder.embed_query(question) if query_vector is None else query_vector
        sims = vectors @ np.asarray(qvec, dtype=np.float32).ravel()
        qwords = content_words(question)
        title_words = [content_words(p.title or "") for p in top]
        scored = []
        for (rank, text), sim in zip(units, sims.tolist(), strict=True):
            words = content_words(text)
            hits = len(qwords & words) + TITLE_WEIGHT * len((qwords & title_words[rank]) - words)
            lex = hits / len(qwords) if qwords else 0.0
            prior = 1.0 / (1 + rank)
            score = W_SIM * sim + W_LEX * lex + W_RANK * prior
            scored.append(_Sentence(rank, text, score, sim, lex))
        return scored

    def _choose_span(
        self, question: str, qtype: str, head: str | None, pool: list[_Sentence]
    ) -> _Choice | None:
        """Pick the span that best fits the question type, near the words it shares with it."""
        qwords = content_words(question)
        weights = KIND_WEIGHTS[qtype]
        best: _Choice | None = None
        for sentence in pool:
            tokens = tokenize(sentence.text)
            norms = [normalize_word(t.text) for t in tokens]
            matched = [i for i, w in enumerate(norms) if w in qwords]
            for span in candidate_spans(sentence.text):
                weight = weights.get(span.kind, 0.0)
                trimmed = _trim(span, norms, qwords, sentence.text, tokens)
                if weight <= 0 or trimmed is None:
                    continue
                outside = [i for i in matched if not trimmed.first <= i <= trimmed.last]
                gap = min((abs(i - trimmed.first) for i in outside), default=None)
                proximity = 0.0 if gap is None else 1.0 / (1 + gap / 3)
                last_word = norms[trimmed.last] if trimmed.last < len(norms) else ""
                head_bonus = 1.0 if head and last_word == normalize_word(head) else 0.0
                multiword = 0.05 if qtype == "person" and trimmed.last > trimmed.first else 0.0
                score = (
                    sentence.score + 0.5 * weight + 0.15 * proximity + 0.15 * head_bonus + multiword
                )
                if best is None or score > best.score + 1e-9:
                    best = _Choice(trimmed.text, span.kind, score, sentence)
        return best


def _trim(span: Span, norms: list[str], qwords: set[str], text: str, tokens: list) -> Span | None:
    """Drop leading question words from a name or chunk; None when the span mostly repeats the question."""
    first, last = span.first, span.last
    if span.kind in ("name", "chunk"):
        while first <= last and (norms[first] in qwords or not is_content_word(tokens[first].text)):
            first += 1
        if first > last:
            return None
        span = Span(text[tokens[first].start : tokens[last].end], span.kind, first, last)
    words = content_words(span.text)
    if words and len(words & qwords) / len(words) > 0.5:
        return None
    return span
