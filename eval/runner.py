"""The side-by-side runner: several pipelines over one index, same questions, one process."""

from __future__ import annotations

import hashlib
import json
import logging
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from eval.datasets import Dataset, QAItem, load_dataset
from eval.metrics import exact_match, hit_at_k, recall_at_k, reciprocal_rank, token_f1
from eval.records import QuestionRecord, RecordFile, dump_json
from eval.report import ResultTable, save_chart
from indexers.builder import ensure_built
from indexers.registry import DEFAULT_KINDS, index_kind, kind_settings
from pipelines.rag_index import RagIndex
from pipelines.resolve import resolve_pipeline
from pipelines.trace_log import TraceRecord, append_trace
from rag.manifest import MANIFEST
from rag.settings import Settings, load_settings
from rag.types import Answer
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


def dataset_index(
    dataset: Dataset, settings: Settings, kinds: Sequence[str] = DEFAULT_KINDS
) -> RagIndex:
    """Open the dataset's index, building it once per (corpus content, index settings).

    Two processes evaluating the same dataset share the build: the second waits on the
    index's writer lock and then opens what the first built.
    """
    corpus_hash = hashlib.sha256(dataset.corpus_path.read_bytes()).hexdigest()[:12]
    include: dict[str, Any] = {"embedder": {"model", "backend", "precision"}, "chunking": True}
    # Validated build configs, so an option spelled out at its default gives the same key.
    builds = {k: kind_settings(index_kind(k), settings).model_dump() for k in sorted(kinds)}
    if any(index_kind(kind).builds_with_llm for kind in kinds):
        include["llm"] = {"provider", "model"}
    key = settings.model_dump_json(include=include) + json.dumps(builds, sort_keys=True)
    settings_hash = hashlib.sha256(key.encode()).hexdigest()[:12]
    where = settings.cache_dir / "eval-indexes" / f"{dataset.name}-{corpus_hash}-{settings_hash}"
    if not (where / MANIFEST).exists():
        ensure_built([dataset.corpus_path], where, settings, kinds, wait_s=EVAL_INDEX_WAIT_S)
    # Queries skip the embedding cache so that latency does not depend on earlier runs.
    uncached = settings.embedder.model_copy(update={"cache": False})
    return RagIndex.open(where, settings.model_copy(update={"embedder": uncached}))


def score(
    item: QAItem, ranked: list[str], prediction: str, ks: Sequence[int]
) -> dict[str, float | None]:
    """Retrieval and answer metrics of one question."""
    scores: dict[str, float | None] = {
        f"recall@{k}": recall_at_k(ranked, item.gold_ids, k) for k in ks
    }
    scores.update({f"hit@{k}": hit_at_k(ranked, item.gold_ids, k) for k in ks})
    scores["rr"] = reciprocal_rank(ranked, item.gold_ids) if item.gold_ids else None
    scores["em"] = exact_match(prediction, item.answers) if item.answers else None
    scores["f1"] = token_f1(prediction, item.answers) if item.answers else None
    return scores


def _record(
    item: QAItem, pipeline: str, answer: Answer, latency_ms: float, ks: Sequence[int]
) -> QuestionRecord:
    """Score one answered (or retrieval-only) question."""
    ranked = [h.passage_id for h in answer.hits]
    scores = score(item, ranked, answer.text, ks)
    if not answer.reader:  # retrieval only: no answer to score
        scores["em"] = scores["f1"] = None
    return QuestionRecord(
        question_id=item.id,
        question=item.question,
        pipeline=pipeline,
        gold_ids=item.gold_ids,
        answers=item.answers,
        retrieved=[(h.passage_id, round(h.score, 6)) for h in answer.hits],
        prediction=answer.text,
        citations=[c.passage_id for c in answer.citations],
        latency_ms=round(latency_ms, 2),
        llm_calls=sum(e.llm_calls for e in answer.trace if e.parent is None),
        llm_tokens=sum(e.llm_tokens for e in answer.trace if e.parent is None),
        trace=QuestionRecord.trace_summary(answer),
        scores=scores,
    )


