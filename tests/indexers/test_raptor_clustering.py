"""RAPTOR's mixture-size search: bounded by patience, the same clusters, progress reported."""

from __future__ import annotations

import numpy as np

from indexers.tree.clustering import ClusteringProgress, ClusterParams, soft_mixture


def three_blobs() -> np.ndarray:
    """Three well-separated 2-d blobs of 40 points each."""
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    return np.vstack([c + rng.normal(scale=0.5, size=(40, 2)) for c in centres])


def test_patience_stops_the_search_after_the_best_size_and_finds_the_same_clusters() -> None:
    points = three_blobs()
    exhaustive, bounded = ClusteringProgress(), ClusteringProgress()
    full = soft_mixture(points, ClusterParams(max_clusters=20, bic_patience=0), exhaustive)
    quick = soft_mixture(points, ClusterParams(max_clusters=20, bic_patience=2), bounded)
    assert sorted(map(sorted, full)) == sorted(map(sorted, quick))
    assert len(quick) == 3
    assert exhaustive.fits == 20
    assert bounded.fits == 3 + 2  # the best size, then two sizes that did not beat it


def test_progress_reports_each_search_and_a_growing_expectation() -> None:
    seen: list[tuple[int, int]] = []
    progress = ClusteringProgress(lambda done, expected: seen.append((done, expected)))
    progress.expect(1)
    soft_mixture(three_blobs(), ClusterParams(max_clusters=6), progress)
    progress.expect(3)
    assert seen == [(0, 1), (1, 1), (1, 4)]
    assert progress.done == 1 and progress.fits >= 3
