"""The evaluation data model: one question with its gold labels, and a loaded dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field


class QAItem(BaseModel):
    """One question with its reference answers and the ids of its gold passages."""

    id: str
    question: str
    answers: list[str] = Field(default_factory=list, description="The answer, then its aliases.")
    gold_ids: list[str] = Field(
        default_factory=list, description="Passage ids (content hashes) of the gold passages."
    )
    gold_titles: list[str] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(
        default_factory=dict,
        description="Extras such as hops; 'unmatched_gold' lists gold ids or titles not in the "
        "corpus.",
    )


class Dataset(BaseModel):
    """A question set, the corpus to index for it, and a hash that pins both and the selection."""

    name: str
    corpus_path: Path = Field(
        description="A JSON/JSONL corpus file that `rag index` can read; for a per-document set, "
        "the folder of its documents' corpus files."
    )
    questions_path: Path
    questions: list[QAItem]
    openie_path: Path | None = Field(
        default=None, description="A cached OpenIE file (openie*.json) found beside the data."
    )
    corpus_size: int = Field(description="Distinct passages the corpus file (or files) give.")
    content_hash: str = Field(
        description="SHA-256 over the corpus and questions file bytes and the selection."
    )
    documents: dict[str, Path] = Field(
        default_factory=dict,
        description="Per-document sets (QMSum, LoCoMo): document id -> its own corpus file; each "
        "question, whose metadata['document'] names its document, is asked of that document "
        "alone. Empty when all questions share the one corpus.",
    )
    headline: list[str] = Field(
        default_factory=list,
        description="The metrics the summary table shows; empty for the default columns "
        "(recall@k, MRR, EM, F1).",
    )
    gold_chunking: dict[str, Any] | None = Field(
        default=None,
        description="The chunking settings the gold ids were computed for, when they depend on "
        "it; an index chunked otherwise would not hold them.",
    )
