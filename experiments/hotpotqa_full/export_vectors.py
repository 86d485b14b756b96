"""Export real vectors for eval/bench/ann.py: passage embeddings and question embeddings.

Passages: every vector the embedding cache holds for the configured embedder (after
`rag index` of the 66k corpus that is its 66,756 passages; read from the cache, nothing is
re-embedded). Questions: the dataset's questions embedded as queries (uncached).

    python experiments/hotpotqa_full/export_vectors.py --out /tmp/hf66k-vectors \
        --dataset ~/.cache/memrag/hotpotqa-dev-full
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import numpy as np

from rag.embed import make_embedder
from rag.embed.disk_vectors import embed_to_npy
from rag.settings import load_settings

logger = logging.getLogger(__name__)


def cached_vectors(cache_dir: Path, prefix: str, dim: int) -> np.ndarray:
    """Every vector under `prefix` in the embedding cache, in key order."""
    import diskcache

    cache = diskcache.Cache(str(cache_dir / "embeddings"))
    keys = sorted(k for k in cache.iterkeys() if isinstance(k, str) and k.startswith(prefix))
    out = np.empty((len(keys), dim), dtype=np.float32)
    for row, key in enumerate(keys):
        out[row] = np.frombuffer(cache[key], dtype=np.float32)
    cache.close()
    return out


def main() -> None:
    """Write passages.npy and queries.npy into --out."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--dataset", type=Path, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    settings = load_settings()
    uncached = settings.embedder.model_copy(update={"cache": False})
    embedder = make_embedder(uncached, settings.cache_dir)
    args.out.mkdir(parents=True, exist_ok=True)
    passages = cached_vectors(settings.cache_dir, f"{embedder.cache_key}:", embedder.dim)
    np.save(args.out / "passages.npy", passages)
    logger.info("passages.npy: %d cached vectors", len(passages))
    questions = json.loads((args.dataset / "questions.json").read_bytes())
    texts = [str(q["question"]) for q in questions]
    embed_to_npy(embedder, texts, args.out / "queries.npy", batch_size=256)
    logger.info("queries.npy: %d questions", len(texts))


if __name__ == "__main__":
    main()
