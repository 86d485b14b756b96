"""Index kinds that meet one contract (`indexers.base.Index`): vector (FAISS), BM25, and later tree and graph."""
