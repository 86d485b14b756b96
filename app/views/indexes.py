"""Indexes: every index dir under the roots; one dir's manifest, counts, timings and passages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from app import resources
from app.explain import passage_label
from app.widgets import error_card, guard, index_choices

#: The overview's columns, in order (a dir whose manifest fails to read has only the status).
OVERVIEW = ["index dir", "kinds", "passages", "embedder", "built", "status"]
#: Passages listed at most by the browser.
BROWSER_ROWS = 200


def overview_rows(paths: list[Path]) -> list[dict[str, Any]]:
    """One row per index dir from its manifest alone (no index is opened); errors in a column."""
    rows = []
    for path in paths:
        row: dict[str, Any] = {"index dir": resources.roots().label(path)}
        try:
            m = resources.manifest(path)
            row.update(
                kinds=", ".join(m.indexes),
                passages=m.counts.get("passages"),
                embedder=m.embedder.name,
                built=m.build.get("finished", ""),
                status="ok",
            )
        except Exception as exc:  # shown in the table; the card below says more
            row["status"] = f"error: {exc}"
        rows.append(row)
    return rows


def open_by_path() -> None:
    """A folder typed by the user, checked against the roots, joins the sidebar's choices."""
    typed = st.text_input("Open an index dir by path (under the roots)", key="open_path")
    if not typed:
        return
    try:
        folder = resources.checked_dir(typed)
    except Exception as exc:
        error_card("Opening a path", exc)
        return
    extra = st.session_state.setdefault("extra_indexes", [])
    if str(folder) not in extra:
        extra.append(str(folder))
    st.success(f"{folder} added to the index choices in the sidebar.")


def details(path: Path) -> None:
    """Manifest, counts, settings and build timings of one index dir."""
    manifest = resources.manifest(path)
    idx = resources.open_index(path)
    cols = st.columns(4)
    cols[0].metric("passages", len(idx.index_dir.store))
    cols[1].metric("kinds", len(manifest.indexes))
    cols[2].metric("sources", manifest.counts.get("sources", len(manifest.sources)))
    cols[3].metric("build seconds", manifest.build.get("seconds", "–"))
    st.markdown(
        f"**kinds** {', '.join(manifest.indexes)} · **embedder** {manifest.embedder.name}"
        f" ({manifest.embedder.dim}-d, {manifest.embedder.variant or 'default'})"
    )
    left, right = st.columns(2)
    with left:
        st.markdown("**Counts**")
        st.dataframe(
            pd.DataFrame(manifest.counts.items(), columns=["count", "value"]), hide_index=True
        )
        st.markdown("**Operators and chunking**")
        st.json(
            {"operators": manifest.operators, "chunking": manifest.chunking, "llm": manifest.llm},
            expanded=False,
        )
    with right:
        stages = manifest.build.get("stage_seconds", {})
        if stages:
            data = pd.DataFrame(stages.items(), columns=["stage", "seconds"])
            chart = (
                alt.Chart(data)
                .mark_bar()
                .encode(x="seconds:Q", y=alt.Y("stage:N", sort=None), tooltip=["stage", "seconds"])
            )
            st.markdown(f"**Build timings** (finished {manifest.build.get('finished', '?')})")
            st.altair_chart(chart, width="stretch")
    with st.expander("Settings the index was built with"):
        settings_file = resources.roots().check(resources.readable_dir(path) / "settings.json")
        if settings_file.is_file():
            st.json(json.loads(settings_file.read_text(encoding="utf-8")), expanded=False)
        else:
            st.caption("no settings.json in this dir")
    with st.expander("Manifest"):
        st.json(manifest.model_dump(), expanded=False)


def passage_browser(path: Path) -> None:
    """Search the stored passages by words in title, text or id."""
    st.subheader("Passages")
    store = resources.open_index(path).index_dir.store
    query = st.text_input("Search passages", key="passage_search", placeholder="word or id")
    words = query.lower().split()
    rows = []
    for p in store.iter_passages():
        hay = f"{p.id} {p.title or ''} {p.text}".lower()
        if all(w in hay for w in words):
            rows.append({"id": p.id, "title": p.title, "source": p.source, "text": p.text[:400]})
            if len(rows) >= BROWSER_ROWS:
                break
    st.caption(
        f"{len(rows)} shown" + (f" (first {BROWSER_ROWS})" if len(rows) >= BROWSER_ROWS else "")
    )
    if not rows:
        return
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    chosen = st.selectbox("Read a passage", [r["id"] for r in rows], key="passage_pick")
    passage = store.get(chosen) if chosen else None
    if passage:
        st.markdown(f"**{passage_label(passage, passage.id)}** `{passage.id}`")
        st.text(passage.text)  # as text: the passage's own markdown is data here
        st.caption("sources: " + ", ".join(store.sources_of(passage.id)))


st.title("Indexes")
choices = index_choices()
if choices:
    overview = pd.DataFrame(overview_rows(choices), columns=OVERVIEW)
    st.dataframe(overview, hide_index=True, width="stretch")
open_by_path()
chosen = st.session_state.get("chosen_index")
if chosen:
    st.header(resources.roots().label(Path(chosen)))
    with guard(f"Opening index dir {chosen}"):
        details(Path(chosen))
        passage_browser(Path(chosen))
