"""The pure batch functions of a build: parse files into passages, embed texts, extract triples.

Both engines run these same functions: the in-process engine calls them in this process, the
Ray engine in Ray Data tasks and actors (`indexers.engine.ray_stages`). None of them touches
the index dir; the writer (`indexers.builder`) alone does.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from graphs.knowledge_graph import KnowledgeGraph
from rag.embed.base import Embedder
from rag.errors import InputError, MemragError
from rag.ingest import SourceFile, chunk_documents, read_source
from rag.operators.openie.base import Extractor
from rag.operators.openie.types import Extraction
from rag.settings import ChunkSettings
from rag.types import Passage

#: Files named in a failed batch's message before the rest are counted.
NAMED_FILES = 3


class StageError(MemragError):
    """A batch stage that failed on some input; the message names the files of the batch."""


@dataclass
class Parsed:
    """One file read and chunked, or the reason it was skipped (`problem`)."""

    source: SourceFile
    passages: list[Passage] = field(default_factory=list)
    problem: str | None = None
    read_s: float = 0.0
    chunk_s: float = 0.0


def parse_source(src: SourceFile, chunking: ChunkSettings) -> Parsed:
    """Read one file and chunk it into passages; an unreadable file is a `problem`, not a raise."""
    start = time.perf_counter()
    try:
        docs = read_source(src)
        read_s = time.perf_counter() - start
        start = time.perf_counter()
        passages = chunk_documents(docs, chunking)
        chunk_s = time.perf_counter() - start
    except InputError as exc:
        return Parsed(src, problem=str(exc))
    except (ValueError, RecursionError, OSError) as exc:
        # One malformed file must not abort the build: skipped like any unreadable file.
        return Parsed(src, problem=f"{src.path}: cannot read ({type(exc).__name__}: {exc})")
    return Parsed(src, passages, None, read_s, chunk_s)


def parse_sources(sources: Iterable[SourceFile], chunking: ChunkSettings) -> Iterator[Parsed]:
    """Parse files one after another, in order (the in-process engine's parse stage)."""
    for src in sources:
        yield parse_source(src, chunking)


def embed_texts(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """One model call's vectors for `texts`, as float32 rows."""
    return np.asarray(embedder.embed(list(texts)), dtype=np.float32)


def extract_passages(extractor: Extractor, passages: Sequence[Passage]) -> list[Extraction]:
    """The extractor's entities and triples of each passage, aligned with `passages`."""
    extracted = extractor.extract(list(passages))
    if len(extracted) != len(passages):
        raise StageError(
            f"{files_of(p.source for p in passages)}: the {extractor.name} extractor returned "
            f"{len(extracted)} extractions for {len(passages)} passages"
        )
    return extracted


def graph_texts(passages: Sequence[Passage], extractions: Sequence[Extraction]) -> list[str]:
    """The entity and fact texts a graph built from these passages embeds, in its order.

    A scratch graph is built the way the graph index builds its own, so its entity names and
    fact texts are exactly the ones the writer will ask the embedder for.
    """
    scratch = KnowledgeGraph()
    for passage, extraction in zip(passages, extractions, strict=True):
        scratch.add_passage(passage.id, extraction.triples)
    return [*scratch.entities, *scratch.fact_texts]


def files_of(paths: Iterable[str]) -> str:
    """The files of a batch for an error message: the first few by name, then a count."""
    unique = list(dict.fromkeys(p for p in paths if p))
    named = ", ".join(unique[:NAMED_FILES])
    more = len(unique) - NAMED_FILES
    return f"{named} (and {more} more files)" if more > 0 else named or "(no file)"


def failed(stage: str, paths: Iterable[str], exc: BaseException) -> StageError:
    """The error for a batch that raised: the stage, the batch's files and the cause."""
    return StageError(f"{files_of(paths)}: the {stage} stage failed ({type(exc).__name__}: {exc})")
