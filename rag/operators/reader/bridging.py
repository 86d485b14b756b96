"""Bridge following for the extractive reader: hop to a sentence about an entity named earlier."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import NamedTuple

from rag.operators.reader.answer_spans import candidate_spans
from rag.operators.reader.text import content_words

logger = logging.getLogger(__name__)

#: Share of the still-unmatched question words a hop sentence must cover to be followed.
MIN_RESIDUAL_COVER = 0.25


class ScoredSentence(NamedTuple):
    """A passage sentence with its relevance to the question and its normalized words."""

    rank: int
    text: str
    score: float
    sim: float
    lex: float
    words: frozenset[str]
    title_words: frozenset[str]


class Hop(NamedTuple):
    """One step of a bridge chain: the entity followed and the sentence it led to."""

    bridge: str
    sentence: ScoredSentence


def bridge_names(sentence: ScoredSentence, known: set[str]) -> list[tuple[str, frozenset[str]]]:
    """Names in a sentence that the question does not already mention: places to hop to."""
    found = []
    for span in candidate_spans(sentence.text):
        words = frozenset(content_words(span.text))
        if span.kind in ("name", "title") and words and len(words & known) / len(words) <= 0.5:
            found.append((span.text, words - known))
    return found


def follow_bridges(
    question_words: set[str],
    start: ScoredSentence,
    sentences: Sequence[ScoredSentence],
    max_hops: int = 3,
) -> list[Hop]:
    """Chain sentences whose subject is a name the previous one introduced, while that helps.

    Multi-hop questions ("the first president of the association that publishes X") are answered
    by a sentence about an entity that another sentence names. A hop is taken only when the start
    sentence leaves question words unmatched and a sentence about one of its names (in its text
    or its passage title) matches at least half of them; a fully matched question never hops.
    """
    covered = set(start.words | start.title_words)
    known = set(question_words)
    current, visited, hops = start, {(start.rank, start.text)}, []
    for _ in range(max_hops):
        residual = question_words - covered
        if not residual:
            break
        best: tuple[float, float, str, ScoredSentence] | None = None
        for bridge, bridge_words in bridge_names(current, known):
            for other in sentences:
                if (other.rank, other.text) in visited or not bridge_words:
                    continue
                if not (bridge_words <= other.words or bridge_words <= other.title_words):
                    continue
                cover = len(residual & (other.words | other.title_words)) / len(residual)
                key = (cover, other.score, bridge, other)
                if cover >= MIN_RESIDUAL_COVER and (best is None or key[:2] > best[:2]):
                    best = key
        if best is None:
            break
        _, _, bridge, nxt = best
        logger.debug("bridge hop via %r to %r", bridge, nxt.text)
        hops.append(Hop(bridge, nxt))
        known |= content_words(bridge)
        covered |= nxt.words | nxt.title_words
        visited.add((nxt.rank, nxt.text))
        current = nxt
    return hops
