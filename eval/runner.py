"""The side-by-side runner: several pipelines over one index, same questions, one process.

A per-document set (QMSum, LoCoMo: `Dataset.documents`) gets one index per document instead, each
built once per (corpus content, index settings) and opened in turn; every question is asked of
its own document's index only.
"""

from __future__ import annotations

import hashlib
import json
import logging
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from eval.datasets import Dataset, QAItem, load_dataset
from eval.records import QuestionRecord, RecordFile, dump_json
from eval.report import ResultTable, save_chart
from eval.scoring import NDCG_K, aggregate, question_record
from indexers.builder import ensure_built
from indexers.registry import DEFAULT_KINDS, index_kind, kind_settings
from pipelines.rag_index import RagIndex
from pipelines.resolve import resolve_pipeline
from pipelines.trace_log import TraceRecord, append_trace
from rag.embed import make_embedder
from rag.embed.base import Embedder
from rag.errors import ConfigError, InputError
from rag.manifest import MANIFEST
from rag.operators.openie.spacy_extractor import RULES_VERSION as SPACY_RULES_VERSION
from rag.settings import EmbedderSettings, Settings, load_settings
from rag.version import memrag_version

logger = logging.getLogger(__name__)

DEFAULT_KS = (1, 2, 5, 10)


def code_version() -> dict[str, str]:
    """memrag's version and, in a git checkout, the commit (with '+dirty' for local edits)."""
    info = {"memrag": memrag_version()}
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=here, capture_output=True, text=True, check=True
        ).stdout.strip()
        info["commit"] = commit + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        pass
    return info


def with_dataset_extractor(dataset: Dataset, settings: Settings) -> Settings:
    """Settings whose graph extractor 'auto' means the dataset's cached OpenIE file, if any."""
    if settings.section("graph").get("extractor", "auto") != "auto" or dataset.openie_path is None:
        return settings
    return settings.with_section("graph", extractor=f"cache:{dataset.openie_path}")


#: How long `rag eval` waits for another process building the same dataset index.
EVAL_INDEX_WAIT_S = 3600.0


def _index_path(
    dataset: Dataset, settings: Settings, kinds: Sequence[str], document: str | None
) -> Path:
    """Where the index of the dataset's corpus (or of one document's) is cached."""
    corpus = dataset.corpus_path if document is None else dataset.documents[document]
    corpus_hash = hashlib.sha256(corpus.read_bytes()).hexdigest()[:12]
    include: dict[str, Any] = {"embedder": {"model", "backend", "precision"}, "chunking": True}
    # Validated build configs, so an option spelled out at its default gives the same key.
    builds = {k: kind_settings(index_kind(k), settings).model_dump() for k in sorted(kinds)}
    if any(index_kind(kind).builds_with_llm for kind in kinds):
        include["llm"] = {"provider", "model"}
    if "graph" in kinds:
        # A rules change re-extracts, so an index built under older rules must not be reused.
        builds["openie_rules"] = {"spacy": SPACY_RULES_VERSION}
    key = settings.model_dump_json(include=include) + json.dumps(builds, sort_keys=True)
    settings_hash = hashlib.sha256(key.encode()).hexdigest()[:12]
    base = settings.cache_dir / "eval-indexes"
    if document is None:
        return base / f"{dataset.name}-{corpus_hash}-{settings_hash}"
    return base / f"{dataset.name}-{settings_hash}" / f"{document}-{corpus_hash}"


def dataset_index(
    dataset: Dataset,
    settings: Settings,
    kinds: Sequence[str] = DEFAULT_KINDS,
    document: str | None = None,
) -> RagIndex:
    """Open the dataset's index (or one document's), building it once per content and settings.

    Two processes evaluating the same dataset share the build: the second waits on the
    index's writer lock and then opens what the first built.
    """
    where = ensure_dataset_index(dataset, settings, kinds, document)
    # Queries skip the embedding cache so that latency does not depend on earlier runs.
    return RagIndex.open(where, settings.model_copy(update={"embedder": _uncached(settings)}))


def ensure_dataset_index(
    dataset: Dataset,
    settings: Settings,
    kinds: Sequence[str] = DEFAULT_KINDS,
    document: str | None = None,
) -> Path:
    """Build the dataset's index (or one document's) unless it exists; where it lies."""
    where = _index_path(dataset, settings, kinds, document)
    if not (where / MANIFEST).exists():
        corpus = dataset.corpus_path if document is None else dataset.documents[document]
        ensure_built([corpus], where, settings, kinds, wait_s=EVAL_INDEX_WAIT_S)
    return where


def _uncached(settings: Settings) -> EmbedderSettings:
    """The embedder settings without the disk cache."""
    return settings.embedder.model_copy(update={"cache": False})


