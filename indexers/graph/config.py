"""Query-time settings of graph retrieval, shared by the HippoRAG 1 and 2 retrievers."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from indexers.base import KindConfig
from rag.operators.specs import OpenIESpec, RecognitionSpec, help_text


class GraphSettings(KindConfig):
    """How passages become triples and how entities are linked (settings section `[graph]`)."""

    extractor: OpenIESpec = Field(
        "auto",
        description=help_text(
            "openie",
            "What reads passages into entities and triples (pattern: offline rules; "
            "cache:PATH: a HippoRAG OpenIE file, pattern rules for passages it lacks)",
        ),
    )
    synonymy_threshold: float = Field(0.8, ge=-1.0, le=1.0, description="Cosine for an edge.")
    synonymy_max_neighbors: int = Field(100, ge=0, description="Synonymy edges per new entity.")
    synonymy_method: Literal["auto", "flat", "hnsw"] = Field(
        "auto", description="Exact FAISS search, HNSW, or auto by size."
    )


class GraphSearch(KindConfig):
    """How a query is turned into seed nodes and how PageRank spreads from them.

    The hipporag2 defaults differ from the HippoRAG 2 paper's code in two measured ways (see
    docs/graph.md): 3 facts instead of 5, and the query's own entities linked to nodes as seeds.
    `fact_top_k=5, query_entity_weight=0` gives the paper's retriever.
    """

    method: Literal["hipporag", "hipporag2"] = Field(
        "hipporag2", description="hipporag: query entities as seeds; hipporag2: matched facts."
    )
    damping: float = Field(0.5, gt=0.0, lt=1.0, description="Probability of following an edge.")
    synonymy: bool = Field(True, description="Use synonymy edges between similar entities.")
    specificity: bool = Field(True, description="Divide seed weights by passages per entity.")
    passage_nodes: bool = Field(
        True, description="hipporag2: passages are graph nodes seeded by dense scores."
    )
    passage_node_weight: float = Field(
        0.05, ge=0.0, description="hipporag2: dense score x this = a passage node's seed."
    )
    fact_top_k: int = Field(
        3, ge=1, description="hipporag2: facts kept after matching (the paper's code: 5)."
    )
    min_fact_similarity: float = Field(
        0.0, description="hipporag2: facts below this cosine to the query are not seeds."
    )
    recognition: RecognitionSpec = Field(
        "auto",
        description=help_text(
            "recognition", "hipporag2: which matched facts seed the walk (llm: an LLM filter)"
        ),
    )
    query_entity_weight: float = Field(
        1.0,
        ge=0.0,
        description="hipporag2: also seed the nodes nearest to the query's named entities "
        "(HippoRAG 1's linking), at this weight relative to fact seeds; 0 = off, as in the "
        "HippoRAG 2 paper.",
    )
    dense_fusion: float | Literal["auto"] = Field(
        "auto",
        description="Fuse the PageRank ranking with the dense ranking (reciprocal rank fusion) "
        "at this weight for dense; 0 = PageRank alone; auto = 1 when most triples come from the "
        "offline pattern extractor (too noisy to trust alone), 0.5 for spaCy's, else 0.",
    )
    link_top_k: int = Field(
        1, ge=1, description="hipporag: entity nodes linked to each query entity."
    )
