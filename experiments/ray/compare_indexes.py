"""Compare two index dirs file by file: passage ids, graph and dense vectors, graph files.

python experiments/ray/compare_indexes.py DIR_A DIR_B
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np


def main() -> None:
    """Print, per compared artefact, whether the two dirs hold the same thing."""
    a, b = (Path(p) for p in sys.argv[1:3])
    from rag.store import PassageStore

    ids = []
    for d in (a, b):
        store = PassageStore(d / PassageStore.FILENAME)
        ids.append(sorted(store.ids()))
        store.close()
    out: dict[str, object] = {"ids_equal": ids[0] == ids[1], "passages": len(ids[0])}
    for name in ("passage_vectors.npy", "entity_vectors.npy", "fact_vectors.npy"):
        x, y = np.load(a / "graph" / name), np.load(b / "graph" / name)
        same_shape = x.shape == y.shape
        out[name] = {
            "shape": list(x.shape),
            "equal": bool(same_shape and np.array_equal(x, y)),
            "max_abs_diff": float(np.abs(x - y).max()) if same_shape and x.size else None,
        }
    import faiss

    dense = [faiss.read_index(str(next((d / "dense").glob("*.faiss")))) for d in (a, b)]
    # An ID map around a flat index: its ids, then the inner index's rows in that order.
    maps = [faiss.vector_to_array(ix.id_map) for ix in dense]
    inner = [faiss.downcast_index(ix.index) for ix in dense]
    vectors = [ix.reconstruct_n(0, ix.ntotal) for ix in inner]
    out["dense_ids_equal"] = bool(np.array_equal(maps[0], maps[1]))
    out["dense_vectors_equal"] = bool(np.array_equal(vectors[0], vectors[1]))
    graphs = [json.loads((d / "graph" / "graph.json").read_text()) for d in (a, b)]
    out["graph_json_equal"] = graphs[0] == graphs[1]
    for name in ("csr_indptr.npy", "csr_indices.npy", "csr_weights.npy"):
        out[name + "_equal"] = bool(
            np.array_equal(np.load(a / "graph" / name), np.load(b / "graph" / name))
        )
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
