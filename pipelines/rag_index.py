"""RagIndex: the handle users hold, an opened index dir that answers questions."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from indexers.builder import BuildReport, build_index
from indexers.index_dir import IndexDir, open_index_dir
from pipelines.pipeline import Pipeline
from pipelines.state import Resources
from rag.llm import make_llm
from rag.settings import Settings, load_settings
from rag.types import Answer, Hit, Passage


@cache
def _preset(name: str) -> Pipeline:
    """Load a preset pipeline once per process."""
    return Pipeline.load(name)


class RagIndex:
    """An opened index dir: search it, ask it questions, read its passages."""

    def __init__(self, index_dir: IndexDir, settings: Settings) -> None:
        """Wrap a loaded index dir; the LLM named in settings is created here, if any."""
        self.index_dir = index_dir
        self.settings = settings
        self.resources = Resources(
            store=index_dir.store,
            indexes=index_dir.indexes,
            embedder=index_dir.embedder,
            settings=settings,
            llm=make_llm(settings.llm, settings.cache_dir),
        )
        self.build_report: BuildReport | None = None

    @property
    def path(self) -> Path:
        """Where the index dir lives."""
        return self.index_dir.path

    @classmethod
    def open(cls, path: str | Path, settings: Settings | None = None) -> RagIndex:
        """Open an index dir built earlier."""
        settings = settings or load_settings()
        return cls(open_index_dir(path, settings), settings)

    def ask(self, question: str, pipeline: str | Path | Pipeline = "dense") -> Answer:
        """Answer a question with a pipeline (preset name, YAML path or object)."""
        return self.pipeline(pipeline).ask(question, self.resources)

    def search(
        self, query: str, k: int = 5, pipeline: str | Path | Pipeline = "dense"
    ) -> list[Hit]:
        """Return the top-k hits of a pipeline's retrieval steps (its answer step is skipped)."""
        pipe = self.pipeline(pipeline)
        retrieval = Pipeline([s for s in pipe.steps if s.type_name != "generate"], pipe.name)
        return retrieval.run(query, self.resources).hits[:k]

    def passage(self, passage_id: str) -> Passage | None:
        """Return a stored passage by id."""
        return self.index_dir.store.get(passage_id)

    def stats(self) -> dict[str, Any]:
        """Counts and build facts from the manifest."""
        return self.index_dir.manifest.model_dump(exclude={"sources"})

    @staticmethod
    def pipeline(spec: str | Path | Pipeline) -> Pipeline:
        """Resolve a pipeline spec to a Pipeline object."""
        if isinstance(spec, Pipeline):
            return spec
        return (
            _preset(spec)
            if isinstance(spec, str) and not spec.endswith((".yaml", ".yml"))
            else Pipeline.load(spec)
        )

    def close(self) -> None:
        """Release the passage store."""
        self.index_dir.close()


def build(
    paths: list[str | Path] | str | Path, out: str | Path, settings: Settings | None = None
) -> RagIndex:
    """Index files or folders into `out` (updating it if it exists) and open the result."""
    settings = settings or load_settings()
    paths = [paths] if isinstance(paths, (str, Path)) else paths
    report = build_index(paths, out, settings)
    index = RagIndex.open(out, settings)
    index.build_report = report
    return index
