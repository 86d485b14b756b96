"""Read a corpus file the way `rag index` does, to know its passage ids and titles."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import InputError
from rag.ingest.records import read_json, read_jsonl
from rag.types import passage_id


def record_passage_id(text: str, title: str | None) -> str:
    """The id `rag index` gives a record short enough to stay one passage."""
    # Ingestion strips each chunk and drops blank titles before hashing; mirror both here so
    # gold ids computed from question files equal the ids of indexed passages.
    clean_title = title if isinstance(title, str) and title.strip() else None
    return passage_id(text.strip(), clean_title)


@dataclass
class CorpusIndex:
    """The passage ids of a corpus file and, per title, the ids of that title's passages."""

    ids: set[str] = field(default_factory=set)
    by_title: dict[str, list[str]] = field(default_factory=dict)

    def add(self, text: str, title: str | None) -> None:
        """Record one passage."""
        pid = record_passage_id(text, title)
        if pid in self.ids:
            return
        self.ids.add(pid)
        if title:
            self.by_title.setdefault(title, []).append(pid)


def read_corpus(path: Path) -> CorpusIndex:
    """Read a JSON or JSONL corpus into its passage ids, with the same record rules as ingestion."""
    if not path.is_file():
        raise InputError(f"{path}: corpus file not found")
    docs = read_jsonl(path) if path.suffix.lower() == ".jsonl" else read_json(path)
    corpus = CorpusIndex()
    for doc in docs:
        corpus.add(doc.text, doc.title)
    return corpus
