"""Index kinds behind one contract (`indexers.base.Index`): vector (FAISS) and BM25 so far."""
