"""GraphIndex: a HippoRAG-style knowledge graph over passages, searched by Personalized PageRank."""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
from scipy import sparse

from graphs.knowledge_graph import KnowledgeGraph
from graphs.ppr import PersonalizedPageRank
from graphs.storage import load_csr, load_graph, save_graph
from graphs.synonymy import synonymy_edges
from indexers.base import Index, KindConfig, SearchResult
from indexers.context import BuildContext
from indexers.graph.config import GraphSearch, GraphSettings
from indexers.graph.retrievers import retrieve
from rag.embed.base import Embedder
from rag.errors import ConfigError, IndexFormatError
from rag.integrity import load_array
from rag.llm.base import LLM
from rag.manifest import verify_saved
from rag.operators.openie import Extraction, Extractor, PatternOpenIE
from rag.operators.per_index import build_operator
from rag.operators.recognition import FactFilter
from rag.operators.registry import resolve
from rag.query import Query
from rag.types import Passage

logger = logging.getLogger(__name__)

VECTOR_FILES = ("entity_vectors.npy", "fact_vectors.npy", "passage_vectors.npy")
SPACY = "spacy"


class GraphIndex(Index[GraphSearch]):
    """Entities, facts and passages from OpenIE, with synonymy edges, searched by PageRank.

    Costs: `add` extracts, embeds and links only the new passages; synonymy neighbours are
    searched only for entities that are new, against all entities. `delete` drops the passages,
    the facts and entities no other passage asserts, and their vectors; nothing is recomputed.
    Either invalidates the cached PageRank operators, rebuilt on the next query (O(edges)).
    """

    kind: ClassVar[str] = "graph"
    settings_section: ClassVar[str | None] = "graph"
    build_config: ClassVar[type[KindConfig]] = GraphSettings
    search_config = GraphSearch
    uses_passage_vectors: ClassVar[bool] = True
    builds_with_llm: ClassVar[bool] = True

    def __init__(
        self,
        embedder: Embedder,
        settings: GraphSettings | None = None,
        extractor: Extractor | None = None,
        *,
        show_progress: bool = False,
        context: BuildContext | None = None,
    ) -> None:
        """Create an empty graph; `extractor` (or the context's) reads passages on `add`."""
        self.embedder = embedder
        self.settings = settings or GraphSettings()
        self.extractor = extractor
        self.show_progress = show_progress
        self._context = context
        self.graph = KnowledgeGraph()
        empty = np.zeros((0, embedder.dim), dtype=np.float32)
        self.entity_vectors, self.fact_vectors, self.passage_vectors = empty, empty, empty
        self.extractions: dict[str, Extraction] = {}
        self._query_ner: Extractor | None = None
        self.stage_seconds: dict[str, float] = defaultdict(float)
        # Values derived from the graph for queries, built on first use, dropped on any change.
        self._derived: dict[object, Any] = {}

    @classmethod
    def create(cls, context: BuildContext) -> Self:
        """An empty graph with the `[graph]` settings; its extractor is made on the first add."""
        from indexers.registry import kind_settings

        settings = kind_settings(cls, context.settings)
        assert isinstance(settings, GraphSettings)
        return cls(context.embedder, settings, show_progress=context.show_progress, context=context)

    def use_extractor(self, extractor: Extractor) -> None:
        """Set the extractor used for passages added from now on."""
        self.extractor = extractor

    def _extractor_spec(self) -> tuple[str, bool]:
        """The extractor the settings of this run name, and whether they configure an LLM."""
        if self._context is None:
            return self.settings.extractor, False
        from indexers.registry import kind_settings

        # The settings of this run, not the saved ones: an update may name another extractor.
        current = kind_settings(type(self), self._context.settings)
        assert isinstance(current, GraphSettings)
        return current.extractor, self._context.llm_configured

    def extractor_name(self) -> str:
        """The extractor word new passages go through, `auto` resolved (`llm` or `offline`)."""
        spec, llm_configured = self._extractor_spec()
        return resolve("openie", spec, llm_available=llm_configured, require_llm=False).word

    def operator_names(self) -> dict[str, str]:
        """The OpenIE extractor new passages go through."""
        return {"openie": self.extractor_name()}

    def _extractor(self) -> Extractor:
        """The extractor for new passages: the index dir's, built once, on first use."""
        if self.extractor is None:
            if self._context is None:
                raise ConfigError("this graph index has no extractor set; cannot add passages")
            extractor: Extractor = self._context.operator("openie", self._extractor_spec()[0])
            self.extractor = extractor
        return self.extractor

    def query_ner(self) -> Extractor:
        """What finds a question's entities offline: the NER that read most passages, if spaCy.

        Query seeds are linked to entity nodes, so a question is read by the same NER as the
        passages when that is spaCy's; otherwise by the pattern rules (a cached LLM file has
        no NER to run on a question).
        """
        if self._query_ner is None:
            if self._mostly_extracted_by(SPACY):
                self._query_ner = self._spacy()
            else:
                self._query_ner = PatternOpenIE()
        return self._query_ner

    def _spacy(self) -> Extractor:
        """The index's spaCy extractor, built once per opened index."""
        if self.extractor is not None and self.extractor.name == SPACY:
            return self.extractor
        if self._context is not None:
            made: Extractor = self._context.operator("openie", SPACY)
            return made
        from rag.operators.openie.spacy_extractor import SpacyOpenIE

        return SpacyOpenIE()

    def fact_filter(self, spec: str, llm: LLM | None) -> FactFilter:
        """The recognition operator `spec` selects (hipporag2), given the query's LLM."""
        if self._context is None:
            made: FactFilter = build_operator("recognition", spec, llm=llm)
            return made
        kept: FactFilter = self._context.operators.get("recognition", spec, llm=llm)
        return kept

    def take_stage_seconds(self) -> dict[str, float]:
        """Seconds per graph build stage (extract, graph, embed, synonymy) since the last call."""
        taken = {f"graph:{name}": seconds for name, seconds in self.stage_seconds.items()}
        self.stage_seconds.clear()
        return taken

    def _timed(self, stage: str, start: float) -> None:
        """Add the seconds since `start` to a build stage."""
        self.stage_seconds[stage] += time.perf_counter() - start

    def add(self, passages: Sequence[Passage], vectors: np.ndarray | None = None) -> None:
        """Extract, embed and link the passages not yet in the graph.

        `vectors` (aligned with `passages`) saves re-embedding passages the dense index
        has already embedded.
        """
        passage_vectors = vectors
        held = self.ids()
        keep = [i for i, p in enumerate(passages) if p.id not in held]
        keep = list({passages[i].id: i for i in keep}.values())
        if not keep:
            return
        extractor = self._extractor()
        fresh = [passages[i] for i in keep]
        start = time.perf_counter()
        extractions = extractor.extract(fresh, show_progress=self.show_progress)
        self._timed("extract", start)
        start = time.perf_counter()
        old_entities, old_facts = self.graph.n_entities, len(self.graph.facts)
        for passage, extraction in zip(fresh, extractions, strict=True):
            self.graph.add_passage(passage.id, extraction.triples)
            self.extractions[passage.id] = extraction
        self._timed("graph", start)
        start = time.perf_counter()
        new_entities = self.graph.entities[old_entities:]
        new_facts = self.graph.fact_texts[old_facts:]
        texts = list(new_entities) + list(new_facts)
        if passage_vectors is None:
            texts += [p.embedding_text for p in fresh]
        vectors = self._embed(texts)
        n_e, n_f = len(new_entities), len(new_facts)
        self.entity_vectors = np.vstack([self.entity_vectors, vectors[:n_e]])
        self.fact_vectors = np.vstack([self.fact_vectors, vectors[n_e : n_e + n_f]])
        fresh_passages = (
            vectors[n_e + n_f :] if passage_vectors is None else passage_vectors[np.array(keep)]
        )
        self.passage_vectors = np.vstack([self.passage_vectors, fresh_passages]).astype(np.float32)
        self._timed("embed", start)
        start = time.perf_counter()
        self._link_synonyms(old_entities)
        self._timed("synonymy", start)
        self._invalidate()

    def _embed(self, texts: list[str]) -> np.ndarray:
        """Embed texts as unit vectors (an empty list gives an empty matrix)."""
        if not texts:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        vectors = self.embedder.embed(texts, show_progress=self.show_progress)
        return np.asarray(vectors, dtype=np.float32)

    def _link_synonyms(self, first_new: int) -> None:
        """Join every new entity to its similar entities (old or new) by a synonymy edge.

        Values (dates, amounts: an extraction's literals) take no part: "14 July 2011" is
        close to every other date in embedding space, and such edges made dates hubs.
        """
        if first_new >= self.graph.n_entities or self.settings.synonymy_max_neighbors == 0:
            return
        named = np.flatnonzero(~self._literal_rows())
        new = named[named >= first_new]
        if not len(new):
            return
        src, dst, sim = synonymy_edges(
            self.entity_vectors[new],
            np.searchsorted(named, new),
            self.entity_vectors[named],
            threshold=self.settings.synonymy_threshold,
            max_neighbors=self.settings.synonymy_max_neighbors,
            method=self.settings.synonymy_method,
        )
        self.graph.add_synonyms(named[src], named[dst], sim)

    def _literal_rows(self) -> np.ndarray:
        """Which entity rows some extraction typed as a value (a date or an amount)."""
        mask = np.zeros(self.graph.n_entities, dtype=bool)
        for extraction in self.extractions.values():
            for name in extraction.literals:
                row = self.graph.entity_row(name)
                if row is not None:
                    mask[row] = True
        return mask

    def delete(self, ids: Iterable[str]) -> None:
        """Remove passages; entities and facts still asserted by other passages stay."""
        gone = [pid for pid in ids if self.graph.passage_row(pid) is not None]
        if not gone:
            return
        kept = self.graph.remove_passages(gone)
        self.entity_vectors = self.entity_vectors[kept.entities]
        self.fact_vectors = self.fact_vectors[kept.facts]
        self.passage_vectors = self.passage_vectors[kept.passages]
        for pid in gone:
            self.extractions.pop(pid, None)
        self._invalidate()

    def _invalidate(self) -> None:
        """Forget everything derived from the graph after it changed."""
        self._derived.clear()
        self._query_ner = None

    def _cached(self, key: object, build: Callable[[], Any]) -> Any:
        """A derived value, built on first use."""
        if key not in self._derived:
            self._derived[key] = build()
        return self._derived[key]

    def operator(self, *, synonymy: bool, passage_nodes: bool) -> PersonalizedPageRank:
        """The PageRank operator of one graph variant."""

        def build() -> PersonalizedPageRank:
            saved = self._derived.get("saved_csr") if synonymy and passage_nodes else None
            csr = saved or self.graph.csr(synonymy=synonymy, passage_nodes=passage_nodes)
            return PersonalizedPageRank(csr)

        op: PersonalizedPageRank = self._cached(("operator", synonymy, passage_nodes), build)
        return op

    def specificity(self) -> np.ndarray:
        """1 / passages per entity."""
        values: np.ndarray = self._cached("specificity", self.graph.specificity)
        return values

    def mostly_pattern_extracted(self) -> bool:
        """Whether most passages were read by the offline pattern extractor (noisy triples)."""

        def count() -> bool:
            offline = sum(e.extractor == PatternOpenIE.name for e in self.extractions.values())
            return offline * 2 > len(self.extractions)

        return bool(self._cached("mostly_pattern", count))

    def auto_dense_fusion(self) -> float:
        """The dense weight `dense_fusion: auto` means, by the extractor that read most passages.

        Pattern triples are too noisy to rank alone (1); spaCy's carry the second hop but rank
        the first less well than dense (0.5, measured on musique-100 and hotpotqa-dev-500
        against 0 and 1, see docs/graph.md); an LLM's need no help (0).
        """
        if self.mostly_pattern_extracted():
            return 1.0
        return 0.5 if self._mostly_extracted_by(SPACY) else 0.0

    def _mostly_extracted_by(self, name: str) -> bool:
        """Whether the extractor `name` read more than half of the passages."""
        names = [e.extractor for e in self.extractions.values()]
        return names.count(name) * 2 > len(names)

    def incidence(self) -> sparse.csr_array:
        """Passages x entities matrix: passage scores from entity PageRank."""
        matrix: sparse.csr_array = self._cached("incidence", self.graph.passage_entity_matrix)
        return matrix

    def nearest_facts(self, vector: np.ndarray, limit: int) -> list[str]:
        """The texts of the `limit` facts most similar to a query vector, nearest first."""
        if not len(self.fact_vectors):
            return []
        scores = self.fact_vectors @ vector.astype(np.float32)
        order = np.argsort(-scores)[:limit]
        return [self.graph.fact_texts[int(i)] for i in order]

    def _search(self, query: Query, k: int, config: GraphSearch) -> SearchResult:
        """HippoRAG 1 or 2 retrieval, as `config.method` names; the query's LLM, if any, helps."""
        result = retrieve(self, query, k, config)
        details = {
            "method": config.method,
            "seeds": [[name, round(w, 5)] for name, w in result.seeds[:20]],
            "facts": [[text, round(s, 4)] for text, s in result.facts],
            "fallback": result.fallback,
        }
        return SearchResult(result.hits, details)

    def ids(self) -> set[str]:
        """The passage ids held."""
        return set(self.graph.passages)

    def save(self, directory: Path) -> None:
        """Write the graph (JSON + CSR .npy), vectors (.npy), extractions and config."""
        directory.mkdir(parents=True, exist_ok=True)
        save_graph(self.graph, directory)
        for name, array in zip(
            VECTOR_FILES,
            (self.entity_vectors, self.fact_vectors, self.passage_vectors),
            strict=True,
        ):
            np.save(directory / name, array)
        with (directory / "extractions.jsonl").open("w", encoding="utf-8") as out:
            for pid in self.graph.passages:
                out.write(self.extractions[pid].model_dump_json() + "\n")
        config = {"dim": self.embedder.dim, **self.settings.model_dump()}
        (directory / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path, context: BuildContext) -> Self:
        """Open a saved graph index; the context's embedder must be the one it was built with."""
        embedder = context.embedder
        verify_saved(directory)
        vectors = [load_array(directory / name, ndim=2) for name in VECTOR_FILES]
        try:
            config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
            lines = (directory / "extractions.jsonl").read_text(encoding="utf-8").splitlines()
            extractions = [Extraction.model_validate_json(line) for line in lines if line]
        except (OSError, ValueError) as exc:
            raise IndexFormatError(f"{directory}: unreadable graph index ({exc})") from exc
        if config.pop("dim") != embedder.dim or any(v.shape[1] != embedder.dim for v in vectors):
            raise IndexFormatError(f"{directory}: vectors do not match embedder dim {embedder.dim}")
        self = cls(
            embedder,
            GraphSettings(**config),
            show_progress=context.show_progress,
            context=context,
        )
        self.graph = load_graph(directory)
        n_nodes = self.graph.n_entities + self.graph.n_passages
        # The full graph as saved, read back and used for the default PageRank operator.
        self._derived["saved_csr"] = load_csr(directory, n_nodes)
        self.entity_vectors, self.fact_vectors, self.passage_vectors = vectors
        self.extractions = {e.passage_id: e for e in extractions}
        sizes = (self.graph.n_entities, len(self.graph.facts), self.graph.n_passages)
        if tuple(len(v) for v in vectors) != sizes or len(self.extractions) != sizes[2]:
            raise IndexFormatError(f"{directory}: graph and vector files disagree in size")
        return self
