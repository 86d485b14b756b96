"""RAPTOR's clustering: UMAP, then Gaussian mixtures sized by BIC, soft, global then local.

Sarthi et al. (2024) reduce embeddings with UMAP (n_neighbors ~ sqrt(n - 1) globally, 10
locally; cosine), fit Gaussian mixtures for 1..max components and keep the one with the lowest
BIC, and let a node join every cluster it belongs to with probability above a threshold. Each
global cluster is clustered again locally; a cluster whose texts are too long to summarize is
clustered once more. Written here from the paper's description, on umap-learn and scikit-learn.

The BIC search is what makes shaping slow: the paper's code fits every mixture size up to 50 for
each clustering. Here it stops once `bic_patience` sizes in a row have not lowered the BIC (BIC
over mixture sizes falls, bottoms out and rises again); `bic_patience=0` searches every size.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

logger = logging.getLogger(__name__)

#: UMAP neighbours for the local pass, as in the paper.
LOCAL_NEIGHBORS = 10


@dataclass(frozen=True)
class ClusterParams:
    """What shapes the clusters; one seed pins UMAP and the mixtures."""

    dims: int = 10
    threshold: float = 0.1
    max_clusters: int = 50
    max_tokens: int = 3500
    seed: int = 0
    bic_patience: int = 5


class ClusteringProgress:
    """Counts mixture searches as they finish; the expected total grows as clusters appear."""

    def __init__(self, on_change: Callable[[int, int], None] | None = None) -> None:
        """`on_change(done, expected)` is called after every change (a progress bar's update)."""
        self.done = 0
        self.expected = 0
        self.fits = 0
        self._on_change = on_change

    def expect(self, searches: int) -> None:
        """More mixture searches are now known to come."""
        self.expected += searches
        self._notify()

    def finished(self, fits: int) -> None:
        """One mixture search finished after `fits` mixture fits."""
        self.done += 1
        self.fits += fits
        self._notify()

    def _notify(self) -> None:
        if self._on_change is not None:
            self._on_change(self.done, max(self.expected, self.done))


def reduce(vectors: np.ndarray, neighbors: int, params: ClusterParams) -> np.ndarray:
    """UMAP to at most `params.dims` dimensions (cosine), seeded."""
    import umap

    n = len(vectors)
    dims = max(1, min(params.dims, n - 2))
    with warnings.catch_warnings():
        # A fixed random_state makes UMAP single-threaded, which it announces on every call.
        warnings.simplefilter("ignore", UserWarning)
        reducer = umap.UMAP(
            n_neighbors=max(2, min(neighbors, n - 1)),
            n_components=dims,
            metric="cosine",
            random_state=params.seed,
            init="spectral" if n > dims + 2 else "random",
        )
        reduced: np.ndarray = reducer.fit_transform(vectors)
    return reduced


def soft_mixture(
    points: np.ndarray, params: ClusterParams, progress: ClusteringProgress | None = None
) -> list[list[int]]:
    """Cluster members by a BIC-chosen Gaussian mixture; a point joins every likely cluster."""
    from sklearn.mixture import GaussianMixture

    n = len(points)
    best: GaussianMixture | None = None
    best_bic, best_size, fits = np.inf, 0, 0
    for components in range(1, min(params.max_clusters, n) + 1):
        if params.bic_patience and components - best_size > params.bic_patience:
            break
        mixture = GaussianMixture(components, random_state=params.seed).fit(points)
        fits += 1
        bic = mixture.bic(points)
        if bic < best_bic:
            best, best_bic, best_size = mixture, bic, components
    assert best is not None
    if progress is not None:
        progress.finished(fits)
    probs = best.predict_proba(points)
    members: list[list[int]] = [[] for _ in range(probs.shape[1])]
    for i, row in enumerate(probs):
        # A point likely in no cluster still goes to its most likely one, never dropped.
        chosen = np.flatnonzero(row > params.threshold)
        for c in chosen if len(chosen) else [int(row.argmax())]:
            members[c].append(i)
    return [m for m in members if m]


def _small(n: int, params: ClusterParams) -> bool:
    """Too few points for UMAP to reduce to `dims` dimensions: one cluster."""
    return n <= params.dims + 1


def _global_local(
    vectors: np.ndarray, params: ClusterParams, progress: ClusteringProgress
) -> list[list[int]]:
    """Global clusters, each split by a local pass."""
    n = len(vectors)
    if _small(n, params):
        return [list(range(n))]
    progress.expect(1)
    global_points = reduce(vectors, int((n - 1) ** 0.5), params)
    found = soft_mixture(global_points, params, progress)
    progress.expect(sum(not _small(len(m), params) for m in found))
    clusters: list[list[int]] = []
    for members in found:
        if _small(len(members), params):
            clusters.append(members)
            continue
        local = reduce(vectors[members], LOCAL_NEIGHBORS, params)
        clusters.extend([members[j] for j in sub] for sub in soft_mixture(local, params, progress))
    return clusters


def cluster(
    vectors: np.ndarray,
    tokens: Sequence[int],
    params: ClusterParams,
    progress: ClusteringProgress | None = None,
    depth: int = 0,
) -> list[list[int]]:
    """Row indices of each cluster; clusters whose texts pass `max_tokens` are split again."""
    progress = progress or ClusteringProgress()
    found = _global_local(vectors, params, progress)
    result: list[list[int]] = []
    for members in found:
        total = sum(tokens[i] for i in members)
        if total <= params.max_tokens or len(members) <= 1:
            result.append(members)
        elif len(members) < len(vectors) and depth < 3:
            sub = cluster(
                vectors[members], [tokens[i] for i in members], params, progress, depth + 1
            )
            result.extend([members[j] for j in s] for s in sub)
        else:
            logger.debug("a cluster of %d nodes (%d tokens) is split in order", len(members), total)
            result.extend(_halved(members, tokens, params.max_tokens))
    return result


def _halved(members: list[int], tokens: Sequence[int], max_tokens: int) -> list[list[int]]:
    """Consecutive halves of a cluster that clustering cannot split, each within the budget."""
    if len(members) <= 1 or sum(tokens[i] for i in members) <= max_tokens:
        return [members]
    half = len(members) // 2
    return _halved(members[:half], tokens, max_tokens) + _halved(members[half:], tokens, max_tokens)
