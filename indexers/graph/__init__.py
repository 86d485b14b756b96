"""The knowledge-graph index (HippoRAG 1 and 2): OpenIE triples, synonymy edges, PageRank."""

from indexers.graph.config import GraphSearch, GraphSettings
from indexers.graph.index import GraphIndex
from indexers.graph.retrievers import GraphResult, retrieve

__all__ = ["GraphIndex", "GraphResult", "GraphSearch", "GraphSettings", "retrieve"]
