"""Build engines: who runs a build's batch stages (parse, embed, extract) before the writer.

The in-process engine runs them here, lazily: files are parsed as the writer reads them, and
passages are embedded and extracted inside each index kind's `add`, through the embedding cache
and the extractor's cache. The Ray engine (`memrag[ray]`) runs the same batch functions
(`indexers.engine.stages`) as Ray Data stages first and streams their results into those same
caches, so the writer, which alone touches the index dir, finds the work done.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

from indexers.engine.stages import Parsed, parse_sources
from rag.ingest import SourceFile
from rag.settings import Settings

if TYPE_CHECKING:
    from indexers.base import Index
    from indexers.build_inputs import BuildReport
    from indexers.context import BuildContext
    from rag.types import Passage


class Engine(Protocol):
    """Runs a build's batch stages; the writer calls `parse`, then `prepare`, then adds."""

    name: str

    def parse(self, sources: list[SourceFile]) -> Iterable[Parsed]:
        """Read and chunk files, one Parsed per file, in the order given."""
        ...

    def prepare(
        self,
        todo: Mapping[str, Sequence[Passage]],
        indexes: dict[str, Index],
        context: BuildContext,
        report: BuildReport,
    ) -> None:
        """Fill the caches with what adding `todo[kind]` to each index kind will ask for."""
        ...

    def close(self) -> None:
        """Release what the engine started (a Ray runtime it started itself)."""
        ...


class LocalEngine:
    """The in-process engine: parses file by file; embedding and extraction happen in `add`."""

    name = "local"

    def __init__(self, settings: Settings) -> None:
        """Parse with these settings' chunking."""
        self.settings = settings

    def parse(self, sources: list[SourceFile]) -> Iterable[Parsed]:
        """Read and chunk the files here, one after another."""
        return parse_sources(sources, self.settings.chunking)

    def prepare(
        self,
        todo: Mapping[str, Sequence[Passage]],
        indexes: dict[str, Index],
        context: BuildContext,
        report: BuildReport,
    ) -> None:
        """Nothing ahead of time: each kind's `add` embeds and extracts through the caches."""

    def close(self) -> None:
        """Nothing to release."""


def make_engine(settings: Settings) -> Engine:
    """The engine the settings name (`[engine] name`); Ray is imported only when asked for."""
    if settings.engine.name == "ray":
        from indexers.engine.ray_engine import RayEngine

        return RayEngine(settings)
    return LocalEngine(settings)
