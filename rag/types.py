"""The data model every part of memrag speaks: documents, passages, hits, answers and traces."""

from __future__ import annotations

import hashlib
from abc import abstractmethod
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, model_validator

from rag.trace_outputs import OtherOutput, StepOutput, legacy_outputs


def passage_id(text: str, title: str | None = None) -> str:
    """Return the content-hash id of a passage: 16 hex chars of SHA-256 over title and text."""
    # The title is part of identity because corpora such as MuSiQue repeat a text under two titles.
    key = f"{title or ''}\x1f{text}".encode()
    return hashlib.sha256(key).hexdigest()[:16]


class Document(BaseModel):
    """A unit of source material as read from a file or a dataset record, before chunking."""

    text: str
    source: str = Field(description="File path, or path#record for records inside a JSON file.")
    title: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class Passage(BaseModel):
    """A retrievable chunk of a document; its id is a hash of its content."""

    id: str
    text: str
    title: str | None = None
    source: str = ""
    start: int | None = Field(default=None, description="Character offset in the source document.")
    end: int | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def from_text(cls, text: str, title: str | None = None, **fields: Any) -> Passage:
        """Build a passage whose id is derived from its title and text."""
        return cls(id=passage_id(text, title), text=text, title=title, **fields)

    @property
    def embedding_text(self) -> str:
        """The text embedders and BM25 see: title, newline, text (as in HippoRAG setups)."""
        return f"{self.title}\n{self.text}" if self.title else self.text


def shorten(text: str, limit: int = 40) -> str:
    """A text on one line, cut with an ellipsis to fit a table cell, label or outline row."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class _Reason(BaseModel):
    """Why a retriever returned a passage; `query` is set when it searched another text."""

    query: str | None = Field(
        None, description="The text searched (a clue, a thought) when it was not the question."
    )

    @abstractmethod
    def describe(self) -> str:
        """One line saying why the passage was returned (each reason says it its own way)."""


class DenseReason(_Reason):
    """Nearest by embedding: the cosine similarity of query and passage."""

    type: Literal["dense"] = "dense"
    similarity: float

    def describe(self) -> str:
        """E.g. 'cosine 0.812'."""
        return f"cosine {self.similarity:.3f}"


class BM25Reason(_Reason):
    """Lexical match: the query terms (stemmed) that the passage contains."""

    type: Literal["bm25"] = "bm25"
    terms: list[str] = Field(default_factory=list)

    def describe(self) -> str:
        """E.g. 'terms: curi, born'."""
        return "terms: " + (", ".join(self.terms) or "none")


class GraphReason(_Reason):
    """Personalized PageRank on the knowledge graph: the mass a passage got, and from where."""

    type: Literal["graph"] = "graph"
    method: str
    pagerank: float | None = None
    dense: float = Field(description="Cosine similarity of query and passage.")
    seeds: list[tuple[str, float]] = Field(
        default_factory=list, description="Seed entities in this passage, with their weights."
    )
    facts: list[str] = Field(default_factory=list, description="Matched facts it asserts.")
    fused_with_dense: float | None = Field(
        None, description="Weight of the dense ranking fused with PageRank's, when fused."
    )
    fallback: str | None = Field(None, description="Why dense ranking stood in for the graph.")

    def describe(self) -> str:
        """The method, PageRank mass, cosine and the first seeds (or why dense stood in)."""
        if self.fallback:
            return f"{self.method}: dense fallback ({self.fallback})"
        mass = f"PageRank {self.pagerank:.4f}, " if self.pagerank is not None else ""
        seeds = ", ".join(name for name, _ in self.seeds[:3])
        return f"{self.method}: {mass}cosine {self.dense:.3f}" + (
            f"; seeds {seeds}" if seeds else ""
        )


class TreeReason(_Reason):
    """A node of a summary tree: the path of node ids from the root and the node's layer."""

    type: Literal["tree"] = "tree"
    path: list[str] = Field(
        default_factory=list, description="Node ids from a root down to this passage."
    )
    layer: int = Field(0, description="Level of the node that found it (0: the passage itself).")
    similarity: float | None = Field(None, description="Cosine similarity of query and passage.")
    navigator: str | None = Field(None, description="navigate: llm or embedding.")

    def describe(self) -> str:
        """The layer and the path of nodes that led to the passage."""
        sim = f", cosine {self.similarity:.3f}" if self.similarity is not None else ""
        return f"tree layer {self.layer} via {' › '.join(self.path)}{sim}"