def _by_document(ds: Dataset) -> list[tuple[str | None, list[QAItem]]]:
    """The questions to ask of each index: all of them of the one corpus, or per document."""
    if not ds.documents:
        return [(None, ds.questions)]
    groups: dict[str, list[QAItem]] = {doc: [] for doc in ds.documents}
    for item in ds.questions:
        doc = item.metadata.get("document")
        if doc not in groups:
            raise InputError(
                f"{ds.questions_path}: question {item.id!r} names document {doc!r}, "
                "which the dataset has no corpus for"
            )
        groups[doc].append(item)
    return [(doc, items) for doc, items in groups.items() if items]


def _check_chunking(ds: Dataset, settings: Settings) -> None:
    """Refuse settings that would chunk the corpus otherwise than the dataset's gold assumes."""
    chunking = settings.chunking.model_dump()
    if ds.gold_chunking is not None and ds.gold_chunking != chunking:
        raise ConfigError(
            f"{ds.questions_path}: the gold passage ids were computed for chunking "
            f"{ds.gold_chunking}, but these settings chunk with {chunking}; load the dataset "
            "with the same settings (load_dataset(..., settings=...))"
        )


def run(
    dataset: Dataset | str | Path,
    pipelines: Sequence[str] = ("dense", "bm25", "hybrid"),
    *,
    out: str | Path | None = None,
    settings: Settings | None = None,
    ks: Sequence[int] = DEFAULT_KS,
    answer: bool = True,
) -> ResultTable:
    """Run pipelines side by side over one dataset and return the table of aggregate figures.

    With `out`, per-question records are appended to `out/records/<pipeline>.jsonl` as they
    are made (a killed run continues where it stopped), and `summary.json`, `summary.md`,
    `settings.json` and `chart.png` are written at the end; `traces/<pipeline>.jsonl` holds
    every question's full trace. `answer=False` evaluates retrieval alone (no reader). A
    per-document dataset is asked document by document, each of its own index.
    """
    settings = settings or load_settings()
    ds = dataset if isinstance(dataset, Dataset) else load_dataset(dataset, settings=settings)
    _check_chunking(ds, settings)
    # Recall@k and nDCG need k hits; the reader still reads only its own top passages.
    top_k = max(*ks, NDCG_K)
    settings = settings.model_copy(
        update={"retrieval": settings.retrieval.model_copy(update={"top_k": top_k})}
    )
    settings = with_dataset_extractor(ds, settings)
    # Fail on an unknown pipeline or document before any work, and learn which indexes to build.
    for name in pipelines:
        resolve_pipeline(name)
    groups = _by_document(ds)
    out_dir = Path(out) if out else None
    runs = [_PipelineRun(ds, name, ks, out_dir, answer) for name in pipelines]
    builds = build_groups(runs, settings)
    todo = sum(len(r.pending(items)) for r in runs for _, items in groups)
    shared: Embedder | None = None
    if ds.documents and todo:
        # One model for every document's questions, rather than one load per document index.
        shared = make_embedder(_uncached(settings), settings.cache_dir)
    # Every index is built before the questions' bar starts, so its rate and ETA are the
    # questions' own, not a build's minutes spread over the first question.
    needed = [
        (document, build)
        for document, items in groups
        for build in builds
        if any(r.pending(items) for r in build.runs)
    ]
    for document, build in tqdm(
        needed, desc="indexes", unit="index", disable=not settings.show_progress or len(needed) < 2
    ):
        ensure_dataset_index(ds, build.settings, build.kinds, document)
    bar = tqdm(total=todo, desc=ds.name, unit="q", disable=not settings.show_progress)
    with bar:
        for document, items in groups:
            if not any(r.pending(items) for r in runs):
                continue
            for build in builds:
                if not any(r.pending(items) for r in build.runs):
                    continue
                if settings.engine.name == "ray":
                    from eval.ray_questions import ask_on_ray

                    where = ensure_dataset_index(ds, build.settings, build.kinds, document)
                    ask_on_ray(where, build.settings, build.runs, items, bar, EMBED_BATCH)
                    continue
                with dataset_index(ds, build.settings, build.kinds, document) as idx:
                    for r in build.runs:
                        r.ask_all(idx, items, shared or idx.resources.embedder, bar)
    if shared is not None and callable(close := getattr(shared, "close", None)):
        close()
    rows = []
    for r in runs:
        records, rate = r.results()
        # A YAML pipeline is shown by the name inside it, not by its path.
        rows.append(aggregate(r.pipe.name, records, ks, rate))
    meta = _meta(ds, builds[0].settings, builds[0].kinds, ks, len(groups))
    if len(builds) > 1:
        # Pipelines that name other build settings (tree builders, say) ran on other indexes.
        meta["indexes"] = {
            ", ".join(r.pipe.name for r in b.runs): _meta(ds, b.settings, b.kinds, ks, 0)["index"]
            for b in builds
        }
    table = ResultTable(rows, meta, headline=ds.headline)
    if out_dir:
        dump_json(out_dir / "settings.json", settings.model_dump(mode="json"))
        dump_json(out_dir / "summary.json", table.to_dict())
        (out_dir / "summary.md").write_text(table.to_markdown() + "\n", encoding="utf-8")
        save_chart(table, out_dir / "chart.png")
    return table


