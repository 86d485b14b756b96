"""The offline bridge follower: IRCoT's reasoner without a model, a heuristic that proposes the
next entity the passages name (the extractive reader's bridge follower), named for what it is.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from rag.embed.base import Embedder
from rag.operators.reader.answer_spans import candidate_spans
from rag.operators.reader.bridging import ScoredSentence, bridge_names, follow_bridges
from rag.operators.reader.extractive import ExtractiveReader
from rag.operators.reader.span_choice import answer_type, choose_span, fullest_name
from rag.operators.reader.text import content_words, normalize_word, tokenize
from rag.operators.reasoning import Reasoner, StopReason, Thought
from rag.types import Passage

logger = logging.getLogger(__name__)


#: A quoted span longer than this is a quotation, not a name to look up.
MAX_NAME_WORDS = 6
#: A question word counts as matched by a chain word sharing this many first letters
#: ("director" and "directed"), because the stop test must not chase inflections.
PREFIX = 5


def _matched(word: str, words: set[str]) -> bool:
    """Whether `word` or a word with its first PREFIX letters is in `words`."""
    if word in words:
        return True
    return len(word) >= PREFIX and any(w[:PREFIX] == word[:PREFIX] for w in words)


class BridgeReasoner(Reasoner):
    """Offline bridge follower, a heuristic and not a reasoning model.

    It ranks the passages' sentences against the question as the extractive reader does,
    starts from the best sentence that mentions a name the question gives (the start of a
    bridge question's chain), and follows bridges: a sentence naming an entity, then a sentence
    about that entity. When that chain matches every question word it stops with the chain's
    best-fitting span as the answer. Otherwise it looks up one name, followed by the question
    words still unmatched ("Jane Roe born"): first a name the question gives that no passage
    mentions, else a name the question and earlier thoughts lack, from (in this order) the
    best sentence about the name it looked up last, the sentence that named that one (its next
    name), the chain, and the best sentences. With no name left it stops.

    It cannot tell a right bridge from a wrong one (any new name in a relevant sentence will
    do), does not reason about comparisons or yes/no questions beyond looking up each name, and
    judges "matched" by shared words, so a paraphrase leaves words unmatched. It remembers the
    name behind each thought it wrote, so one instance serves one question.
    """

    name = "bridge"

    def __init__(
        self,
        embedder: Embedder,
        max_passages: int = 5,
        question_vectors: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        """Read up to max_passages; `question_vectors` spares re-embedding known questions."""
        self.reader = ExtractiveReader(embedder, max_passages=max_passages)
        self.max_passages = max_passages
        self.question_vectors = dict(question_vectors or {})
        # The name behind each thought it wrote and the sentence that named it.
        self._looked_up: dict[str, tuple[str, str]] = {}

    def warm_up(self) -> None:
        """Load the embedding model now rather than on the first thought."""
        self.reader.warm_up()

    def for_question(self, question: str, vector: np.ndarray | None = None) -> BridgeReasoner:
        """A copy with its own look-up memory, sharing the reader: one per question's loop, so
        a reasoner built once per index serves questions in parallel."""
        fresh = copy.copy(self)
        fresh.question_vectors = {question: vector} if vector is not None else {}
        fresh._looked_up = {}
        return fresh

    def next_thought(
        self, question: str, passages: Sequence[Passage], thoughts: Sequence[str]
    ) -> Thought:
        """The next entity to look up with what is still unknown about it, or a stop."""
        top = list(passages[: self.max_passages])
        ranked = self.reader.rank_sentences(question, top, self.question_vectors.get(question))
        if isinstance(ranked, str):
            return self._stop("no new query", {"why": ranked})
        qwords = content_words(question)
        qtype, head = answer_type(question)
        # The wh-phrase noun ("what county") describes the answer; no sentence repeats it.
        hop_words = qwords - {normalize_word(head)} if head else qwords
        names = _question_names(question)
        start = next((s for s in ranked if any(_mentions(s, w) for _, w in names)), ranked[0])
        hops = follow_bridges(hop_words, start, ranked, self.reader.max_hops)
        path = [start, *(h.sentence for h in hops)]
        followed = set().union(*(content_words(h.bridge) for h in hops))
        last = self._looked_up.get(thoughts[-1]) if thoughts else None
        about = [] if last is None else _about(ranked, *last)
        covered = set().union(*(s.words | s.title_words for s in [*path, *about[:1]]))
        residual = {w for w in hop_words if not _matched(w, covered)}
        details: dict[str, Any] = {"chain": [s.text for s in path], "unmatched": sorted(residual)}
        if not residual:
            choice = choose_span(qwords | followed, qtype, head, path)
            if choice is not None:
                answer = choice.text
                if qtype == "person" and choice.kind == "name":
                    answer = fullest_name(answer, top[choice.sentence.rank].text)
                return Thought(answer, self.name, True, answer, "answer", details)
        searched = [content_words(t) for t in thoughts]
        unseen = [
            (text, "the question")
            for text, words in names
            if not any(_mentions(s, words) for s in ranked)
            and not any(words <= done for done in searched)
        ]
        known = qwords.union(followed, *searched)
        # Go on from what the last look-up found, else try the next name of the sentence that
        # led to it; then the chain and the best sentences.
        retry = [s for s in ranked if last is not None and s.text == last[1]]
        pool = ranked[: self.reader.sentence_pool]
        frontier = [*about[:1], *retry, *reversed(path), *pool]
        found = unseen[:1] or _new_bridges(frontier, known)[:1]
        if not found:
            return self._stop("no new query", {**details, "why": "no name left to look up"})
        name, source = found[0]
        text = " ".join([name, *_surface_words(question, residual - content_words(name))])
        self._looked_up[text] = (name, source)
        return Thought(text, self.name, details={**details, "look_up": name, "from": source})

    def _stop(self, reason: StopReason, details: dict[str, Any]) -> Thought:
        """A thought that ends the loop without an answer."""
        return Thought("", self.name, True, None, reason, details)


def _about(ranked: Sequence[ScoredSentence], name: str, source: str) -> list[ScoredSentence]:
    """Sentences, best first, that mention `name`, other than the one it was found in."""
    words = frozenset(content_words(name))
    return [s for s in ranked if s.text != source and _mentions(s, words)]


def _question_names(question: str) -> list[tuple[str, frozenset[str]]]:
    """Names and titles the question gives, with their content words."""
    spans = [s for s in candidate_spans(question) if s.kind in ("name", "title")]
    return [(s.text, frozenset(content_words(s.text))) for s in spans if content_words(s.text)]


def _mentions(sentence: ScoredSentence, words: frozenset[str]) -> bool:
    """Whether the sentence (or its passage title) holds every word of a name."""
    return words <= sentence.words or words <= sentence.title_words


def _new_bridges(pool: Sequence[ScoredSentence], known: set[str]) -> list[tuple[str, str]]:
    """Names in the pool's sentences, in order, that `known` lacks, with their sentence; a long
    quotation is not a name, and neither is a lone capitalized word opening its sentence."""
    seen: set[str] = set()
    found = []
    for sentence in pool:
        if sentence.text in seen:
            continue
        seen.add(sentence.text)
        for bridge, new in bridge_names(sentence, known):
            opener = " " not in bridge and sentence.text.startswith(bridge)
            if new and len(bridge.split()) <= MAX_NAME_WORDS and not opener:
                found.append((bridge, sentence.text))
    return found


def _surface_words(question: str, wanted: set[str]) -> list[str]:
    """The question's words, as written and in order, whose normalized forms are `wanted`."""
    out: list[str] = []
    for token in tokenize(question):
        if content_words(token.text) & wanted and token.text not in out:
            out.append(token.text)
    return out
