"""Ask: one question, one pipeline: the answer, the hits and why, and the trace."""

from __future__ import annotations

import time
from pathlib import Path

import streamlit as st

from app import resources
from app.discovery import Found
from app.pipeline_choice import pipeline_input
from app.questions import question_input
from app.why import show_why
from app.widgets import guard, passages_of, show_answer, show_hits, show_trace
from pipelines.trace_log import read_traces
from rag.types import Answer


def ask_live(index_path: Path) -> None:
    """The question form; the last result stays in the session across page switches."""
    st.caption(f"Asking {resources.roots().label(index_path)}")
    question = question_input("Question", "ask_question", index_path)
    pipe = pipeline_input("Pipeline", "ask")
    answer_it = st.checkbox("Answer with the reader", True, key="ask_answer")
    if st.button("Ask", type="primary", key="ask_run", disabled=pipe is None) and pipe:
        idx = resources.open_index(index_path)
        start = time.perf_counter()
        answer = idx.ask(question, pipe, answer=answer_it)
        seconds = time.perf_counter() - start
        st.session_state["ask_result"] = {
            "answer": answer,
            "question": question,
            "index": str(index_path),
            "pipeline": pipe.name,
            "seconds": seconds,
        }


def show_result(answer: Answer, index_path: Path | None, heading: str, key: str) -> None:
    """Answer, hits with reasons, the why panels, and the trace."""
    st.caption(heading)
    ids = [h.passage_id for h in answer.hits] + [c.passage_id for c in answer.citations]
    passages = passages_of(index_path, ids)
    show_answer(answer.text, answer.reader, answer.citations, passages)
    # One view at a time: only it renders (quicker), and charts get their real size.
    view = st.radio("Show", ["Hits", "Why", "Trace"], horizontal=True, key=f"{key}_view")
    if view == "Why":
        show_why(answer.hits, answer.trace, passages, index_path)
    elif view == "Trace":
        show_trace(answer.trace, key)
    else:
        show_hits(answer.hits, passages, key)


def saved_traces(found: Found) -> None:
    """A trace file written by `rag query --trace-out` or `rag eval`, one record at a time."""
    if not found.traces:
        st.info("No trace files under the roots (`rag query --trace-out FILE` writes one).")
        return
    roots = resources.roots()
    path = st.selectbox("Trace file", found.traces, format_func=roots.label, key="trace_file")
    records = list(read_traces(roots.check(path)))
    if not records:
        st.info("This file holds no readable trace records.")
        return
    n = st.selectbox(
        "Record",
        range(len(records)),
        format_func=lambda i: f"{records[i].pipeline}: {records[i].question[:90]}",
        key="trace_record",
    )
    rec = records[n]
    index_path = Path(rec.index) if rec.index and roots.allows(rec.index) else None
    show_result(rec.to_answer(), index_path, f"{rec.pipeline} · {rec.question}", "saved")


st.title("Ask")
mode = st.radio("Source", ["Ask an index", "Open a saved trace"], horizontal=True, key="ask_mode")
if mode == "Open a saved trace":
    with guard("Reading a saved trace"):
        saved_traces(resources.found())
else:
    chosen = st.session_state.get("chosen_index")
    if not chosen:
        st.info("Pick an index dir in the sidebar.")
    else:
        with guard("Asking the index"):
            ask_live(Path(chosen))
        result = st.session_state.get("ask_result")
        if result:
            with guard("Showing the result"):
                heading = (
                    f"{result['pipeline']} on {resources.roots().label(Path(result['index']))}"
                    f" · “{result['question']}” · answered in {result['seconds'] * 1000:.0f} ms"
                )
                show_result(result["answer"], Path(result["index"]), heading, "ask")
