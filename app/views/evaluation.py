"""Evaluation: a `rag eval --out` folder: the table, a chart, filters and each question."""

from __future__ import annotations

from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from app import resources
from app.eval_results import (
    EvalRun,
    gold_rows,
    question_rows,
    read_eval,
    trace_file,
    traces_by_question,
)
from app.tables import table
from app.widgets import error_card, guard, passages_of, show_hits, show_trace
from pipelines.resolve import resolve_pipeline
from pipelines.trace_log import TraceRecord


def _stamp(folder: Path) -> int:
    """Newest modification time of a checked folder's result files (a resumed run adds
    records)."""
    files = [folder / "summary.json", *(folder / "records").glob("*.jsonl")]
    return max((f.stat().st_mtime_ns for f in files if f.is_file()), default=0)


def open_run(folder: Path) -> EvalRun:
    """An eval folder under the roots, everything in it checked on every call (the cached
    read below is reached only after the check)."""
    checked = resources.roots().check_tree(folder)
    return load_run(str(checked), _stamp(checked))


@st.cache_data(show_spinner="Reading eval results…", max_entries=8)
def load_run(folder: str, stamp: int) -> EvalRun:
    """An eval folder's summary and records."""
    return read_eval(Path(folder), resources.roots())


@st.cache_data(show_spinner=False, max_entries=16)
def load_traces(path: str, stamp: int) -> dict[str, TraceRecord]:
    """One pipeline's saved traces by question id."""
    return traces_by_question(Path(path))


def summary(run: EvalRun) -> None:
    """The side-by-side table and a grouped bar chart of its scores."""
    meta = run.table.meta
    dataset = meta.get("dataset", {})
    st.caption(
        f"dataset {dataset.get('name', '?')} · {dataset.get('questions', '?')} questions · "
        f"code {meta.get('code', {}).get('commit', meta.get('code', {}).get('memrag', '?'))}"
    )
    if not run.table.rows:
        st.info("No summary.json yet (the run has not finished); records are below.")
        return
    cols = run.table.columns()
    st.dataframe(table(run.table.rows, cols), hide_index=True, width="stretch")
    scores = run.table.score_columns()
    long = pd.DataFrame(
        [
            {"pipeline": r["pipeline"], "metric": m, "score": r.get(m) or 0.0}
            for r in run.table.rows
            for m in scores
        ]
    )
    chart = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("metric:N", sort=scores, title=None),
            xOffset="pipeline:N",
            y=alt.Y("score:Q", scale=alt.Scale(domain=[0, 1])),
            color="pipeline:N",
            tooltip=["pipeline", "metric", alt.Tooltip("score:Q", format=".3f")],
        )
        .properties(height=300)
    )
    st.altair_chart(chart, width="stretch")


def questions(run: EvalRun) -> str | None:
    """Filters and the per-question table; returns the question chosen for the drill-down."""
    pipelines = run.pipelines
    metrics = run.metrics()
    if not pipelines or not metrics:
        st.info("No per-question records in this folder.")
        return None
    c1, c2, c3 = st.columns(3)
    shown = c1.multiselect("Pipelines", pipelines, pipelines, key="eval_pipes")
    default = "recall@5" if "recall@5" in metrics else metrics[0]
    metric = c2.selectbox("Metric", metrics, metrics.index(default), key="eval_metric")
    words = c3.text_input("Question contains", key="eval_words").lower().split()
    disagree = st.checkbox("Only questions where the pipelines disagree", key="eval_disagree")
    rows = question_rows(run, shown, metric)
    rows = [r for r in rows if all(w in r["question"].lower() for w in words)]
    if disagree:
        rows = [r for r in rows if len({r[p] for p in shown}) > 1]
    st.caption(f"{len(rows)} questions")
    if not rows:
        return None
    st.dataframe(table(rows), hide_index=True, width="stretch")
    ids = [r["question_id"] for r in rows]
    texts = {r["question_id"]: r["question"] for r in rows}
    return st.selectbox(
        "Drill into a question",
        ids,
        format_func=lambda q: f"{q}: {texts[q][:100]}",
        key="eval_question",
    )


