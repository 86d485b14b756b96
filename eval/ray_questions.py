"""`rag eval --engine ray`: a dataset's questions spread over Ray actors, each holding the opened
index read-only; the records are the in-process run's (same query batches, same calls).

Each row is one batch of questions for one pipeline, exactly the batch the in-process runner
embeds in one model call, so every query vector and so every ranking is the same. Records and
traces stream back to this process, which alone writes the result files.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eval.datasets import QAItem
from eval.records import QuestionRecord
from pipelines.trace_log import TraceRecord, append_trace
from rag.settings import Settings

if TYPE_CHECKING:
    from tqdm import tqdm

    from eval.runner import _PipelineRun

logger = logging.getLogger(__name__)


class QuestionActor:
    """Ray actor: one opened index (read-only) and the pipelines asked of it."""

    def __init__(self, where: str, settings: Settings, pipelines: list[str], ks: list[int]) -> None:
        """Open the index once, without the embedding cache (as the in-process runner does)."""
        from pipelines.rag_index import RagIndex
        from pipelines.resolve import resolve_pipeline

        uncached = settings.embedder.model_copy(update={"cache": False})
        self.where, self.ks = where, ks
        self.idx = RagIndex.open(where, settings.model_copy(update={"embedder": uncached}))
        self.pipes = {name: resolve_pipeline(name) for name in pipelines}

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[Any]]:
        """Ask each row's questions (one query-embedding call per row) and score them."""
        from eval.scoring import question_record

        out: dict[str, list[Any]] = {"record": [], "trace": []}
        for name, answer_it, items in zip(
            batch["pipeline"], batch["answer"], batch["items"], strict=True
        ):
            pipe = self.pipes[str(name)]
            questions = [QAItem.model_validate_json(str(item)) for item in items]
            vectors = self.idx.resources.embedder.embed_queries([q.question for q in questions])
            for item, vector in zip(questions, vectors, strict=True):
                start = time.perf_counter()
                answer = self.idx.ask(
                    item.question, pipe, answer=bool(answer_it), query_vector=vector
                )
                latency = (time.perf_counter() - start) * 1000
                record = question_record(item, pipe.name, answer, latency, self.ks)
                trace = TraceRecord.of(answer, pipe.name, self.where, item.id)
                out["record"].append(record.model_dump_json())
                out["trace"].append(trace.model_dump_json())
        return out


def ask_on_ray(
    where: Path,
    settings: Settings,
    runs: Sequence[_PipelineRun],
    items: list[QAItem],
    bar: tqdm,
    batch: int,
) -> None:
    """Ask the pending questions among `items` of every run on actors holding `where`."""
    from indexers.engine.ray_support import connect, quiet_data

    ray, _, _ = connect(settings.engine.address)
    quiet_data(settings.show_progress)
    rows = []
    for r in runs:
        todo = r.pending(items)
        for i in range(0, len(todo), batch):
            dumped = [q.model_dump_json() for q in todo[i : i + batch]]
            rows.append({"pipeline": r.pipeline, "answer": r.answer, "items": dumped})
    if not rows:
        return
    by_name = {r.pipe.name: r for r in runs}
    pipelines = sorted({r.pipeline for r in runs})
    data = ray.data.from_items(rows).map_batches(
        QuestionActor,
        fn_constructor_kwargs={
            "where": str(where),
            "settings": settings,
            "pipelines": pipelines,
            "ks": list(runs[0].ks),
        },
        batch_size=1,
        compute=ray.data.ActorPoolStrategy(size=settings.engine.eval_actors),
        num_cpus=1,
    )
    start = time.perf_counter()
    for row in data.iter_rows():
        # One output row per question: its record and its trace.
        record = QuestionRecord.model_validate_json(row["record"])
        r = by_name[record.pipeline]
        r.done[record.question_id] = record
        r.asked += 1
        if r.traces:
            append_trace(r.traces, TraceRecord.model_validate_json(row["trace"]))
        if r.store:
            r.store.append(record)
        bar.update(1)
    seconds = time.perf_counter() - start
    for r in runs:
        # Wall time shared by the runs asked together, as their questions overlapped in time.
        r.seconds += seconds / len(runs)
    logger.info("ray: %d batches of questions asked in %.1f s", len(rows), seconds)
