"""An offline reader that quotes the best-supported sentence and cuts an answer span out of it.

FROZEN BASELINE. This reader is kept as a documented baseline, not developed further. It ranks
the top passages' sentences (embedding similarity, word overlap, passage rank), then cuts a
span whose type fits the question's wh-word (a name, date, number, quoted title or noun
chunk), following a bridge through a named entity when the best sentence leaves question words
unmatched. Its English rules (the word lists and cues in `text`, `answer_spans` and
`span_choice`, down to "a short number ends a name" for "Ariane 5") were tuned on the same
evaluation sets the README reports, so its scores there flatter it. Its rules must not be
tuned further on the shared evaluation sets (MuSiQue, HotpotQA, QMSum and the bundled
samples the tests read): a change here must be a bug fix argued without those sets' scores.
The way up is a reader that reads: the LLM reader (`rag.operators.reader.llm`; `reader: llm`,
or `auto` with an LLM configured), or a new reader registered in `rag.operators.registry`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from rag.embed.base import Embedder
from rag.operators.reader.bridging import ScoredSentence, follow_bridges
from rag.operators.reader.reading import Reader, Reading, cite
from rag.operators.reader.span_choice import (
    Choice,
    answer_type,
    choose_span,
    fits_type,
    fullest_name,
)
from rag.operators.reader.temporal import date_answer
from rag.operators.reader.text import content_words, normalize_word, plain_text, split_sentences
from rag.types import Passage

logger = logging.getLogger(__name__)

# Sentence score = similarity, word overlap and a rank prior; the retriever's order is a weak hint.
W_SIM, W_LEX, W_RANK = 0.5, 0.4, 0.1
# Title words count for less than sentence words: they say what the passage is about, not the fact.
TITLE_WEIGHT = 0.5
# A second passage is cited when its best sentence scores within this margin of the quoted one.
CLOSE_MARGIN = 0.08


def _fits(qtype: str, choice: Choice | None) -> bool:
    """Whether a chosen span has the asked answer type."""
    return choice is not None and fits_type(qtype, choice.kind)


class ExtractiveReader(Reader):
    """Extractive span heuristic, not a reading model: it never writes text the passages lack.

    It splits the top passages into sentences, scores each by embedding similarity to the
    question, content-word overlap and passage rank, then picks a short span (a name, date,
    number, quoted title or noun chunk) that fits the question's wh-word from the best few
    sentences, and falls back to the whole sentence when no span fits. When the chosen sentence
    leaves question words unmatched and another sentence about a name it mentions matches them,
    it follows that bridge (see `follow_bridges`). It has no notion of meaning beyond these cues.
    """

    name = "extractive"

    def __init__(
        self,
        embedder: Embedder,
        max_passages: int = 5,
        sentence_pool: int = 3,
        max_hops: int = 3,
    ) -> None:
        """Keep the embedder; read max_passages, seek spans in sentence_pool sentences."""
        self.embedder = embedder
        self.max_passages = max_passages
        self.sentence_pool = sentence_pool
        self.max_hops = max_hops

    def warm_up(self) -> None:
        """Load the embedding model now rather than on the first reading."""
        self.embedder.warm_up()

    def read(
        self,
        question: str,
        passages: Sequence[Passage],
        query_vector: np.ndarray | None = None,
        context: Sequence[str] = (),
    ) -> Reading:
        """Answer with a span of the best-supported sentence and cite the passages it came from.

        `context` is not read: an extractive answer must be a span of a passage it can cite.
        """
        top = list(passages[: self.max_passages])
        ranked = self.rank_sentences(question, top, query_vector)
        if isinstance(ranked, str):
            return Reading(answer="", reader=self.name, details={"reason": ranked})
        qwords = content_words(question)
        qtype, head = answer_type(question)
        pool = self.sentence_pool
        choice = choose_span(qwords, qtype, head, ranked[:pool], ranked[pool:])
        start = choice.sentence if choice else ranked[0]
        # The wh-phrase noun ("what county") describes the answer; no sentence needs to repeat it.
        hop_words = qwords - {normalize_word(head)} if head else qwords
        hops = follow_bridges(hop_words, start, ranked, self.max_hops)
        if hops:
            known = qwords.union(*(content_words(h.bridge) for h in hops))
            across = choose_span(known, qtype, head, [hops[-1].sentence])
            # A bridge's far end answers unless it offers only a span of the wrong type.
            if across and (fits_type(qtype, across.kind) or not _fits(qtype, choice)):
                choice = across
        fallback = choice is None
        if choice is None:
            choice = Choice(ranked[0].text, "sentence", ranked[0].score, ranked[0])
        elif qtype == "person" and choice.kind == "name":
            # Later mentions use the surname alone; the answer should carry the full name.
            choice = choice._replace(text=fullest_name(choice.text, top[choice.sentence.rank].text))
        chain = [choice.sentence, *(h.sentence for h in reversed(hops)), start]
        cited: list[ScoredSentence] = []
        for s in chain:
            if all(c.rank != s.rank for c in cited):
                cited.append(s)
        # Near-ties are cited too: the reader cannot tell which of two good passages is right.
        for other in ranked:
            if all(c.rank != other.rank for c in cited) and other.score >= (
                choice.sentence.score - CLOSE_MARGIN
            ):
                cited.append(other)
                break
        details: dict[str, Any] = {
            "question_type": qtype,
            "head_noun": head,
            "span_kind": choice.kind,
            "span_score": round(choice.score, 4),
            "fell_back_to_sentence": fallback,
            "bridges": [h.bridge for h in hops],
            "sentences": [
                {
                    "passage_id": top[s.rank].id,
                    "sentence": s.text,
                    "score": round(s.score, 4),
                    "similarity": round(s.sim, 4),
                    "overlap": round(s.lex, 4),
                }
                for s in ranked[: self.sentence_pool]
            ],
        }
        # Markup is the file's formatting, not its words: answers and quotes show plain text.
        citations = [cite(top[s.rank], plain_text(s.text)) for s in cited]
        answer = plain_text(choice.text)
        reading = Reading(answer=answer, citations=citations, reader=self.name, details=details)
        # Not an answer-type rule: a general step every reader takes (see reader.temporal).
        return date_answer(question, reading, top)

    def rank_sentences(
        self, question: str, passages: Sequence[Passage], query_vector: np.ndarray | None = None
    ) -> list[ScoredSentence] | str:
        """Every sentence of `passages` scored against the question, best first (`rank` is the
        passage's position); when there is no sentence, the reason why."""
        top = list(passages)
        units = [(rank, s) for rank, p in enumerate(top) for s in split_sentences(p.text)]
        if not units:
            reason = "no passages" if not top else "passages have no text"
            logger.info("extractive reader has nothing to read: %s", reason)
            return reason
        return sorted(
            self._score_sentences(question, content_words(question), top, units, query_vector),
            key=lambda s: (-s.score, s.rank),
        )

    def _score_sentences(
        self,
        question: str,
        qwords: set[str],
        top: list[Passage],
        units: list[tuple[int, str]],
        query_vector: np.ndarray | None,
    ) -> list[ScoredSentence]:
        """Score every sentence once, embedding all of them in one batch."""
        # The title rides along so that "It was built in 1889." still matches "the Eiffel Tower".
        texts = [f"{top[r].title}: {s}" if top[r].title else s for r, s in units]
        vectors = self.embedder.embed(texts)
        qvec = self.embedder.embed_query(question) if query_vector is None else query_vector
        sims = vectors @ np.asarray(qvec, dtype=np.float32).ravel()
        title_words = [frozenset(content_words(p.title or "")) for p in top]
        scored = []
        for (rank, text), sim in zip(units, sims.tolist(), strict=True):
            words = frozenset(content_words(text))
            hits = len(qwords & words) + TITLE_WEIGHT * len((qwords & title_words[rank]) - words)
            lex = hits / len(qwords) if qwords else 0.0
            score = W_SIM * sim + W_LEX * lex + W_RANK / (1 + rank)
            scored.append(ScoredSentence(rank, text, score, sim, lex, words, title_words[rank]))
        return scored
