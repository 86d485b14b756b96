"""Graph machinery that knows no RAG: knowledge-graph build, synonymy kNN, Personalized PageRank.

    from graphs import CSRGraph, PersonalizedPageRank, synonymy_edges
    graph = CSRGraph.from_edges(n_nodes, src, dst, weights)
    scores = PersonalizedPageRank(graph).run(reset, damping=0.5)

Attributes are imported lazily (PEP 562), so that importing one module of the package does
not load FAISS.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rag.lazy import lazy_attributes

if TYPE_CHECKING:
    from graphs.csr import CSRGraph
    from graphs.ppr import PersonalizedPageRank, personalized_pagerank
    from graphs.synonymy import synonymy_edges

__all__ = ["CSRGraph", "PersonalizedPageRank", "personalized_pagerank", "synonymy_edges"]

_LAZY = {
    "CSRGraph": "graphs.csr",
    "PersonalizedPageRank": "graphs.ppr",
    "personalized_pagerank": "graphs.ppr",
    "synonymy_edges": "graphs.synonymy",
}


__getattr__, __dir__ = lazy_attributes("graphs", _LAZY, __all__)