def drill_down(run: EvalRun, qid: str) -> None:
    """Gold against retrieved for two pipelines, their traces, and a live re-run."""
    pipelines = run.pipelines
    c1, c2, c3 = st.columns(3)
    a = c1.selectbox("Pipeline A", pipelines, 0, key="eval_a")
    b = c2.selectbox("Pipeline B", pipelines, min(1, len(pipelines) - 1), key="eval_b")
    k = c3.selectbox("Within top k", [1, 2, 5, 10, 20], 2, key="eval_k")
    rec_a, rec_b = run.records[a].get(qid), run.records[b].get(qid)
    rec = rec_a or rec_b
    if rec is None:
        st.info("Neither pipeline answered this question.")
        return
    st.markdown(f"**{rec.question}**  \ngold answers: {', '.join(rec.answers) or '–'}")
    index_path = _index_of(run)
    passages = passages_of(index_path, rec.gold_ids)
    rows = gold_rows(rec.gold_ids, rec_a, rec_b, k)
    for row in rows:
        p = passages.get(row["gold passage"])
        row["title"] = p.title if p else ""
    # A gold passage a pipeline did not retrieve has no rank: a dash, not None.
    st.dataframe(table(rows), hide_index=True, width="stretch")
    a_only = [r["title"] or r["gold passage"] for r in rows if r[f"in top {k}"] == "A only"]
    if a_only and a != b:
        st.success(f"{a} found gold that {b} missed in its top {k}: {', '.join(a_only)}")
    side_a, side_b = st.columns(2)
    for side, name, record in ((side_a, a, rec_a), (side_b, b, rec_b)):
        with side:
            st.subheader(name)
            if record is None:
                st.caption("not asked")
                continue
            st.caption(
                f"prediction: {record.prediction or '–'} · {record.latency_ms:.0f} ms · "
                + ", ".join(
                    f"{m} {v:.2f}"
                    for m, v in record.scores.items()
                    if v is not None and m in ("recall@5", "f1", "em")
                )
            )
            gold = set(record.gold_ids)
            st.dataframe(
                pd.DataFrame(
                    [
                        {"rank": n, "passage": pid, "score": s, "gold": pid in gold}
                        for n, (pid, s) in enumerate(record.retrieved, start=1)
                    ]
                ),
                hide_index=True,
                width="stretch",
            )
            path = trace_file(run, name, resources.roots())
            if path is not None:
                traces = load_traces(str(path), path.stat().st_mtime_ns)
                if qid in traces:
                    with st.expander("Trace"):
                        show_trace(traces[qid].events, f"eval_{name}_{side is side_a}")
    rerun(run, index_path, a, qid)


def _index_of(run: EvalRun) -> Path | None:
    """The index the run asked, when it is under the roots and opens as one index dir."""
    where = run.table.meta.get("index")
    if not where or not resources.roots().allows(where):
        return None
    return Path(where) if (Path(where) / "manifest.json").is_file() else None


def rerun(run: EvalRun, index_path: Path | None, pipeline: str, qid: str) -> None:
    """Ask the question again, live, with pipeline A, and mark the gold passages."""
    st.subheader("Re-run live")
    if index_path is None:
        st.info(
            "The index this run used is not under the app's roots (or is one index per "
            f"document); add its folder with `rag app --root`: {run.table.meta.get('index')}"
        )
        return
    record = run.records[pipeline][qid]
    if not st.button(f"Re-run {pipeline} on this question", key="eval_rerun"):
        return
    with guard(f"Re-running {pipeline}"):
        idx = resources.open_index(index_path)
        answer = idx.ask(
            record.question, resolve_pipeline(pipeline), answer=bool(record.prediction)
        )
        gold = set(record.gold_ids)
        found = [h.passage_id for h in answer.hits if h.passage_id in gold]
        st.markdown(f"answer: **{answer.text or '–'}** · gold in hits: {len(found)} of {len(gold)}")
        passages = passages_of(index_path, [h.passage_id for h in answer.hits])
        show_hits(answer.hits, passages, "eval_rerun")


st.title("Evaluation")
evals = resources.found().evals
if not evals:
    st.info("No `rag eval --out` folder under the roots.")
else:
    roots = resources.roots()
    folder = st.selectbox("Results folder", evals, format_func=roots.label, key="eval_folder")
    try:
        run = open_run(folder)
    except Exception as exc:
        error_card(f"Reading {folder}", exc)
    else:
        if run.skipped:
            st.warning(f"{run.skipped} unreadable record lines were skipped.")
        with guard("The summary"):
            summary(run)
        with guard("The questions"):
            chosen = questions(run)
            if chosen:
                drill_down(run, chosen)
