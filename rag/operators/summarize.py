"""Summarizers for tree nodes: LexRank-style extractive (offline) and LLM-written, both batched."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from rag.llm.base import LLM
from rag.operators.reader.text import split_sentences
from rag.tokens import count_tokens

logger = logging.getLogger(__name__)

PROMPT_VERSION = "summary/1"
PROMPT_TEMPLATE = (
    "Write one short summary of the {count} text(s) below, in at most about {words} words "
    "({max_tokens} tokens).\n"
    "Keep the names of people, places and things, the numbers and dates, and the key details "
    "a reader would need to answer questions about these texts. State only what the texts "
    "say; add no opinion and nothing from outside them.\n"
    "Reply with the summary alone, as plain prose: no title, no preamble, no bullet list.\n\n"
    "Texts:\n{texts}\n\nSummary:"
)
STAGE = "summarize"
EMPTY_REPLY = "empty LLM reply"

#: A sentence at least this similar (TF-IDF cosine) to a chosen one only repeats it.
_DUPLICATE = 0.8
_DAMPING = 0.85
#: A reply may run this far past the budget before it is cut; LLMs count tokens loosely.
_OVERRUN = 1.5
_FENCE = re.compile(r"^```[\w-]*[ \t]*\n?(.*?)\n?```$", re.DOTALL)
_LABEL = re.compile(
    r"^[*_#\s]*(?:here\s+is\s+(?:a|the|my)\s+(?:short\s+)?)?summary[^:\n]{0,40}?[*_\s]*:[*_]*\s*",
    re.IGNORECASE,
)
_QUOTES = {'"': '"', "'": "'", "“": "”", "‘": "’"}


@dataclass(frozen=True)
class Summary:
    """One summary text and how it was made (goes into each tree node's provenance)."""

    text: str
    summarizer: str  # "extractive" or "llm"
    model: str | None = None  # the LLM's model name; None for extractive
    prompt_version: str | None = None
    fallback: str | None = None  # why an LLM summarizer made this one extractively


class Summarizer(Protocol):
    """Turns groups of child texts into one summary each."""

    name: str

    def summarize(self, groups: Sequence[Sequence[str]]) -> list[Summary]:
        """One summary per group of child texts (in order), batched."""
        ...


class ExtractiveSummarizer:
    """Picks central, non-redundant sentences within a token budget; deterministic and offline.

    Sentences are TF-IDF vectors (English stop words, sublinear tf); their cosine similarity
    graph is ranked by PageRank as in continuous LexRank (Erkan & Radev 2004); sentences are
    then taken greedily by MMR (centrality minus `redundancy` times the highest similarity to a
    sentence already taken) while the budget allows, and output in their original order.
    """

    name = "extractive"

    def __init__(self, max_tokens: int = 100, redundancy: float = 0.5) -> None:
        """Budget each summary to max_tokens cl100k tokens; redundancy weighs the MMR penalty."""
        if max_tokens < 1:
            raise ValueError(f"max_tokens must be at least 1, got {max_tokens}")
        if redundancy < 0:
            raise ValueError(f"redundancy must be non-negative, got {redundancy}")
        self.max_tokens = max_tokens
        self.redundancy = redundancy

    def summarize(self, groups: Sequence[Sequence[str]]) -> list[Summary]:
        """One extractive summary per group."""
        return [Summary(self.summarize_one(group), self.name) for group in groups]

    def summarize_one(self, texts: Sequence[str]) -> str:
        """The summary text of one group of child texts."""
        children = [t.strip() for t in _checked(texts)]
        if len(children) == 1 and count_tokens(children[0]) <= self.max_tokens:
            return children[0]
        sentences = [
            " ".join(s.split()) for child in children for s in split_sentences(child) or [child]
        ]
        tokens = [count_tokens(s) for s in sentences]
        similarity = _similarity(sentences)
        centrality = _pagerank(similarity)
        chosen = self._select(centrality / centrality.max(), similarity, tokens)
        if not chosen:
            # Nothing fits whole: cut the most central sentence rather than return nothing.
            return _cut_words(sentences[int(np.argmax(centrality))], self.max_tokens)
        text = " ".join(sentences[i] for i in sorted(chosen))
        # Counted apart, sentences may merge into fewer tokens or (rarely) more; drop the
        # last-picked until the joined text is within budget.
        while len(chosen) > 1 and count_tokens(text) > self.max_tokens:
            chosen.pop()
            text = " ".join(sentences[i] for i in sorted(chosen))
        return text

    def _select(
        self, relevance: np.ndarray, similarity: np.ndarray, tokens: list[int]
    ) -> list[int]:
        """Greedy MMR under the budget, skipping near-duplicates of what is already taken."""
        chosen: list[int] = []
        used = 0
        closest = np.zeros(len(tokens))
        open_ = np.ones(len(tokens), dtype=bool)
        while open_.any():
            scores = np.where(open_, relevance - self.redundancy * closest, -np.inf)
            i = int(np.argmax(scores))  # the first of equals: ties go to the earlier sentence
            open_[i] = False
            if closest[i] >= _DUPLICATE or used + tokens[i] > self.max_tokens:
                continue
            chosen.append(i)
            used += tokens[i]
            closest = np.maximum(closest, similarity[i])
        return chosen


class LLMSummarizer:
    """Asks an LLM for each group's summary; all groups of one call go out as one batch.

    The LLM layer retries failed calls and caches replies on disk by (model, exact messages,
    decoding parameters), so a group whose children texts were summarized before never costs a
    second call; identical groups within one batch are sent once. An empty reply is never
    stored: that group is summarized extractively and its Summary says why. An error from the
    LLM (after its retries) propagates; an error message is never stored as a summary.
    """

    name = "llm"

    def __init__(
        self, llm: LLM, max_tokens: int = 100, fallback: ExtractiveSummarizer | None = None
    ) -> None:
        """Keep the client; max_tokens is the budget the prompt asks for."""
        if max_tokens < 1:
            raise ValueError(f"max_tokens must be at least 1, got {max_tokens}")
        self.llm = llm
        self.max_tokens = max_tokens
        self.fallback = fallback or ExtractiveSummarizer(max_tokens)

    def prompt(self, texts: Sequence[str]) -> str:
        """The prompt for one group: the children texts numbered from 1."""
        children = _checked(texts)
        blocks = "\n\n".join(f"[{i}] {t.strip()}" for i, t in enumerate(children, 1))
        # LLMs count words far better than tokens; English runs about 0.75 words a token.
        words = max(1, round(self.max_tokens * 0.75))
        return PROMPT_TEMPLATE.format(
            count=len(children), words=words, max_tokens=self.max_tokens, texts=blocks
        )

    def summarize(self, groups: Sequence[Sequence[str]]) -> list[Summary]:
        """One summary per group, from one batch of LLM calls."""
        prompts = [self.prompt(group) for group in groups]
        unique = list(dict.fromkeys(prompts))
        replies = dict(zip(unique, self._complete(unique), strict=True))
        return [self._summary(replies[p], group) for p, group in zip(prompts, groups, strict=True)]

    def _complete(self, prompts: list[str]) -> list[str]:
        """Reply texts in prompt order, batched when the client can batch."""
        batch = getattr(self.llm, "batch_complete", None)
        if callable(batch):
            return [r.text for r in batch(prompts, stage=STAGE)]
        return [self.llm.complete(p, stage=STAGE).text for p in prompts]

    def _summary(self, reply: str, group: Sequence[str]) -> Summary:
        """The cleaned reply as a Summary, or the extractive fallback when nothing is left."""
        text = clean_reply(reply)
        if not text:
            logger.warning(
                "summarize: %s from %s, summarized extractively", EMPTY_REPLY, self.llm.model
            )
            made = self.fallback.summarize_one(group)
            return Summary(made, self.fallback.name, fallback=EMPTY_REPLY)
        limit = int(self.max_tokens * _OVERRUN)
        if count_tokens(text) > limit:
            logger.info("summarize: reply of %d tokens cut to %d", count_tokens(text), limit)
            text = cut_at_sentence(text, limit)
        return Summary(text, self.name, model=self.llm.model, prompt_version=PROMPT_VERSION)


def clean_reply(reply: str) -> str:
    """Strip a code fence, a leading 'Summary:' label, surrounding quotes and whitespace."""
    text = reply.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1).strip()
    text = _LABEL.sub("", text, count=1).strip()
    if len(text) >= 2 and _QUOTES.get(text[0]) == text[-1]:
        text = text[1:-1].strip()
    return text


