"""What each index kind finds while searching, beside its hits: typed, for traces and the inspector.

A kind's search reports its details as a mapping; `indexers.base.Index.search_with_details`
validates them into the kind's model here, so a key renamed in a kind is an error at the first
search (the conformance suite runs every kind), not a blank panel in the inspector.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Details(BaseModel):
    """Base of a kind's search details; an unknown key is an error, not a silent rename."""

    model_config = ConfigDict(extra="forbid")


class GraphSearchDetails(_Details):
    """A knowledge-graph search: the seed entities, the facts matched, and any fallback."""

    type: Literal["graph"] = "graph"
    method: str
    seeds: list[tuple[str, float]] = Field(default_factory=list)
    facts: list[tuple[str, float]] = Field(default_factory=list)
    fallback: str | None = None


class TreeContext(_Details):
    """A summary handed to the reader, with where it sits and how close it is to the query."""

    node: str
    level: int
    similarity: float
    text: str


class TreeSearchDetails(_Details):
    """A summary-tree search: its mode, the summaries for the reader and any walk taken."""

    type: Literal["tree"] = "tree"
    mode: str
    context: list[TreeContext] = Field(default_factory=list)
    walk: list[dict[str, Any]] = Field(default_factory=list)
    navigator: str | None = None
    answer: str | None = None
    answered_by: str | None = None
    invalid_replies: int | None = None


class BM25SearchDetails(_Details):
    """A lexical search: the (stemmed) query terms the index knows."""

    type: Literal["bm25"] = "bm25"
    terms: list[str] = Field(default_factory=list)


SearchDetails = Annotated[
    GraphSearchDetails | TreeSearchDetails | BM25SearchDetails, Field(discriminator="type")
]
#: Kinds whose search details have a model above.
DETAILED_KINDS = ("graph", "tree", "bm25")
