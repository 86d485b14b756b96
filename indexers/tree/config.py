"""Build and search options of the tree index kind (settings section `[tree]`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from indexers.base import KindConfig
from rag.operators.specs import NavigatorSpec, SummarizerSpec, help_text

TreeBuilderName = Literal["raptor", "memwalker", "memtree"]


class TreeSettings(KindConfig):
    """Which builder shapes the tree, what summarizes its nodes, and each builder's knobs."""

    builder: TreeBuilderName = Field(
        "raptor",
        description="raptor: clustered summaries; memwalker: consecutive passages grouped; "
        "memtree: passages inserted one by one under the most similar node.",
    )
    scope: Literal["corpus", "document"] = Field(
        "corpus", description="One tree over the corpus, or one tree per source document."
    )
    summarizer: SummarizerSpec = Field(
        "auto", description=help_text("summarizer", "What writes the summary nodes")
    )
    summary_tokens: int = Field(100, ge=16, description="Length budget of a summary (cl100k).")
    seed: int = Field(0, description="Seed of UMAP and the Gaussian mixtures (raptor).")
    raptor_dims: int = Field(10, ge=2, description="UMAP dimensions before clustering.")
    raptor_threshold: float = Field(
        0.1, gt=0.0, lt=1.0, description="A node joins every cluster above this probability."
    )
    raptor_max_clusters: int = Field(50, ge=2, description="Largest mixture tried (by BIC).")
    raptor_bic_patience: int = Field(
        5,
        ge=0,
        description="Stop the BIC search after this many mixture sizes without a lower BIC "
        "(0: try every size up to raptor_max_clusters, as the paper's code does).",
    )
    raptor_max_cluster_tokens: int = Field(
        3500, ge=100, description="A cluster whose children are longer is clustered again."
    )
    raptor_max_layers: int = Field(5, ge=1, description="Summary layers at most.")
    memwalker_fanout: int = Field(6, ge=2, description="Children per node on a full build.")
    memwalker_max_fanout: int = Field(8, ge=2, description="A group this full splits on add.")
    memtree_threshold: float = Field(
        0.4, ge=-1.0, le=1.0, description="Similarity needed to descend at depth 0."
    )
    memtree_threshold_rate: float = Field(
        0.5, ge=0.0, description="theta(d) = threshold * exp(rate * d / depth of the tree)."
    )

    @model_validator(mode="after")
    def _fanouts_agree(self) -> TreeSettings:
        """A group must be able to hold a full build's fanout."""
        if self.memwalker_max_fanout < self.memwalker_fanout:
            raise ValueError("memwalker_max_fanout must be at least memwalker_fanout")
        return self


class TreeSearch(KindConfig):
    """How a query finds passages in the tree."""

    mode: Literal["collapsed", "traverse", "navigate"] = Field(
        "collapsed",
        description="collapsed: every node ranked by similarity; traverse: a beam per level "
        "from the roots down; navigate: MemWalker's walk (LLM or embedding navigator).",
    )
    token_budget: int = Field(
        2000, ge=1, description="collapsed: tokens of node text handed to the reader as context."
    )
    beam: int = Field(5, ge=1, description="traverse: nodes kept per level.")
    navigator: NavigatorSpec = Field(
        "auto",
        description=help_text(
            "navigator", "navigate: what walks the tree (auto: llm when the query has an LLM)"
        ),
    )
    max_steps: int = Field(
        20, ge=1, description="navigate: summary nodes opened (LLM: decisions) at most."
    )
    max_invalid: int = Field(
        3, ge=1, description="navigate (llm): invalid replies before stopping."
    )
