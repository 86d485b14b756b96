"""Streamlit pieces the pages share: error cards, the index picker, answers, hits and traces."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from app import resources
from app.explain import hit_rows, passage_label, total_ms, trace_rows
from rag.errors import MemragError
from rag.types import Citation, Hit, Passage, TraceEvent

INDEX_KEY = "index_dir"
#: The question the forms start with: one the bundled sample (`rag demo`) answers.
DEFAULT_QUESTION = "When was the Hubble Space Telescope launched?"


def error_card(what: str, exc: BaseException) -> None:
    """Show a failure as a card: what was being done and the error, without a traceback."""
    kind = "" if isinstance(exc, MemragError) else f"{type(exc).__name__}: "
    st.error(f"**{what}**\n\n{kind}{exc}", icon="⚠️")


@contextmanager
def guard(what: str) -> Iterator[None]:
    """Run a block; any error becomes an error card and the rest of the page still renders.

    Streamlit's own stop and rerun signals are BaseExceptions and pass through.
    """
    try:
        yield
    except Exception as exc:  # a broken index or file must not take the page down
        error_card(what, exc)


def index_choices() -> list[Path]:
    """Index dirs found under the roots, plus folders opened by path on the Indexes page."""
    extra = [Path(p) for p in st.session_state.get("extra_indexes", [])]
    return list(dict.fromkeys([*resources.found().indexes, *extra]))


def index_picker() -> Path | None:
    """The sidebar's index dir choice, kept while switching pages."""
    choices = index_choices()
    if not choices:
        st.sidebar.info("No index dir under the roots. Build one with `rag index` or `rag demo`.")
        return None
    roots = resources.roots()
    remembered = st.session_state.get("chosen_index")
    labels = [roots.label(c) for c in choices]
    linked = st.query_params.get("index")  # a link may name the index: ?index=demo
    # The widget's state is the one record of the choice: an `index=` that changed from run
    # to run made a new widget, which could fall back to the first dir in the list.
    if st.session_state.get(INDEX_KEY) not in choices:
        if remembered and Path(remembered) in choices:
            st.session_state[INDEX_KEY] = Path(remembered)
        elif linked in labels:
            st.session_state[INDEX_KEY] = choices[labels.index(linked)]
        else:
            st.session_state[INDEX_KEY] = choices[0]
    chosen = st.sidebar.selectbox("Index dir", choices, format_func=roots.label, key=INDEX_KEY)
    st.session_state["chosen_index"] = str(chosen)
    return chosen


def passages_of(index_path: Path | None, ids: Sequence[str]) -> dict[str, Passage]:
    """Stored passages by id, when the index dir opens (an empty map when it does not)."""
    if index_path is None or not ids:
        return {}
    try:
        store = resources.open_index(index_path).index_dir.store
    except Exception:  # the caller shows ids alone; the index page names the problem
        return {}
    return {p.id: p for p in store.get_many(list(dict.fromkeys(ids)))}


def show_answer(
    text: str, reader: str, citations: Sequence[Citation], passages: dict[str, Passage]
) -> None:
    """The answer with its reader and numbered citations."""
    st.markdown(f"### {text or '(no answer found)'}")
    if reader:
        st.caption(f"reader: {reader}")
    for n, cite in enumerate(citations, start=1):
        where = cite.title or passage_label(passages.get(cite.passage_id), cite.passage_id)
        st.markdown(f"**[{n}]** {where} `{cite.passage_id}` — “{cite.quote}”")


def show_hits(hits: Sequence[Hit], passages: dict[str, Passage], key: str) -> None:
    """The ranked hits with their typed reasons; pick one to read it whole."""
    if not hits:
        st.info("No hits.")
        return
    st.dataframe(pd.DataFrame(hit_rows(hits, passages)), hide_index=True, width="stretch")
    chosen = st.selectbox(
        "Read a hit",
        range(len(hits)),
        format_func=lambda n: f"#{n + 1} {hits[n].passage_id}",
        key=f"{key}_hit",
    )
    hit = hits[chosen]
    passage = passages.get(hit.passage_id)
    left, right = st.columns(2)
    with left:
        st.markdown(f"**{passage_label(passage, hit.passage_id)}**")
        # As text: a passage's own markdown (headings, links) is data here, not layout.
        st.text(passage.text if passage else "(passage text unavailable)")
    with right:
        st.json(hit.reason.model_dump() if hit.reason else {}, expanded=True)


def show_trace(events: Sequence[TraceEvent], key: str) -> None:
    """The trace as a timeline (nested steps indented), a table, and each step's details."""
    if not events:
        st.info("No trace recorded.")
        return
    rows = pd.DataFrame(trace_rows(events))
    calls = int(sum(e.llm_calls for e in events if e.parent is None))
    st.caption(f"{len(events)} steps, {total_ms(events):.1f} ms, {calls} LLM calls")
    order = list(rows["label"])
    chart = (
        alt.Chart(rows)
        .mark_bar()
        .encode(
            x=alt.X("start_ms:Q", title="ms (steps laid out in run order)"),
            x2="end_ms:Q",
            y=alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=320)),
            color=alt.Color("depth:O", legend=None),
            tooltip=["step", "ms", "llm_calls", "llm_tokens", "llm_cached"],
        )
        # One band per step; a fixed total height squashes the bands in the browser.
        .properties(height=alt.Step(26))
    )
    st.altair_chart(chart, width="stretch")
    table = rows[["label", "ms", "llm_calls", "llm_cached", "llm_tokens"]]
    st.dataframe(table.rename(columns={"label": "step"}), hide_index=True, width="stretch")
    with st.expander("Step inputs and outputs"):
        chosen = st.selectbox(
            "Step",
            range(len(events)),
            format_func=lambda n: f"{events[n].id}: {events[n].step}",
            key=f"{key}_event",
        )
        event = events[chosen]
        outputs = event.outputs.model_dump(mode="json")
        st.json({"inputs": event.inputs, "outputs": outputs}, expanded=2)
