"""The data model every part of memrag speaks: documents, passages, hits, answers and traces."""

from __future__ import annotations

import hashlib
from typing import Any

from pydantic import BaseModel, Field


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


class Hit(BaseModel):
    """One retrieved passage with its score, the retriever that found it, and why."""

    passage_id: str
    score: float
    retriever: str
    reason: dict[str, Any] = Field(default_factory=dict)


class Citation(BaseModel):
    """A passage an answer relies on, with the quoted sentence that supports it."""

    passage_id: str
    quote: str
    title: str | None = None
    source: str | None = None


class TraceEvent(BaseModel):
    """What one pipeline step saw and did: its inputs, outputs, time and LLM usage."""

    step: str
    inputs: dict[str, Any] = Field(default_factory=dict)
    outputs: dict[str, Any] = Field(default_factory=dict)
    seconds: float = 0.0
    llm_calls: int = 0
    llm_tokens: int = 0


class Answer(BaseModel):
    """The result of a query: answer text, its citations, the ranked hits and the full trace."""

    question: str
    text: str
    citations: list[Citation] = Field(default_factory=list)
    hits: list[Hit] = Field(default_factory=list)
    trace: list[TraceEvent] = Field(default_factory=list)
    reader: str = ""
