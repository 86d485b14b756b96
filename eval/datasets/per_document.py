"""Shared by per-document sets (QMSum, LoCoMo): cached corpus files, one per document.

Each document's passages are written as a JSONL corpus (`rag index` reads it and keeps the
records' scalar extras as passage metadata) into a cache folder named by the data's content
hash, so a file and its folder, loaded either way, share one cache, and changed data gets a
new folder rather than a stale one.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from eval.datasets.files import read_records
from eval.datasets.model import Dataset, QAItem
from rag.errors import InputError
from rag.ingest.chunking import chunk_documents
from rag.ingest.records import read_jsonl
from rag.settings import ChunkSettings, Settings

T = TypeVar("T")


def data_hash(path: Path, passage_format: str, extra: dict[str, Any]) -> str:
    """SHA-256 over the passage definition, the file's bytes and `extra`, as hex."""
    digest = hashlib.sha256(passage_format.encode())
    digest.update(path.read_bytes())
    digest.update(json.dumps(extra, sort_keys=True).encode())
    return digest.hexdigest()


def corpus_folder(settings: Settings, prefix: str, digest: str) -> Path:
    """The cache folder for one data file's corpus files, created if missing."""
    folder = settings.cache_dir / "datasets" / f"{prefix}-{digest[:12]}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_corpus(path: Path, records: Iterable[dict[str, Any]]) -> None:
    """Write records as a JSONL corpus, atomically, unless the file is there."""
    if path.is_file():
        return  # the folder is named by the data's hash, so a present file is this content
    # A name per process, so that two loads writing at once never share a temp file.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    tmp.replace(path)


def record_passage_ids(corpus: Path, chunking: ChunkSettings) -> list[list[str]]:
    """Per record of a JSONL corpus, in file order, the ids of the passages `rag index` makes.

    Each record is chunked on its own, by the ingestion code itself: a record whose text
    repeats an earlier one's still gets its ids, which a chunking of the whole file would
    drop as duplicates.
    """
    return [[p.id for p in chunk_documents([doc], chunking)] for doc in read_jsonl(corpus)]


def per_document_dataset(
    name: str,
    path: Path,
    folder: Path,
    documents: dict[str, Path],
    questions: list[QAItem],
    passages: int,
    content_hash: str,
    headline: list[str],
    settings: Settings,
) -> Dataset:
    """A dataset of one corpus file per document, its gold computed with the settings'
    chunking (which `rag eval` then checks it is run with)."""
    return Dataset(
        name=name,
        corpus_path=folder,
        questions_path=path,
        questions=questions,
        corpus_size=passages,
        content_hash=content_hash,
        documents=documents,
        headline=headline,
        gold_chunking=settings.chunking.model_dump(),
    )


def parse_documents(
    path: Path, prefix: str, parse: Callable[[Any, str, str], T], what: str
) -> list[T]:
    """Every record of `path` parsed as one document named `<prefix>-NN` by its position
    (the layouts carry no id); a file with none is an InputError."""
    records = read_records(path)
    width = max(2, len(str(len(records))))
    documents = [
        parse(record, f"{prefix}-{n:0{width}d}", f"{path}: record {n}")
        for n, record in enumerate(records, start=1)
    ]
    if not documents:
        raise InputError(f"{path}: no {what}")
    return documents
