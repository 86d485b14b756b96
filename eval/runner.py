"""The side-by-side runner: several pipelines over one index, same questions, one process."""

from __future__ import annotations

import hashlib
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
from indexers.builder import build_index
from indexers.graph import GraphIndex
from indexers.registry import DEFAULT_KINDS
from pipelines.rag_index import RagIndex
from rag.manifest import MANIFEST
from rag.settings import Settings, load_settings
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
    if settings.graph.extractor != "auto" or dataset.openie_path is None:
        return settings
    graph = settings.graph.model_copy(update={"extractor": f"cache:{dataset.openie_path}"})
    return settings.model_copy(update={"graph": graph})


def dataset_index(
    dataset: Dataset, settings: Settings, kinds: Sequence[str] = DEFAULT_KINDS
) -> RagIndex:
    """Open the dataset's index, building it once per (corpus content, index settings)."""
    corpus_hash = hashlib.sha256(dataset.corpus_path.read_bytes()).hexdigest()[:12]
    include: dict[str, Any] = {
        "embedder": {"model", "backend", "precision"},
        "chunking": True,
        "vector": True,
    }
    if GraphIndex.kind in kinds:
        include["graph"] = True
        include["llm"] = {"provider", "model"}
    key = settings.model_dump_json(include=include) + ",".join(sorted(kinds))
    settings_hash = hashlib.sha256(key.encode()).hexdigest()[:12]
    where = settings.cache_dir / "eval-indexes" / f"{dataset.name}-{corpus_hash}-{settings_hash}"
    if not (where / MANIFEST).exists():
        logger.info("indexing %s into %s", dataset.corpus_path, where)
        build_index([dataset.corpus_path], where, settings, kinds=kinds)
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


def _ask(idx: RagIndex, item: QAItem, pipeline: str, ks: Sequence[int]) -> QuestionRecord:
    """Run one question through one pipeline and score it."""
    start = time.perf_counter()
    answer = idx.ask(item.question, pipeline=pipeline)
    latency = (time.perf_counter() - start) * 1000
    ranked = [h.passage_id for h in answer.hits]
    return QuestionRecord(
        question_id=item.id,
        question=item.question,
        pipeline=pipeline,
        gold_ids=item.gold_ids,
        answers=item.answers,
        retrieved=[(h.passage_id, round(h.score, 6)) for h in answer.hits],
        prediction=answer.text,
        citations=[c.passage_id for c in answer.citations],
        latency_ms=round(latency, 2),
        llm_calls=sum(e.llm_calls for e in answer.trace),
        llm_tokens=sum(e.llm_tokens for e in answer.trace),
        trace=QuestionRecord.trace_summary(answer),
        scores=score(item, ranked, answer.text, ks),
    )


def aggregate(pipeline: str, records: list[QuestionRecord], ks: Sequence[int]) -> dict[str, Any]:
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
) -> ResultTable:
    """Run pipelines side by side over one dataset and return the table of aggregate figures.

    With `out`, per-question records are appended to `out/records/<pipeline>.jsonl` as they
    are made (a killed run continues where it stopped), and `summary.json`, `summary.md`,
    `settings.json` and `chart.png` are written at the end.
    """
    settings = settings or load_settings()
    ds = dataset if isinstance(dataset, Dataset) else load_dataset(dataset)
    # Recall@k needs k hits; the reader still reads only its own top passages.
    settings = settings.model_copy(
        update={"retrieval": settings.retrieval.model_copy(update={"top_k": max(ks)})}
    )
    settings = with_dataset_extractor(ds, settings)
    # Fail on an unknown pipeline before any work, and learn which indexes to build.
    needed = set().union(*(RagIndex.pipeline(name).index_kinds() for name in pipelines))
    idx = dataset_index(ds, settings, sorted(needed | set(DEFAULT_KINDS)))
    out_dir = Path(out) if out else None
    rows = []
    try:
        for name in pipelines:
            records = _run_pipeline(idx, ds, name, ks, out_dir, settings.show_progress)
            # A YAML pipeline is shown by the name inside it, not by its path.
            rows.append(aggregate(RagIndex.pipeline(name).name, records, ks))
    finally:
        idx.close()
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


def _run_pipeline(
    idx: RagIndex, ds: Dataset, pipeline: str, ks: Sequence[int], out: Path | None, progress: bool
) -> list[QuestionRecord]:
    """Answer every question with one pipeline, reusing records a previous run wrote."""
    store = RecordFile(out / "records" / f"{Path(pipeline).stem}.jsonl") if out else None
    done = store.load() if store else {}
    todo = [q for q in ds.questions if q.id not in done]
    if done:
        logger.info(
            "%s: resuming, %d of %d questions already done", pipeline, len(done), len(ds.questions)
        )
    for item in tqdm(todo, desc=pipeline, unit="q", disable=not progress or not todo):
        record = _ask(idx, item, pipeline, ks)
        done[item.id] = record
        if store:
            store.append(record)
    return [done[q.id] for q in ds.questions]
