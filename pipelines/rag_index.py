"""RagIndex: the handle users hold, an opened index dir that answers questions."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from indexers.index_dir import IndexDir, open_index_dir
from indexers.registry import DEFAULT_KINDS
from pipelines.pipeline import Pipeline
from pipelines.resolve import resolve_pipeline
from pipelines.state import Resources
from rag.closing import Closing
from rag.errors import InputError
from rag.settings import Settings, load_settings
from rag.types import Answer, Hit, Passage

if TYPE_CHECKING:
    from indexers.builder import BuildReport


class RagIndex(Closing):
    """An opened index dir: search it, ask it questions, read its passages.

    Use it as a context manager (`with rag.load(path) as idx:`) to close the passage store,
    the LLM client and the embedder's cache it opened.
    """

    def __init__(self, index_dir: IndexDir, settings: Settings) -> None:
        """Wrap a loaded index dir; an LLM named in settings is created on first use."""
        self.index_dir = index_dir
        self.settings = settings
        self.resources = Resources(
            store=index_dir.store, indexes=index_dir.indexes, context=index_dir.context
        )
        self.build_report: BuildReport | None = None

    @property
    def path(self) -> Path:
        """Where the index dir lives."""
        return self.index_dir.path

    @classmethod
    def open(cls, path: str | Path, settings: Settings | None = None) -> RagIndex:
        """Open an index dir built earlier, read-only."""
        settings = settings or load_settings()
        return cls(open_index_dir(path, settings), settings)

    def ask(
        self,
        question: str,
        pipeline: str | Path | Pipeline = "dense",
        *,
        answer: bool = True,
        query_vector: np.ndarray | None = None,
    ) -> Answer:
        """Answer a question with a pipeline (preset name, YAML path or object).

        `answer=False` runs retrieval only (the answer text is empty; hits and trace are set).
        """
        pipe = self.pipeline(pipeline)
        return pipe.ask(question, self.resources, answer=answer, query_vector=query_vector)

    def search(
        self, query: str, k: int = 5, pipeline: str | Path | Pipeline = "dense"
    ) -> list[Hit]:
        """Return the top-k hits of a pipeline, run retrieval-only with retrieval.top_k = k.

        A step whose own `k` is set in the pipeline (a preset's candidate lists) keeps it; the
        steps that decide the final list size (retrieve, fuse, wrapped searches) take `k`.
        """
        if k < 1:
            raise InputError(f"k must be at least 1, got {k}")
        resources = self.resources.with_top_k(k)
        return self.pipeline(pipeline).run(query, resources, answer=False).hits[:k]

    def passage(self, passage_id: str) -> Passage | None:
        """Return a stored passage by id."""
        return self.index_dir.store.get(passage_id)

    def stats(self) -> dict[str, Any]:
        """Counts and build facts from the manifest (not its per-source and per-file hashes)."""
        return self.index_dir.manifest.model_dump(exclude={"sources", "files"})

    @staticmethod
    def pipeline(spec: str | Path | Pipeline) -> Pipeline:
        """Resolve a pipeline spec to a Pipeline object (parsed once per preset or file)."""
        return resolve_pipeline(spec)

    def warm_up(self) -> None:
        """Load the embedding model now rather than on the first query."""
        self.resources.embedder.warm_up()

    def close(self) -> None:
        """Release the passage store, the LLM client and the embedder's cache."""
        self.index_dir.close()


def build(
    paths: list[str | Path] | str | Path,
    out: str | Path,
    settings: Settings | None = None,
    kinds: list[str] | None = None,
) -> RagIndex:
    """Index files or folders into `out` (updating it if it exists) and open the result."""
    settings = settings or load_settings()
    paths = [paths] if isinstance(paths, (str, Path)) else paths
    # Imported here: the builder pulls in llama-index's readers, which querying never needs.
    from indexers.builder import build_index

    report = build_index(paths, out, settings, kinds or DEFAULT_KINDS)
    index = RagIndex.open(out, settings)
    index.build_report = report
    return index
