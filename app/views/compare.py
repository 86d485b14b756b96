"""Compare: two pipelines on the same question, side by side."""

from __future__ import annotations

import time
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from app import resources
from app.explain import compare_rows, total_ms
from app.pipeline_choice import pipeline_input
from app.questions import question_input
from app.tables import table as dash_table
from app.widgets import guard, passages_of, show_answer, show_trace
from rag.types import Answer


def run_both(index_path: Path) -> None:
    """The form: a question and two pipelines; both answers are kept in the session."""
    st.caption(f"Comparing on {resources.roots().label(index_path)}")
    question = question_input("Question", "cmp_question", index_path)
    left, right = st.columns(2)
    with left:
        pipe_a = pipeline_input("Pipeline A", "cmp_a", "dense")
    with right:
        pipe_b = pipeline_input("Pipeline B", "cmp_b", "hybrid")
    answer_it = st.checkbox("Answer with the reader", False, key="cmp_answer")
    ready = pipe_a is not None and pipe_b is not None
    if not st.button("Compare", type="primary", key="cmp_run", disabled=not ready):
        return
    idx = resources.open_index(index_path)
    results = []
    for pipe in (pipe_a, pipe_b):
        assert pipe is not None, "the button is disabled until both pipelines parse"
        start = time.perf_counter()
        answer = idx.ask(question, pipe, answer=answer_it)
        results.append((pipe.name, answer, time.perf_counter() - start))
    st.session_state["cmp_result"] = {
        "index": str(index_path),
        "question": question,
        "runs": results,
    }


def rank_chart(rows: list[dict]) -> alt.Chart:
    """A slope chart: each passage's rank in A joined to its rank in B."""
    points = [
        {"pipeline": side, "rank": r[f"rank {side}"], "title": r["title"], "in": r["in"]}
        for r in rows
        for side in ("A", "B")
        if r[f"rank {side}"] is not None
    ]
    data = pd.DataFrame(points)
    base = alt.Chart(data).encode(
        x=alt.X("pipeline:N", title=None),
        y=alt.Y("rank:Q", scale=alt.Scale(reverse=True), title="rank"),
        color=alt.Color("in:N", title=None),
        detail="title:N",
        tooltip=["title", "pipeline", "rank", "in"],
    )
    return (base.mark_line() + base.mark_point(size=60)).properties(height=360)


def show_comparison(result: dict) -> None:
    """Shared and unique hits, rank changes, answers and timing."""
    (name_a, a, sec_a), (name_b, b, sec_b) = result["runs"]
    a_ans: Answer = a
    b_ans: Answer = b
    index_path = Path(result["index"])
    passages = passages_of(index_path, [h.passage_id for h in [*a_ans.hits, *b_ans.hits]])
    rows = compare_rows(a_ans.hits, b_ans.hits, passages)
    shared = sum(r["in"] == "both" for r in rows)
    cols = st.columns(4)
    cols[0].metric("shared hits", shared)
    cols[1].metric(f"only A ({name_a})", sum(r["in"] == "only A" for r in rows))
    cols[2].metric(f"only B ({name_b})", sum(r["in"] == "only B" for r in rows))
    cols[3].metric("A / B ms", f"{sec_a * 1000:.0f} / {sec_b * 1000:.0f}")
    table, chart = st.columns([3, 2])
    with table:
        st.dataframe(dash_table(rows), hide_index=True, width="stretch")
    with chart:
        st.altair_chart(rank_chart(rows), width="stretch")
    side_a, side_b = st.columns(2)
    for side, name, answer, seconds in (
        (side_a, name_a, a_ans, sec_a),
        (side_b, name_b, b_ans, sec_b),
    ):
        with side:
            st.subheader(name)
            st.caption(f"{seconds * 1000:.0f} ms wall, steps {total_ms(answer.trace):.0f} ms")
            if answer.text or answer.citations:
                show_answer(answer.text, answer.reader, answer.citations, passages)
            show_trace(answer.trace, f"cmp_{name}_{side is side_a}")


st.title("Compare")
chosen = st.session_state.get("chosen_index")
if not chosen:
    st.info("Pick an index dir in the sidebar.")
else:
    with guard("Running the two pipelines"):
        run_both(Path(chosen))
    result = st.session_state.get("cmp_result")
    if result:
        with guard("Showing the comparison"):
            show_comparison(result)
