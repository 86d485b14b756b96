"""Split documents into passages with llama-index's SentenceSplitter, keeping character offsets."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any

from llama_index.core.node_parser import SentenceSplitter

from rag.settings import ChunkSettings
from rag.types import Document, Passage

logger = logging.getLogger(__name__)

#: Bumped when reading files into passages changes, so that the next update re-reads every
#: file as a chunking change would. 2: files without a title are titled by their name.
#: 3: Markdown is read as its text (link text kept, URLs and markup dropped) and titled by its
#: front matter title or first heading; other untitled files by their path below the folder
#: they were found in ("deployment/index"), not their name alone.
READING_VERSION = 3


def passage_recipe(settings: ChunkSettings) -> dict[str, Any]:
    """What decides a file's passages, as a manifest records it: chunking and reading version."""
    return {**settings.model_dump(), "reading": READING_VERSION}


def make_splitter(settings: ChunkSettings) -> SentenceSplitter:
    """A SentenceSplitter for the settings (tiktoken cl100k tokens, the llama-index default)."""
    return SentenceSplitter(chunk_size=settings.chunk_size, chunk_overlap=settings.chunk_overlap)


def chunk_offsets(text: str, chunks: Sequence[str]) -> list[tuple[int, int] | None]:
    """Locate each chunk in the text, in order; None for a chunk that is not a verbatim slice."""
    offsets: list[tuple[int, int] | None] = []
    position = 0
    for chunk in chunks:
        start = text.find(chunk, position)
        if start < 0:
            start = text.find(chunk)
        if start < 0:
            offsets.append(None)
            continue
        offsets.append((start, start + len(chunk)))
        # Advance past this chunk's start only: with overlap the next chunk begins inside it.
        position = start + 1
    return offsets


def _split(doc: Document, splitter: SentenceSplitter) -> Iterator[Passage]:
    """The passages of one document, in order."""
    # split_text rather than get_nodes_from_documents: the node path shrinks chunks by the
    # metadata's token count and prints to stdout when that leaves fewer than 50 tokens.
    # Its offsets come from the same forward search that chunk_offsets does.
    chunks = [c for c in (chunk.strip() for chunk in splitter.split_text(doc.text)) if c]
    for chunk, span in zip(chunks, chunk_offsets(doc.text, chunks), strict=True):
        if span is None:
            logger.warning("%s: a chunk is not a verbatim slice of the document", doc.source)
        yield Passage.from_text(
            chunk,
            title=doc.title,
            source=doc.source,
            start=span[0] if span else None,
            end=span[1] if span else None,
            metadata=dict(doc.metadata),
        )


def chunk_documents(docs: Sequence[Document], settings: ChunkSettings) -> list[Passage]:
    """Split documents into passages; a passage whose id was already produced is dropped."""
    splitter = make_splitter(settings)
    passages: dict[str, Passage] = {}
    produced = 0
    for doc in docs:
        for passage in _split(doc, splitter):
            produced += 1
            passages.setdefault(passage.id, passage)
    if produced > len(passages):
        logger.info(
            "chunking: %d passages from %d documents (%d duplicates dropped)",
            len(passages),
            len(docs),
            produced - len(passages),
        )
    return list(passages.values())