@dataclass
class BuildGroup:
    """Pipelines that run on one index: the settings it is built with and the kinds it holds."""

    settings: Settings
    kinds: list[str]
    runs: list[_PipelineRun]


def build_groups(runs: Sequence[_PipelineRun], settings: Settings) -> list[BuildGroup]:
    """Pipelines grouped by the build settings they name; those naming none join the first
    group, since any index with their kinds serves them."""
    by_build: dict[str, list[_PipelineRun]] = {}
    for r in runs:
        by_build.setdefault(json.dumps(r.pipe.build, sort_keys=True), []).append(r)
    free = by_build.pop(json.dumps({}), [])
    members = list(by_build.values()) or [[]]
    members[0] = free + members[0]
    groups = []
    for group in members:
        built = settings
        for section, values in (group[-1].pipe.build if group else {}).items():
            built = built.with_section(section, **values)
        needed = set().union(*(r.pipe.index_kinds() for r in group))
        groups.append(BuildGroup(built, sorted(needed | set(DEFAULT_KINDS)), group))
    return groups


def _meta(
    ds: Dataset, settings: Settings, kinds: Sequence[str], ks: Sequence[int], asked_of: int
) -> dict[str, Any]:
    """What produced a table: dataset, index location, code version, cutoffs."""
    without_gold = sum(not q.gold_ids for q in ds.questions)
    dataset: dict[str, Any] = {
        "name": ds.name,
        "questions": len(ds.questions),
        # Retrieval means leave these out; answer means keep them.
        "questions_without_gold": without_gold,
        "hash": ds.content_hash,
        "corpus": str(ds.corpus_path),
    }
    if ds.documents:
        dataset.update({"documents": len(ds.documents), "documents_asked": asked_of})
        # Every document's index lies in this folder, one sub-folder each.
        index = _index_path(ds, settings, kinds, next(iter(ds.documents))).parent
    else:
        index = _index_path(ds, settings, kinds, None)
    meta = {"dataset": dataset, "index": str(index), "code": code_version(), "ks": list(ks)}
    if ds.headline:
        meta["headline"] = list(ds.headline)
    return meta


#: Questions whose embeddings are computed in one model call.
EMBED_BATCH = 64


class _PipelineRun:
    """One pipeline over a dataset's questions, resuming from records a previous run wrote."""

    def __init__(
        self, ds: Dataset, pipeline: str, ks: Sequence[int], out: Path | None, answer: bool
    ) -> None:
        """Read the records a previous run left; nothing is asked yet."""
        self.ds, self.pipeline, self.ks, self.answer = ds, pipeline, ks, answer
        self.pipe = resolve_pipeline(pipeline)
        stem = Path(pipeline).stem
        self.store = RecordFile(out / "records" / f"{stem}.jsonl") if out else None
        self.traces = out / "traces" / f"{stem}.jsonl" if out else None
        self.done = self.store.load() if self.store else {}
        if self.done:
            logger.info(
                "%s: resuming, %d of %d questions already done",
                pipeline,
                len(self.done),
                len(ds.questions),
            )
        self.asked, self.seconds = 0, 0.0
        self.idx: RagIndex | None = None

    def pending(self, items: list[QAItem]) -> list[QAItem]:
        """The questions among `items` without a record yet."""
        return [q for q in items if q.id not in self.done]

    def ask_all(self, idx: RagIndex, items: list[QAItem], embedder: Embedder, bar: tqdm) -> None:
        """Ask the pending questions among `items` of one index."""
        todo = self.pending(items)
        self.idx = idx
        bar.set_description(self.pipe.name)
        start = time.perf_counter()
        for batch_start in range(0, len(todo), EMBED_BATCH):
            batch = todo[batch_start : batch_start + EMBED_BATCH]
            # One model call for a batch of questions; each query then reuses its vector.
            vectors = embedder.embed_queries([q.question for q in batch])
            for item, vector in zip(batch, vectors, strict=True):
                self.done[item.id] = self._ask(item, vector)
                bar.update(1)
        self.seconds += time.perf_counter() - start
        self.asked += len(todo)

    def results(self) -> tuple[list[QuestionRecord], float | None]:
        """Every question's record, and questions per second of the ones asked now."""
        rate = self.asked / self.seconds if self.asked and self.seconds > 0 else None
        return [self.done[q.id] for q in self.ds.questions], rate

    def _ask(self, item: QAItem, vector: np.ndarray) -> QuestionRecord:
        """Run one question and keep its record and trace."""
        assert self.idx is not None, "ask_all sets the index before asking"
        start = time.perf_counter()
        answer = self.idx.ask(item.question, self.pipe, answer=self.answer, query_vector=vector)
        latency = (time.perf_counter() - start) * 1000
        record = question_record(item, self.pipe.name, answer, latency, self.ks)
        if self.traces:
            trace = TraceRecord.of(answer, self.pipe.name, str(self.idx.path), item.id)
            append_trace(self.traces, trace)
        if self.store:
            self.store.append(record)
        return record
