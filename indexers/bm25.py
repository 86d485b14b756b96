"""Lexical retrieval: BM25 (Lucene variant) over stemmed, stopword-free tokens, via bm25s."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from itertools import pairwise
from pathlib import Path
from typing import ClassVar, Self

import bm25s
import numpy as np
import Stemmer
from bm25s.tokenization import Tokenizer
from pydantic import Field

from indexers.base import Index, KindConfig, SearchResult
from indexers.context import BuildContext
from rag.errors import IndexFormatError
from rag.integrity import load_array
from rag.manifest import verify_saved
from rag.query import Query
from rag.types import BM25Reason, Hit, Passage

logger = logging.getLogger(__name__)


def _tokenizer() -> Tokenizer:
    """An English tokenizer: lower-case words, stopwords removed, Snowball stems."""
    return Tokenizer(stopwords="en", stemmer=Stemmer.Stemmer("english").stemWord)


class BM25Search(KindConfig):
    """Per-query BM25 options."""

    min_score: float = Field(
        0.0, ge=0.0, description="Passages scoring at or below this are not returned."
    )


class BM25Index(Index[BM25Search]):
    """BM25 over passage title and text.

    Costs: `add` tokenizes only the new passages, then re-scores the whole corpus matrix
    (bm25s indexes are static): about 30-40 s per million passages on 2 cores. `delete` drops
    rows and re-scores the same way. A query costs one sparse column sum over the corpus.
    """

    kind: ClassVar[str] = "bm25"
    search_config = BM25Search

    def __init__(self) -> None:
        """Create an empty index."""
        self._tokenizer = _tokenizer()
        self._pids: list[str] = []
        self._tokens: list[list[int]] = []
        self._bm25: bm25s.BM25 | None = None
        self._words: list[str] | None = None

    @classmethod
    def create(cls, context: BuildContext) -> Self:
        """An empty index (BM25 has no build options)."""
        return cls()

    def _reindex(self) -> None:
        """Recompute BM25 scores for the current token lists."""
        self._bm25, self._words = None, None
        if self._pids:
            self._bm25 = bm25s.BM25()
            vocab = self._tokenizer.get_vocab_dict()
            self._bm25.index((self._tokens, vocab), show_progress=False)

    def add(self, passages: Sequence[Passage], vectors: np.ndarray | None = None) -> None:
        """Tokenize and add passages not yet indexed."""
        known = set(self._pids)
        fresh = list({p.id: p for p in passages if p.id not in known}.values())
        if not fresh:
            return
        tokens = self._tokenizer.tokenize(
            [p.embedding_text for p in fresh], update_vocab=True, show_progress=False
        )
        self._pids.extend(p.id for p in fresh)
        self._tokens.extend(tokens)
        self._reindex()

    def delete(self, ids: Iterable[str]) -> None:
        """Remove passages by id."""
        gone = set(ids)
        keep = [i for i, pid in enumerate(self._pids) if pid not in gone]
        if len(keep) == len(self._pids):
            return
        self._pids = [self._pids[i] for i in keep]
        self._tokens = [self._tokens[i] for i in keep]
        self._reindex()

    def _query_tokens(self, query: str) -> list[int]:
        """Token ids of the query words that occur in the corpus vocabulary."""
        # Ids, not strings: asking bm25s for strings rebuilds a reverse vocabulary per query;
        # a stream, not a list: the list form builds a (disabled) progress bar per query.
        stream = self._tokenizer.tokenize([query], update_vocab=False, return_as="stream")
        ids: list[int] = next(iter(stream), [])
        empty = self._tokenizer.get_vocab_dict().get("")  # bm25s' id for "no word"
        return [int(i) for i in ids if i != empty]

    def _vocabulary(self) -> list[str]:
        """Stemmed words by vocabulary id (built once per change of the index)."""
        if self._words is None:
            vocab = self._tokenizer.get_vocab_dict()
            words = [""] * (max(vocab.values(), default=-1) + 1)
            for word, i in vocab.items():
                words[i] = word
            self._words = words
        return self._words

    def _search(self, query: Query, k: int, config: BM25Search) -> SearchResult:
        """Up to k passages by BM25 score; passages sharing no term are not returned."""
        if self._bm25 is None:
            return SearchResult([])
        query_ids = self._query_tokens(query.text)
        if not query_ids:
            return SearchResult([])
        scores = self._bm25.get_scores(query_ids)
        k = min(k, len(scores))
        # argpartition then sort k: a full argsort of a million scores costs ~80 ms.
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.lexsort((top, -scores[top]))]
        wanted, words = set(query_ids), self._vocabulary()
        hits = [
            Hit(
                passage_id=self._pids[i],
                score=float(scores[i]),
                retriever=self.kind,
                reason=BM25Reason(
                    terms=sorted(words[t] for t in wanted.intersection(self._tokens[i]))
                ),
            )
            for i in top
            if scores[i] > config.min_score
        ]
        return SearchResult(hits, {"terms": sorted(words[t] for t in wanted)})

    def ids(self) -> set[str]:
        """The passage ids held."""
        return set(self._pids)

    def save(self, directory: Path) -> None:
        """Write bm25s' matrices and vocabulary, the passage ids and the token lists."""
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "passage_ids.json").write_text(json.dumps(self._pids))
        lengths = np.array([len(t) for t in self._tokens], dtype=np.int64)
        flat = np.fromiter((t for row in self._tokens for t in row), dtype=np.int32)
        np.save(directory / "token_lengths.npy", lengths)
        np.save(directory / "tokens.npy", flat)
        self._tokenizer.save_vocab(str(directory))
        if self._bm25 is not None:
            self._bm25.save(str(directory / "bm25s"), show_progress=False)

    @classmethod
    def load(cls, directory: Path, context: BuildContext) -> Self:
        """Open a saved BM25 index."""
        verify_saved(directory)
        self = cls()
        lengths = load_array(directory / "token_lengths.npy", ndim=1)
        flat = load_array(directory / "tokens.npy", ndim=1)
        try:
            self._pids = json.loads((directory / "passage_ids.json").read_text())
            self._tokenizer.load_vocab(str(directory))
            if self._pids:
                self._bm25 = bm25s.BM25.load(str(directory / "bm25s"), show_progress=False)
        except EOFError:
            raise IndexFormatError(f"{directory}: an empty or truncated BM25 file") from None
        except (OSError, ValueError, KeyError) as exc:
            raise IndexFormatError(f"{directory}: unreadable BM25 index ({exc})") from exc
        self._check(directory, lengths, flat)
        bounds = np.concatenate([[0], np.cumsum(lengths)])
        self._tokens = [flat[a:b].tolist() for a, b in pairwise(bounds)]
        return self

    def _check(self, directory: Path, lengths: np.ndarray, flat: np.ndarray) -> None:
        """Raise unless the loaded arrays agree with each other and with the passage ids."""
        n_words = len(self._tokenizer.get_vocab_dict())
        scores = {} if self._bm25 is None else self._bm25.scores
        n_docs, docs = scores.get("num_docs"), scores.get("indices", np.zeros(0, np.int64))
        problem = None
        if len(lengths) != len(self._pids):
            problem = f"{len(lengths)} token lists for {len(self._pids)} ids"
        elif lengths.size and (int(lengths.min()) < 0 or int(lengths.sum()) != len(flat)):
            problem = f"token_lengths.npy does not add up to the {len(flat)} tokens of tokens.npy"
        elif flat.size and (int(flat.min()) < 0 or int(flat.max()) >= n_words):
            problem = f"tokens.npy names words outside the {n_words}-word vocabulary"
        elif n_docs is not None and n_docs != len(self._pids):
            problem = f"the bm25s matrix scores {n_docs} passages for {len(self._pids)} ids"
        elif docs.size and (int(docs.min()) < 0 or int(docs.max()) >= len(self._pids)):
            problem = "bm25s/indices.csc.index.npy names passages beyond the passage ids"
        if problem:
            raise IndexFormatError(f"{directory}: {problem}")
