"""The Ray engine: a build's batch stages as Ray Data stages, their results in the writer's caches.

Files are parsed by Ray tasks; passages, then the graph's entity and fact texts, are embedded by
a pool of embedding actors (each loads the model once) in exactly the model calls the in-process
build would make, and OpenIE runs on a pool of extractor actors. Every result streams back to
this process and into the embedding cache and the extractor's cache as it arrives, so a killed
build resumes from them; the writer (`indexers.builder`) then finds the work done and assembles
FAISS, BM25, graph and trees under its lock, swapping the dir in atomically as in-process.
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from indexers.engine import ray_stages
from indexers.engine.ray_support import results_of
from indexers.engine.stages import Parsed, graph_texts
from rag.embed.cache import CachedEmbedder
from rag.errors import ConfigError
from rag.ingest import SourceFile
from rag.operators.openie.cached import CachedExtractor
from rag.operators.openie.types import Extraction
from rag.settings import Settings
from rag.types import Passage

if TYPE_CHECKING:
    from indexers.base import Index
    from indexers.build_inputs import BuildReport
    from indexers.context import BuildContext

logger = logging.getLogger(__name__)

#: Extractors worth running on actors; a cache:PATH file is a lookup the writer does itself.
RAY_EXTRACTORS = ("pattern", "spacy", "llm")
#: Passages per extraction row (one extractor call).
EXTRACT_ROWS = 64


@dataclass(frozen=True)
class RayStages:
    """The callables the Ray engine runs (tests swap one for a failing one)."""

    parse: Any = ray_stages.parse_rows
    embed: Any = ray_stages.EmbedActor
    extract: Any = ray_stages.ExtractActor


class RayEngine:
    """Runs parse, embed and extract on Ray Data; the caches carry the results to the writer."""

    name = "ray"

    def __init__(self, settings: Settings, stages: RayStages | None = None) -> None:
        """Nothing starts yet: Ray is joined on the first stage."""
        self.settings, self.stages = settings, stages or RayStages()
        self.timings: dict[str, float] = defaultdict(float)
        self._ray: Any = None
        self._owned = False

    def _connect(self) -> Any:
        """The `ray` module, joined to the configured cluster once."""
        if self._ray is None:
            from indexers.engine.ray_support import connect, quiet_data

            self._ray, self._owned, seconds = connect(self.settings.engine.address)
            self.timings["ray:start"] += seconds
            quiet_data(self.settings.show_progress)
        return self._ray

    def parse(self, sources: list[SourceFile]) -> Iterator[Parsed]:
        """Read and chunk the files in Ray tasks; yielded in the order given."""
        ray, start = self._connect(), time.perf_counter()
        rows = [
            {"path": s.path, "sha256": s.sha256, "size": s.size, "root": s.root or ""}
            for s in sources
        ]
        chunking = self.settings.chunking.model_dump()
        data = ray.data.from_items(rows).map_batches(
            self.stages.parse,
            batch_size=self.settings.engine.files_per_task,
            fn_kwargs={"chunking": chunking},
            num_cpus=1,
        )
        done = {row["path"]: row for row in results_of(data, "parse")}
        self.timings["ray:parse"] += time.perf_counter() - start
        for src in sources:
            row = done[src.path]
            passages = ray_stages.passages_from_json(row["passages"])
            problem = row["problem"] or None
            yield Parsed(src, passages, problem, float(row["read_s"]), float(row["chunk_s"]))

    def prepare(
        self,
        todo: Mapping[str, Sequence[Passage]],
        indexes: dict[str, Index],
        context: BuildContext,
        report: BuildReport,
    ) -> None:
        """Embed what the kinds will ask for, and extract the graph's passages, ahead of `add`."""
        embedder = context.embedder
        if not isinstance(embedder, CachedEmbedder):
            raise ConfigError(
                "the ray engine streams vectors into the embedding cache: set embedder.cache = true"
            )
        planned: set[str] = set()
        wanted: set[str] = set()
        steps: list[list[tuple[str, str]]] = []
        held: set[str] = set()
        for kind, index in indexes.items():
            if index.uses_passage_vectors:
                # As the writer: each passage embedded once, for the first kind that needs it.
                fresh = [p for p in todo[kind] if p.id not in held]
                held.update(p.id for p in fresh)
                texts = [p.embedding_text for p in fresh]
                wanted.update(texts)
                steps += _writer_calls(embedder, texts, planned)
        report.cached["embeddings"] = len(wanted) - len(planned)
        passages = [p for kind in indexes for p in todo[kind]]
        self._embed(embedder, steps, passages, "ray:embed")
        graph = indexes.get("graph")
        if graph is not None and todo["graph"]:
            extractions = self._extract(graph, list(todo["graph"]), context, report)
            texts = graph_texts(todo["graph"], extractions)
            # The graph's add embeds its new entity and fact texts in one embedder call.
            steps = embedder.missing_steps(texts, planned)
            self._embed(embedder, steps, [], "ray:embed-graph")
        for stage, seconds in self.timings.items():
            report.stage_seconds[stage] += seconds
        self.timings.clear()

    def _embed(
        self,
        embedder: CachedEmbedder,
        steps: list[list[tuple[str, str]]],
        passages: Sequence[Passage],
        stage: str,
    ) -> None:
        """Run the model calls on the embedding actors, storing each one's vectors on arrival."""
        if not steps:
            return
        ray, start, engine = self._connect(), time.perf_counter(), self.settings.engine
        source = {p.embedding_text: p.source for p in passages}
        rows = [
            {
                "keys": [key for key, _ in step],
                "texts": [text for _, text in step],
                "files": sorted({source.get(text, "") for _, text in step}),
            }
            for step in steps
        ]
        data = ray.data.from_items(rows).map_batches(
            self.stages.embed,
            fn_constructor_kwargs={"settings": self.settings},
            batch_size=1,
            compute=ray.data.ActorPoolStrategy(size=engine.embed_actors),
            num_cpus=engine.embed_cpus,
            num_gpus=engine.embed_gpus,
        )
        for row in results_of(data, "embed"):
            keys = list(row["keys"])
            vectors = np.frombuffer(row["blob"], dtype=np.float32).reshape(len(keys), -1)
            embedder.put(keys, vectors)
        self.timings[stage] += time.perf_counter() - start

    def _extract(
        self, graph: Index, passages: list[Passage], context: BuildContext, report: BuildReport
    ) -> list[Extraction]:
        """Extract the graph's passages on actors; the writer's extractor is then served them."""
        from indexers.registry import kind_settings

        spec = str(getattr(kind_settings(type(graph), context.settings), "extractor", "auto"))
        extractor = context.operator("openie", spec)
        if extractor.name not in RAY_EXTRACTORS:
            # A lookup in a HippoRAG OpenIE file: read here, only its texts go to the actors.
            return list(extractor.extract(passages))
        start, engine = time.perf_counter(), self.settings.engine
        cached = isinstance(extractor, CachedExtractor)
        pending = [p for p in passages if not (cached and extractor.cached(p))]
        report.cached["extractions"] = len(passages) - len(pending)
        known: dict[str, Extraction] = {}
        if pending:
            ray = self._connect()
            rows = [
                {"passages": ray_stages.passages_json(pending[i : i + EXTRACT_ROWS])}
                for i in range(0, len(pending), EXTRACT_ROWS)
            ]
            data = ray.data.from_items(rows).map_batches(
                self.stages.extract,
                fn_constructor_kwargs={"settings": self._extract_settings(), "spec": spec},
                batch_size=1,
                compute=ray.data.ActorPoolStrategy(size=engine.extract_actors),
                num_cpus=engine.extract_cpus,
            )
            by_id = {p.id: p for p in pending}
            for row in results_of(data, "extract"):
                for item in json.loads(row["extractions"]):
                    extraction = Extraction.model_validate(item)
                    known[extraction.passage_id] = extraction
                    if cached:
                        extractor.put(by_id[extraction.passage_id], extraction)
        if cached:
            rest = [p for p in passages if p.id not in known]
            known.update(zip([p.id for p in rest], extractor.extract(rest), strict=True))
        else:
            graph.use_extractor(ray_stages.PrefilledExtractor(extractor, known))  # type: ignore[attr-defined]
        self.timings["ray:extract"] += time.perf_counter() - start
        return [known[p.id] for p in passages]

    def _extract_settings(self) -> Settings:
        """Settings for extractor actors: the LLM's concurrency cap shared out among them."""
        llm = self.settings.llm
        share = max(1, llm.max_concurrency // self.settings.engine.extract_actors)
        return self.settings.model_copy(
            update={"llm": llm.model_copy(update={"max_concurrency": share})}
        )

    def close(self) -> None:
        """Shut down the Ray runtime if this engine started it."""
        if self._ray is not None and self._owned:
            self._ray.shutdown()
        self._ray, self._owned = None, False


def _writer_calls(
    embedder: CachedEmbedder, texts: list[str], planned: set[str]
) -> list[list[tuple[str, str]]]:
    """The model calls the writer makes for one kind's passages (it embeds them in blocks of
    `disk_vectors.BATCH` texts), leaving out keys in `planned`, which then holds theirs too."""
    from rag.embed.disk_vectors import BATCH

    steps: list[list[tuple[str, str]]] = []
    for start in range(0, len(texts), BATCH):
        block = embedder.missing_steps(texts[start : start + BATCH], planned)
        planned.update(key for step in block for key, _ in step)
        steps += block
    return steps