def aggregate(
    pipeline: str,
    records: list[QuestionRecord],
    ks: Sequence[int],
    questions_per_s: float | None = None,
) -> dict[str, Any]:
    """Average the per-question scores of one pipeline (questions without gold are skipped)."""

    def mean(key: str) -> float | None:
        values = [v for r in records if (v := r.scores.get(key)) is not None]
        return float(np.mean(values)) if values else None

    latencies = np.array([r.latency_ms for r in records])
    row: dict[str, Any] = {"pipeline": pipeline, "questions": len(records)}
    row.update({f"recall@{k}": mean(f"recall@{k}") for k in ks})
    row.update({"mrr": mean("rr"), "em": mean("em"), "f1": mean("f1")})
    row.update({f"hit@{k}": mean(f"hit@{k}") for k in ks})  # in JSON; the table stays narrow
    row["latency_mean_ms"] = float(latencies.mean()) if len(records) else None
    row["latency_p95_ms"] = float(np.percentile(latencies, 95)) if len(records) else None
    row["questions_per_s"] = questions_per_s
    row["llm_calls"] = sum(r.llm_calls for r in records)
    row["llm_tokens"] = sum(r.llm_tokens for r in records)
    return row


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
    every question's full trace. `answer=False` evaluates retrieval alone (no reader).
    """
    settings = settings or load_settings()
    ds = dataset if isinstance(dataset, Dataset) else load_dataset(dataset)
    # Recall@k needs k hits; the reader still reads only its own top passages.
    settings = settings.model_copy(
        update={"retrieval": settings.retrieval.model_copy(update={"top_k": max(ks)})}
    )
    settings = with_dataset_extractor(ds, settings)
    # Fail on an unknown pipeline before any work, and learn which indexes to build.
    needed = set().union(*(resolve_pipeline(name).index_kinds() for name in pipelines))
    out_dir = Path(out) if out else None
    rows = []
    with dataset_index(ds, settings, sorted(needed | set(DEFAULT_KINDS))) as idx:
        for name in pipelines:
            run = _PipelineRun(idx, ds, name, ks, out_dir, answer, settings.show_progress)
            records, rate = run.all_records()
            # A YAML pipeline is shown by the name inside it, not by its path.
            rows.append(aggregate(resolve_pipeline(name).name, records, ks, rate))
    meta = {
        "dataset": {
            "name": ds.name,
            "questions": len(ds.questions),
            "hash": ds.content_hash,
            "corpus": str(ds.corpus_path),
        },
        "index": str(idx.path),
        "code": code_version(),
        "ks": list(ks),
    }
    table = ResultTable(rows, meta)
    if out_dir:
        dump_json(out_dir / "settings.json", settings.model_dump(mode="json"))
        dump_json(out_dir / "summary.json", table.to_dict())
        (out_dir / "summary.md").write_text(table.to_markdown() + "\n", encoding="utf-8")
        save_chart(table, out_dir / "chart.png")
    return table


#: Questions whose embeddings are computed in one model call.
EMBED_BATCH = 64


class _PipelineRun:
    """One pipeline over a dataset's questions, resuming from records a previous run wrote."""

    def __init__(
        self,
        idx: RagIndex,
        ds: Dataset,
        pipeline: str,
        ks: Sequence[int],
        out: Path | None,
        answer: bool,
        progress: bool,
    ) -> None:
        """Prepare the run; nothing is asked yet."""
        self.idx, self.ds, self.pipeline, self.ks = idx, ds, pipeline, ks
        self.pipe = resolve_pipeline(pipeline)
        self.answer, self.progress = answer, progress
        stem = Path(pipeline).stem
        self.store = RecordFile(out / "records" / f"{stem}.jsonl") if out else None
        self.traces = out / "traces" / f"{stem}.jsonl" if out else None

    def all_records(self) -> tuple[list[QuestionRecord], float | None]:
        """Every question's record, and questions per second of the ones asked now."""
        done = self.store.load() if self.store else {}
        todo = [q for q in self.ds.questions if q.id not in done]
        if done:
            logger.info(
                "%s: resuming, %d of %d questions already done",
                self.pipeline,
                len(done),
                len(self.ds.questions),
            )
        start = time.perf_counter()
        bar = tqdm(total=len(todo), desc=self.pipe.name, unit="q", disable=not self.progress)
        with bar:
            for batch_start in range(0, len(todo), EMBED_BATCH):
                batch = todo[batch_start : batch_start + EMBED_BATCH]
                # One model call for a batch of questions; each query then reuses its vector.
                vectors = self.idx.resources.embedder.embed_queries([q.question for q in batch])
                for item, vector in zip(batch, vectors, strict=True):
                    done[item.id] = self._ask(item, vector)
                    bar.update(1)
        seconds = time.perf_counter() - start
        rate = len(todo) / seconds if todo and seconds > 0 else None
        return [done[q.id] for q in self.ds.questions], rate

    def _ask(self, item: QAItem, vector: np.ndarray) -> QuestionRecord:
        """Run one question and keep its record and trace."""
        start = time.perf_counter()
        answer = self.idx.ask(item.question, self.pipe, answer=self.answer, query_vector=vector)
        latency = (time.perf_counter() - start) * 1000
        record = _record(item, self.pipe.name, answer, latency, self.ks)
        if self.traces:
            trace = TraceRecord.of(answer, self.pipe.name, str(self.idx.path), item.id)
            append_trace(self.traces, trace)
        if self.store:
            self.store.append(record)
        return record
