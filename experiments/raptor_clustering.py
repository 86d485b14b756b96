"""Where RAPTOR's tree shaping spends its time, and what bounding the BIC search changes.

    python experiments/raptor_clustering.py ../shared/data/musique-100/corpus.json --limit 962

Embeds the corpus with the bundled embedder (cached), then times UMAP and the Gaussian-mixture
BIC search of one RAPTOR layer with the exhaustive search (every size up to max_clusters) and
with the early-stopping search (stop after `patience` sizes without a lower BIC), and reports
how far apart the chosen clusterings are (adjusted Rand index of the hard assignments).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from indexers.tree import clustering
from indexers.tree.clustering import ClusteringProgress, ClusterParams


def main() -> None:
    """Time one RAPTOR layer's clustering under each BIC search."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--patience", type=int, nargs="+", default=[0, 5])
    args = parser.parse_args()

    from rag.embed import make_embedder
    from rag.settings import Settings

    records = json.loads(args.corpus.read_text(encoding="utf-8"))
    texts = [f"{r['title']}\n{r['text']}" for r in records]
    texts = texts[: args.limit] if args.limit else texts
    settings = Settings(show_progress=False)
    vectors = make_embedder(settings.embedder, settings.cache_dir).embed(texts)
    tokens = [max(1, len(t.split())) for t in texts]
    clustering.reduce(vectors[:50], 10, ClusterParams())  # numba compiles once per process
    hard: dict[int, np.ndarray] = {}
    for patience in args.patience:
        params = ClusterParams(bic_patience=patience)
        progress = ClusteringProgress()
        started = time.perf_counter()
        groups = clustering.cluster(vectors, tokens, params, progress)
        seconds = time.perf_counter() - started
        labels = np.zeros(len(texts), dtype=int)
        for number, members in enumerate(groups):
            labels[members] = number  # a soft member keeps its last cluster: enough to compare
        hard[patience] = labels
        searches = f"{progress.done} mixture searches, {progress.fits} fits"
        shape = f"{len(texts)} nodes -> {len(groups)} clusters"
        print(f"patience {patience or 'off'}: {shape} in {seconds:.1f} s; {searches}")
    if len(hard) > 1:
        from sklearn.metrics import adjusted_rand_score

        first, *others = hard
        for other in others:
            ari = adjusted_rand_score(hard[first], hard[other])
            print(f"adjusted Rand index, patience {first} vs {other}: {ari:.3f}")


if __name__ == "__main__":
    main()