def cut_at_sentence(text: str, budget: int) -> str:
    """The longest run of whole leading sentences within budget (words, if one is too long)."""
    kept: list[str] = []
    for sentence in split_sentences(text):
        if count_tokens(" ".join([*kept, sentence])) > budget:
            break
        kept.append(sentence)
    return " ".join(kept) if kept else _cut_words(" ".join(text.split()), budget)


def _checked(texts: Sequence[str]) -> Sequence[str]:
    """The group's non-blank texts, or a ValueError when it has none."""
    if isinstance(texts, str):
        raise ValueError("a group must be a sequence of child texts, not one string")
    if not texts or not any(t.strip() for t in texts):
        raise ValueError("cannot summarize an empty group: it has no child text")
    return [t for t in texts if t.strip()]


def _similarity(sentences: list[str]) -> np.ndarray:
    """Cosine similarity of the sentences' TF-IDF vectors (rows are L2-normalized)."""
    # Imported here: a slow first import that `import rag` must not pay.
    from sklearn import config_context
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True)
    try:
        # Our inputs are always valid; sklearn's checks cost a third of a call this small.
        with config_context(skip_parameter_validation=True, assume_finite=True):
            vectors = vectorizer.fit_transform(sentences)
    except ValueError:  # only stop words: no sentence is like another, so none stands out
        return np.eye(len(sentences))
    return np.asarray((vectors @ vectors.T).toarray())


def _pagerank(similarity: np.ndarray, tol: float = 1e-9, max_iter: int = 200) -> np.ndarray:
    """PageRank of the weighted similarity graph without self-loops, by power iteration."""
    n = similarity.shape[0]
    weights = similarity - np.diag(np.diag(similarity))
    out = weights.sum(axis=1, keepdims=True)
    transition = np.divide(weights, out, out=np.zeros_like(weights), where=out > 0)
    dangling = out[:, 0] == 0
    rank = np.full(n, 1.0 / n)
    for _ in range(max_iter):
        # An isolated sentence spreads its rank evenly, as PageRank does for dangling nodes.
        new = (1 - _DAMPING) / n + _DAMPING * (rank @ transition + rank[dangling].sum() / n)
        done = np.abs(new - rank).sum() < tol
        rank = new
        if done:
            break
    return rank


def _cut_words(text: str, budget: int) -> str:
    """The longest word-boundary prefix of text within budget (characters, if no word fits)."""
    words = text.split()
    lo, hi = 0, len(words)
    while lo < hi:  # binary search: prefix token counts grow with the prefix
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if count_tokens(" ".join(words[:mid])) <= budget else (lo, mid - 1)
    if lo:
        return " ".join(words[:lo])
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if count_tokens(text[:mid]) <= budget else (lo, mid - 1)
    return text[:lo]