class FusionReason(_Reason):
    """Reciprocal-rank fusion: the rank in each input list and that list's own reason."""

    type: Literal["fusion"] = "fusion"
    ranks: dict[str, int]
    sources: dict[str, HitReason] = Field(default_factory=dict)

    def describe(self) -> str:
        """The rank in each fused list, best first."""
        ranks = sorted(self.ranks.items(), key=lambda kv: kv[1])
        return "RRF: " + ", ".join(f"{shorten(name)} #{rank}" for name, rank in ranks)


class RerankReason(_Reason):
    """A rerank step's judgement: the relevance score, the rank change and the earlier reason."""

    type: Literal["rerank"] = "rerank"
    scorer: str = Field(description="What scored it, e.g. llm:qwen2.5-0.5b or sentence.")
    relevance: float | None = Field(None, description="Its score; None below the scored top.")
    before: int = Field(description="1-based rank in the list that was reranked.")
    after: int = Field(description="1-based rank after reranking.")
    details: dict[str, float] = Field(
        default_factory=dict, description="The scorer's parts, e.g. p_yes and p_no."
    )
    source: HitReason | None = Field(None, description="Why the earlier list held it.")

    def describe(self) -> str:
        """E.g. 'rerank llm:qwen2.5-0.5b 0.913: #7 → #1'."""
        if self.relevance is None:
            return f"not reranked (below the scored top): #{self.before} → #{self.after}"
        return f"rerank {self.scorer} {self.relevance:.3f}: #{self.before} → #{self.after}"


HitReason = Annotated[
    DenseReason | BM25Reason | GraphReason | TreeReason | FusionReason | RerankReason,
    Field(discriminator="type"),
]


class Hit(BaseModel):
    """One retrieved passage with its score, the retriever that found it, and why."""

    passage_id: str
    score: float
    retriever: str
    reason: HitReason | None = None


class Citation(BaseModel):
    """A passage an answer relies on, with the quoted sentence that supports it."""

    passage_id: str
    quote: str
    title: str | None = None
    source: str | None = None
    note: str | None = Field(
        None, description="How the answer was drawn from the quote (a relative date resolved)."
    )


class TraceEvent(BaseModel):
    """What one pipeline step saw and did; a step run inside another names it as `parent`.

    `seconds`, `llm_calls` and `llm_tokens` include the step's nested steps.
    """

    id: int = 0
    parent: int | None = None
    step: str
    inputs: dict[str, Any] = Field(default_factory=dict)
    outputs: StepOutput = Field(default_factory=OtherOutput)
    seconds: float = 0.0
    llm_calls: int = Field(0, description="Backend requests (cache hits not counted).")
    llm_cached: int = Field(0, description="Calls answered from the LLM disk cache.")
    llm_tokens: int = 0

    @model_validator(mode="before")
    @classmethod
    def _tag_old_outputs(cls, data: Any) -> Any:
        """Outputs saved before they were typed carry no `type`; the step label gives it."""
        if not isinstance(data, dict):
            return data
        outputs = data.get("outputs")
        if isinstance(outputs, dict) and "type" not in outputs:
            inputs = data.get("inputs") or {}
            return {**data, "outputs": legacy_outputs(str(data.get("step", "")), inputs, outputs)}
        return data


class Answer(BaseModel):
    """The result of a query: answer text, its citations, the ranked hits and the full trace."""

    question: str
    text: str
    citations: list[Citation] = Field(default_factory=list)
    hits: list[Hit] = Field(default_factory=list)
    trace: list[TraceEvent] = Field(default_factory=list)
    reader: str = ""


FusionReason.model_rebuild()
RerankReason.model_rebuild()
