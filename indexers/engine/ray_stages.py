"""The build's batch functions as Ray Data callables: rows in, rows out, nothing else.

Each wraps a function of `indexers.engine.stages`; a model-backed one is a callable class, so a
Ray actor loads its model once and serves every batch it is given. Rows are plain values
(strings, numbers, bytes) so that any Ray node can read them. A batch that raises fails with a
StageError naming the batch's files. This module imports no Ray: Ray imports it in its workers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from indexers.engine.stages import embed_texts, extract_passages, failed, parse_source
from rag.ingest import SourceFile
from rag.operators.openie.base import Extractor
from rag.operators.openie.types import Extraction
from rag.settings import ChunkSettings, Settings
from rag.types import Passage

Batch = dict[str, Any]


def column(batch: Batch, name: str) -> list[Any]:
    """A batch column as Python values (lists for list-valued cells, None for nulls)."""
    return [v.tolist() if isinstance(v, np.ndarray) else v for v in batch[name]]


def passages_json(passages: Sequence[Passage]) -> str:
    """Passages as one JSON cell."""
    return json.dumps([p.model_dump(mode="json") for p in passages])


def passages_from_json(cell: str) -> list[Passage]:
    """The passages of one JSON cell."""
    return [Passage.model_validate(item) for item in json.loads(cell)]


def parse_rows(batch: Batch, chunking: dict[str, Any]) -> Batch:
    """Ray task: read and chunk the files of a batch (`stages.parse_source` on each)."""
    settings = ChunkSettings(**chunking)
    names = ("path", "passages", "problem", "read_s", "chunk_s")
    out: dict[str, list[Any]] = {k: [] for k in names}
    for path, sha256, size, root in zip(
        *(column(batch, k) for k in ("path", "sha256", "size", "root")), strict=True
    ):
        src = SourceFile(path=path, sha256=sha256, size=size, root=root or None)
        try:
            parsed = parse_source(src, settings)
        except Exception as exc:
            raise failed("parse", [path], exc) from exc
        out["path"].append(path)
        out["passages"].append(passages_json(parsed.passages))
        out["problem"].append(parsed.problem or "")
        out["read_s"].append(parsed.read_s)
        out["chunk_s"].append(parsed.chunk_s)
    return out


class EmbedActor:
    """Ray actor: the embedding model, loaded once; each row is one model call's texts."""

    def __init__(self, settings: Settings) -> None:
        """Load the configured embedder without its disk cache (the writer's cache keeps all)."""
        from rag.embed import make_embedder

        uncached = settings.embedder.model_copy(update={"cache": False})
        self.embedder = make_embedder(uncached, settings.cache_dir)
        self.embedder.warm_up()

    def __call__(self, batch: Batch) -> Batch:
        """Vectors of each row's texts (`stages.embed_texts`), as float32 bytes."""
        out: dict[str, list[Any]] = {"keys": [], "blob": []}
        for keys, texts, files in zip(
            *(column(batch, k) for k in ("keys", "texts", "files")), strict=True
        ):
            try:
                vectors = embed_texts(self.embedder, texts)
            except Exception as exc:
                raise failed("embed", files, exc) from exc
            out["keys"].append(keys)
            out["blob"].append(vectors.astype(np.float32).tobytes())
        return out


class PrefilledExtractor(Extractor):
    """Extractions made elsewhere (Ray actors) served by passage id; the rest go to `inner`."""

    def __init__(self, inner: Extractor, known: dict[str, Extraction]) -> None:
        """Serve `known` (passage id to extraction), carrying the inner extractor's identity."""
        self.inner, self.known, self.name = inner, known, inner.name

    def extract(
        self, passages: Sequence[Passage], *, show_progress: bool = False
    ) -> list[Extraction]:
        """Known extractions where present; one call of the inner extractor for the rest."""
        missing = [p for p in passages if p.id not in self.known]
        if missing:
            made = self.inner.extract(missing, show_progress=show_progress)
            self.known.update(zip([p.id for p in missing], made, strict=True))
        return [self.known[p.id] for p in passages]

    def query_entities(self, text: str) -> list[str]:
        """A question's entities, by the inner extractor."""
        return self.inner.query_entities(text)


class ExtractActor:
    """Ray actor: the OpenIE extractor (pattern rules, spaCy model or LLM client), built once."""

    def __init__(self, settings: Settings, spec: str) -> None:
        """Build the extractor `spec` names, without a disk cache (the writer keeps the results)."""
        from rag.operators.per_index import build_resolved
        from rag.operators.registry import resolve

        llm_available = settings.llm.provider != "none"
        resolved = resolve("openie", spec, llm_available=llm_available)
        llm = None
        if resolved.implementation.needs_llm:
            from rag.llm import make_llm

            llm = make_llm(settings.llm, settings.cache_dir)
        self.extractor: Extractor = build_resolved(resolved, llm=llm)

    def __call__(self, batch: Batch) -> Batch:
        """Each row's passages read into entities and triples (`stages.extract_passages`)."""
        out: dict[str, list[Any]] = {"extractions": []}
        for cell in column(batch, "passages"):
            passages = passages_from_json(cell)
            try:
                extracted = extract_passages(self.extractor, passages)
            except Exception as exc:
                raise failed("extract", [p.source for p in passages], exc) from exc
            out["extractions"].append(json.dumps([e.model_dump(mode="json") for e in extracted]))
        return out
