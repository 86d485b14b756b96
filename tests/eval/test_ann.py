"""The ANN benchmark's parts on small clustered vectors: real-like draws, exact truth, one plan."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from eval.bench.ann import exact_top, measure_plan, plans_for
from eval.bench.real_like import real_like
from indexers.faiss_kinds import FaissPlan


def _clustered(rng: np.random.Generator, n: int, dim: int = 32) -> np.ndarray:
    centres = rng.normal(size=(20, dim))
    vectors = centres[rng.integers(0, 20, n)] + 0.3 * rng.normal(size=(n, dim))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def test_real_like_vectors_are_unit_and_near_their_sources(tmp_path: Path) -> None:
    base = _clustered(np.random.default_rng(0), 400)
    drawn = real_like(base, 1000, tmp_path / "v.npy", seed=1)
    assert isinstance(drawn, np.memmap) and drawn.shape == (1000, 32)
    assert np.allclose(np.linalg.norm(drawn, axis=1), 1, atol=1e-5)
    # Each draw is closer to some real vector than a uniform random direction would be.
    nearest = (drawn @ base.T).max(axis=1)
    assert np.median(nearest) > 0.6


def test_exact_top_is_brute_force() -> None:
    rng = np.random.default_rng(2)
    vectors, queries = _clustered(rng, 300), _clustered(rng, 5)
    expected = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]
    assert (exact_top(vectors, queries) == expected).all()


def test_measure_plan_reports_recall_against_exact(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    vectors, queries = _clustered(rng, 2000), _clustered(rng, 20)
    for name, value in (("v", vectors), ("q", queries), ("t", exact_top(vectors, queries))):
        np.save(tmp_path / f"{name}.npy", value)
    paths = [str(tmp_path / f"{n}.npy") for n in "vqt"]
    (flat,) = measure_plan(FaissPlan("flat"), *paths)
    assert flat["recall@10"] == 1.0 and flat["n"] == 2000 and flat["cpu_p50_ms"] >= 0
    ivf = measure_plan(FaissPlan("ivf", nlist=16), *paths)
    assert [r["index"] for r in ivf] == [f"ivf16,flat nprobe={p}" for p in (8, 16)]
    assert ivf[-1]["recall@10"] == 1.0  # every list visited: exact
    assert len(plans_for(2000, "full")) > len(plans_for(2000, "quick")) > 3
