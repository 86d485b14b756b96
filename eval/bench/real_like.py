"""Real-like vectors: copies of real embeddings with noise, to test indexes past a real corpus.

Each vector is a random real embedding plus Gaussian noise, renormalized. The noise is scaled
so that a copy lies about as far from its source as the real corpus's typical nearest
neighbour: the copies keep the real vectors' anisotropy and clusters without piling up as
near duplicates (uniform random vectors, HNSW's worst case, look like no real corpus).
"""

from __future__ import annotations

import logging
from pathlib import Path

import faiss
import numpy as np

logger = logging.getLogger(__name__)

#: Rows generated per step, which bounds the temporary float32 arrays.
STEP = 65_536


def real_like(base: np.ndarray, size: int, out: Path, seed: int = 0) -> np.ndarray:
    """`size` unit vectors around random rows of `base`, written to a .npy at `out` (mapped)."""
    rng = np.random.default_rng(seed)
    sigma = _neighbour_noise(base, rng)
    vectors = np.lib.format.open_memmap(
        out, mode="w+", dtype=np.float32, shape=(size, base.shape[1])
    )
    for start in range(0, size, STEP):
        count = min(STEP, size - start)
        rows = base[np.sort(rng.integers(0, len(base), count))]
        noisy = rows + rng.normal(0.0, sigma, rows.shape).astype(np.float32)
        vectors[start : start + count] = noisy / np.linalg.norm(noisy, axis=1, keepdims=True)
    vectors.flush()
    del vectors
    logger.info(
        "real-like vectors: %d around %d real ones, noise sigma %.4f", size, len(base), sigma
    )
    return np.load(out, mmap_mode="r")


def _neighbour_noise(base: np.ndarray, rng: np.random.Generator, probes: int = 500) -> float:
    """Per-coordinate noise whose length matches the median distance to a nearest neighbour."""
    index = faiss.IndexFlatIP(base.shape[1])
    index.add(np.ascontiguousarray(base, dtype=np.float32))
    picks = rng.choice(len(base), min(probes, len(base)), replace=False)
    sims, _ = index.search(np.ascontiguousarray(base[picks]), 2)
    distance = float(np.median(np.sqrt(np.maximum(0.0, 2 - 2 * sims[:, 1]))))
    return distance / np.sqrt(base.shape[1])
