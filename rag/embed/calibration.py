"""Calibration texts for int8 quantization: real text shipped in the package, passages and
question-length sentences alike, in a fixed order so that every machine quantizes the same."""

from __future__ import annotations

import hashlib
import json
import re
from importlib import resources
from pathlib import Path

#: Bump when the way texts are drawn from the files changes, so cached int8 models are rebuilt.
CALIBRATION_VERSION = 2
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
# Shorter pieces are list items and headings, not the sentences queries look like.
_MIN_SENTENCE_CHARS = 20


def _data_dir() -> Path:
    """The package's data folder (the bundled sample corpus and the IRCoT examples)."""
    return Path(str(resources.files("rag") / "data"))


def _sample_documents() -> list[str]:
    """Each sample-corpus document as the indexer reads it: title, newline, text."""
    from rag.ingest import discover_sources, read_source

    texts = []
    for source in discover_sources([_data_dir() / "sample"]):
        texts += [f"{doc.title}\n{doc.text}" for doc in read_source(source)]
    return texts


def _example_questions() -> list[str]:
    """The IRCoT worked examples: multi-hop questions and the short passages that answer them."""
    examples = json.loads((_data_dir() / "ircot_examples.json").read_text(encoding="utf-8"))
    texts = []
    for example in examples:
        texts.append(example["question"])
        texts += [f"{p['title']}\n{p['text']}" for p in example["passages"]]
    return texts


def calibration_texts() -> list[str]:
    """Whole documents, their sentences one by one (query length) and example questions.

    Static quantization fixes each activation's range from these texts, so they must cover
    both what gets indexed (passages of a few hundred tokens) and what gets asked (a line).
    Measured: adding the titles as a third, few-word kind (28 texts) brought graph entity
    phrases closer to fp32 but cost MuSiQue-100 dense Recall@5 0.02, so they are left out.
    """
    documents = _sample_documents()
    sentences = [
        piece.strip()
        for doc in documents
        for line in doc.splitlines()
        for piece in _SENTENCE_END.split(line)
        if len(piece.strip()) >= _MIN_SENTENCE_CHARS
    ]
    return documents + sentences + _example_questions()


def _source_files() -> list[Path]:
    """The files the calibration texts come from, in a fixed order."""
    sample = sorted(p for p in (_data_dir() / "sample").iterdir() if p.is_file())
    return [*sample, _data_dir() / "ircot_examples.json"]


def calibration_hash() -> str:
    """Short hash of the calibration source files and the recipe version, for the int8 cache
    key; hashing the files rather than the texts spares the readers' import on every load."""
    digest = hashlib.sha256(f"memrag-calibration-v{CALIBRATION_VERSION}".encode())
    for path in _source_files():
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]
