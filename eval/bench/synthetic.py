"""Synthetic corpora for scaling runs: random unit vectors and Zipf-distributed pseudo-word texts.

They carry no meaning; they only reproduce the shapes that drive index costs: vector count
and dimension, and a word distribution whose vocabulary grows with the corpus as real text's
does (Heaps' law).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from itertools import pairwise

import numpy as np

from rag.embed.base import Embedder
from rag.types import Passage

#: Pseudo-words to draw from; large enough that the vocabulary seen keeps growing up to ~1M
#: passages, as a real corpus's does.
VOCAB_SIZE = 1_000_000
#: Word frequencies follow a "double Zipf" law, as in large English corpora (Ferrer i Cancho
#: and Solé, 2001): frequency ~ 1/rank up to this rank, ~ 1/rank² beyond it. With 10,000,
#: 1,890 passages hold about 20,000 distinct words, as MuSiQue-100 (17,700) does; a single
#: exponent near 1 would make the vocabulary grow almost linearly, far faster than real text.
ZIPF_KNEE = 10_000
#: Words per passage, uniform in this range (MuSiQue paragraphs average about 80).
WORDS_PER_PASSAGE = (40, 120)
#: Passages generated per batch, which bounds the temporary arrays.
BATCH = 50_000


class HashEmbedder(Embedder):
    """Maps each text to a random unit vector seeded by its hash: same text, same vector.

    It knows nothing of meaning; scaling runs use it so that vector indexes get the embedder
    dimension without loading a model.
    """

    name = "synthetic-hash"

    def __init__(self, dim: int) -> None:
        """Produce vectors of `dim` dimensions."""
        self.dim = dim

    def embed(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """One seeded random unit vector per text."""
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
            out[row] = np.random.default_rng(seed).standard_normal(self.dim)
        return normalized(out)


def normalized(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, as float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def unit_vectors(rng: np.random.Generator, count: int, dim: int) -> np.ndarray:
    """`count` random unit vectors, uniform on the sphere."""
    return normalized(rng.standard_normal((count, dim), dtype=np.float32))


def near_copies(rng: np.random.Generator, vectors: np.ndarray, noise: float = 0.75) -> np.ndarray:
    """Unit vectors near `vectors` (cosine about 1/sqrt(1 + noise²)), to use as queries."""
    dim = vectors.shape[1]
    jitter = rng.standard_normal(vectors.shape, dtype=np.float32) * (noise / np.sqrt(dim))
    return normalized(vectors + jitter)


def synthetic_ids(start: int, count: int) -> list[str]:
    """Passage ids for synthetic rows start..start+count, shaped like real ones (16 hex)."""
    return [
        hashlib.blake2b(i.to_bytes(8, "little"), digest_size=8).hexdigest()
        for i in range(start, start + count)
    ]


def pseudo_vocabulary(size: int = VOCAB_SIZE) -> np.ndarray:
    """Distinct lower-case pseudo-words of 5 to 10 letters, most frequent first (object array)."""
    rng = np.random.default_rng(12345)
    # An odd multiplier not divisible by 13 permutes 0..26^5-1, so 5-letter stems are unique.
    scrambled = (np.arange(size, dtype=np.int64) * 7919 + 104729) % 26**5
    stem = (scrambled[:, None] // 26 ** np.arange(5)) % 26
    tail = rng.integers(0, 26, size=(size, 5))
    letters = (np.hstack([stem, tail]) + ord("a")).astype(np.uint8)
    lengths = rng.integers(5, 11, size=size)
    raw = np.ascontiguousarray(letters).view("S10").ravel().tolist()
    return np.array(
        [w[:n].decode() for w, n in zip(raw, lengths.tolist(), strict=True)], dtype=object
    )


def zipf_texts(rng: np.random.Generator, count: int, vocab: np.ndarray) -> list[str]:
    """`count` texts of words drawn from `vocab` with double-Zipf frequencies (see ZIPF_KNEE)."""
    rank = np.arange(1, len(vocab) + 1, dtype=np.float64)
    weights = np.where(rank <= ZIPF_KNEE, 1.0 / rank, ZIPF_KNEE / rank**2)
    cdf = np.cumsum(weights)
    cdf /= cdf[-1]
    texts: list[str] = []
    for start in range(0, count, BATCH):
        lengths = rng.integers(
            WORDS_PER_PASSAGE[0], WORDS_PER_PASSAGE[1] + 1, min(BATCH, count - start)
        )
        ranks = np.searchsorted(cdf, rng.random(int(lengths.sum())), side="right")
        words = vocab[np.minimum(ranks, len(vocab) - 1)].tolist()
        bounds = np.concatenate([[0], np.cumsum(lengths)]).tolist()
        texts.extend(" ".join(words[a:b]) for a, b in pairwise(bounds))
    return texts


def synthetic_passages(rng: np.random.Generator, count: int) -> list[Passage]:
    """`count` passages of pseudo-word text (see `zipf_texts`) with synthetic ids and no title."""
    texts = zipf_texts(rng, count, pseudo_vocabulary())
    return [
        Passage(id=pid, text=text, source="synthetic")
        for pid, text in zip(synthetic_ids(0, count), texts, strict=True)
    ]
