"""Reads HippoRAG's cached OpenIE file (openie*.json) as an extractor, so runs can reuse it."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from rag.errors import InputError
from rag.operators.openie.base import Extractor
from rag.operators.openie.types import Extraction, Triple, clean_entities, clean_triples
from rag.types import Passage, passage_id

logger = logging.getLogger(__name__)


class _Record(NamedTuple):
    """One cached document's entities and cleaned triples."""

    entities: list[str]
    triples: list[Triple]


class _Index(NamedTuple):
    """The file's documents keyed three ways, from the most to the least exact."""

    by_id: dict[str, _Record]
    by_text: dict[str, _Record]
    by_passage: dict[str, _Record]


class HippoRAGOpenIECache(Extractor):
    """Serves extractions from HippoRAG's JSON file: {"docs": [{title, text, passage, ...}]}.

    A passage is matched by its id (title and text), then by its text alone (a chunk may carry
    another title), then by the file's "passage" field (title, newline, text). Passages the
    file lacks go to the fallback extractor, or raise InputError when there is none. The file
    is read once, on first use; malformed triples in it are dropped with a logged total.
    """

    def __init__(self, path: Path, fallback: Extractor | None = None) -> None:
        """Name the file; nothing is read until the first extraction."""
        self.path = Path(path)
        self.fallback = fallback
        self.name = f"cache:{self.path.name}"
        self._index: _Index | None = None
        self._lock = threading.Lock()

    def extract(
        self, passages: Sequence[Passage], *, show_progress: bool = False
    ) -> list[Extraction]:
        """Look every passage up; the unmatched ones go to the fallback in one batch."""
        found = [self.lookup(p) for p in passages]
        missing = [p for p, hit in zip(passages, found, strict=True) if hit is None]
        if missing:
            if self.fallback is None:
                raise InputError(
                    f"{self.path}: {len(missing)} of {len(passages)} passages are not in this "
                    f"OpenIE cache (first: {missing[0].title!r}); give a fallback extractor"
                )
            logger.warning(
                "%s: %d of %d passages not in the cache; extracting them with %s",
                self.path,
                len(missing),
                len(passages),
                self.fallback.name,
            )
            extra = iter(self.fallback.extract(missing, show_progress=show_progress))
            found = [hit if hit is not None else next(extra) for hit in found]
        return [hit for hit in found if hit is not None]

    def lookup(self, passage: Passage) -> Extraction | None:
        """The cached extraction of one passage, or None when the file lacks it."""
        index = self._load()
        record = (
            index.by_id.get(passage.id)
            or index.by_id.get(passage_id(passage.text, passage.title))
            or index.by_text.get(passage.text.strip())
            or index.by_passage.get(passage.embedding_text.strip())
            or index.by_passage.get(passage.text.strip())
        )
        if record is None:
            return None
        return Extraction(
            passage_id=passage.id,
            entities=list(record.entities),
            triples=list(record.triples),
            extractor=self.name,
        )

    def query_entities(self, text: str) -> list[str]:
        """Questions are not in the file: the fallback reads them."""
        if self.fallback is None:
            raise InputError(
                f"{self.path}: an OpenIE cache has no question entities; give a fallback extractor"
            )
        return self.fallback.query_entities(text)

    def _load(self) -> _Index:
        """Read and index the file once, whichever thread asks first."""
        with self._lock:
            if self._index is None:
                self._index = _build_index(self.path, _read_docs(self.path))
            return self._index


def _read_docs(path: Path) -> list[Any]:
    """The "docs" list of the file, or an InputError that names the file and the problem."""
    try:
        # Python's json accepts the NaN literals HippoRAG's files contain.
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: OpenIE cache file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read OpenIE cache file: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: OpenIE cache file is not valid JSON: {exc}") from exc
    docs = data.get("docs") if isinstance(data, dict) else None
    if not isinstance(docs, list):
        raise InputError(f'{path}: expected a JSON object with a "docs" list (HippoRAG OpenIE)')
    return docs


def _build_index(path: Path, docs: list[Any]) -> _Index:
    """Clean every document's output and key it by id, text and the "passage" field."""
    index = _Index({}, {}, {})
    dropped_total = docs_with_drops = 0
    for i, doc in enumerate(docs):
        if not isinstance(doc, dict) or not isinstance(doc.get("text"), str):
            raise InputError(f'{path}: docs[{i}] is not an object with a "text" string')
        title = doc.get("title") if isinstance(doc.get("title"), str) else None
        triples, dropped = clean_triples(doc.get("extracted_triples"), where=f"{path} docs[{i}]")
        dropped_total += dropped
        docs_with_drops += dropped > 0
        record = _Record(clean_entities(doc.get("extracted_entities")), triples)
        text = doc["text"]
        # First one wins: MuSiQue repeats a text under two titles, and ids keep those apart.
        index.by_id.setdefault(passage_id(text, title), record)
        index.by_text.setdefault(text.strip(), record)
        if isinstance(doc.get("passage"), str):
            index.by_passage.setdefault(doc["passage"].strip(), record)
    if dropped_total:
        logger.warning(
            "%s: dropped %d malformed triple(s) in %d of %d docs",
            path,
            dropped_total,
            docs_with_drops,
            len(docs),
        )
    logger.info("%s: %d OpenIE docs loaded", path, len(docs))
    return index
