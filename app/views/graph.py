"""Graph: the knowledge graph's size, and one entity's neighbourhood as a picture."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import cast

import pandas as pd
import streamlit as st

from app import resources
from app.explain import passage_label
from app.pictures import neighbourhood_view, network_figure, spring_positions
from app.widgets import guard, passages_of
from graphs.views import entity_node, neighbourhood


def matches(labels: list[str], typed: str, limit: int = 30) -> list[str]:
    """Entity labels containing the typed words, then close spellings."""
    words = typed.lower().split()
    found = [lbl for lbl in labels if all(w in lbl.lower() for w in words)]
    close = difflib.get_close_matches(typed, labels, n=10, cutoff=0.5)
    return list(dict.fromkeys([*found[:limit], *close]))


def explorer(index_path: Path) -> None:
    """Counts, the most linked entities, and the neighbourhood of an entity found by search."""
    kg = resources.knowledge_graph(str(index_path))
    cols = st.columns(4)
    cols[0].metric("entities", kg.n_entities)
    cols[1].metric("facts", len(kg.facts))
    cols[2].metric("passages", kg.n_passages)
    cols[3].metric("synonymy edges", len(kg.synonyms))
    ranked = sorted(range(kg.n_entities), key=lambda e: (-len(kg.entity_passages[e]), e))
    popular = [kg.entity_labels[e] for e in ranked[:10]]
    st.caption("most linked: " + ", ".join(popular))
    typed = st.text_input("Search an entity", popular[0] if popular else "", key="graph_entity")
    if not typed:
        return
    options = matches(kg.entity_labels, typed)
    if not options:
        st.warning(f"No entity like {typed!r} in this graph.")
        return
    entity = st.selectbox("Entity", options, key="graph_pick")
    info = neighbourhood(kg, entity)
    row = kg.entity_row(entity)
    passage_ids = cast(list[str], info["passages"])
    passages = passages_of(index_path, passage_ids)
    titles = {pid: passage_label(p, pid) for pid, p in passages.items()}
    view = neighbourhood_view(resources.graph_view(str(index_path)), entity_node(row), titles)
    st.plotly_chart(
        network_figure(view, spring_positions(view), f"{info['entity']}: neighbours"),
        width="stretch",
    )
    facts, side = st.columns([3, 2])
    with facts:
        st.markdown("**Facts**")
        st.dataframe(pd.DataFrame(info["facts"]), hide_index=True, width="stretch")
    with side:
        st.markdown("**Synonyms**")
        st.dataframe(
            pd.DataFrame(info["synonyms"], columns=["entity", "similarity"]), hide_index=True
        )
        st.markdown("**Passages**")
        for pid in passage_ids:
            st.markdown(f"- {titles.get(pid, pid)} `{pid}`")


st.title("Graph")
chosen = st.session_state.get("chosen_index")
if not chosen:
    st.info("Pick an index dir in the sidebar.")
else:
    with guard(f"Reading the knowledge graph of {chosen}"):
        manifest = resources.manifest(chosen)
        if "graph" not in manifest.indexes:
            st.info(
                "There is no knowledge graph in this index (build one with `rag index --graph`)."
            )
        else:
            explorer(Path(chosen))
