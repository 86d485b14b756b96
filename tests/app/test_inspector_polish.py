"""Issue 21 item 11: the inspector asks the index chosen last, with a question that fits it,
and prints counts, ranks, clue and IRCoT panels and graph labels as a reader wants them."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx

from app.pictures import labelled_nodes, network_figure, spring_positions
from app.questions import DEMO_QUESTION
from app.tables import MISSING, table
from pipelines.rag_index import RagIndex
from rag.settings import Settings
from tests.app.conftest import AppRoot
from tests.app.test_pages import ask, errors, start, texts


def _store_ids(path: Path) -> set[str]:
    """Every passage id stored in an index dir."""
    with RagIndex.open(path, Settings(show_progress=False)) as idx:
        return {p.id for p in idx.index_dir.store.iter_passages()}


def _first_title(path: Path) -> str:
    """The title of the first stored passage of an index dir."""
    with RagIndex.open(path, Settings(show_progress=False)) as idx:
        return next(p.title for p in idx.index_dir.store.iter_passages() if p.title)


def test_ask_answers_from_the_index_chosen_last(app_env: AppRoot) -> None:
    """Choosing a second index in the sidebar makes Ask search it, not the first in the list."""
    at = start(app_env.index, "ask")
    assert at.text_input(key="ask_question").value == DEMO_QUESTION
    at.sidebar.selectbox(key="index_dir").set_value(app_env.plain).run()
    # Not the demo's Hubble question, which the tiny corpus cannot answer: one about it.
    first = _first_title(app_env.plain)
    assert at.text_input(key="ask_question").value == f"What is {first}?"
    at.text_input(key="ask_question").input("Where was Marie Curie born?").run()
    ask(at, "dense")
    assert not at.exception and not at.error, errors(at)
    hit_ids = set(at.dataframe[0].value["passage"])
    assert hit_ids and hit_ids <= _store_ids(app_env.plain)
    assert not hit_ids & _store_ids(app_env.index)
    # Back on the demo, the demo's question; on the second index again, the one asked there.
    at.sidebar.selectbox(key="index_dir").set_value(app_env.index).run()
    assert at.text_input(key="ask_question").value == DEMO_QUESTION
    at.sidebar.selectbox(key="index_dir").set_value(app_env.plain).run()
    assert at.text_input(key="ask_question").value == "Where was Marie Curie born?"


def test_compare_starts_from_a_question_that_fits_the_index(app_env: AppRoot) -> None:
    """The demo's Hubble question only on the demo; missing ranks read as a dash."""
    at = start(app_env.index, "compare")
    assert at.text_input(key="cmp_question").value == DEMO_QUESTION
    at.button(key="cmp_run").click().run()
    assert not at.error, errors(at)
    ranks = at.dataframe[0].value
    assert not ranks.isna().any().any()
    assert "None" not in set(ranks["rank A"].astype(str)) | set(ranks["rank B"].astype(str))
    at.sidebar.selectbox(key="index_dir").set_value(app_env.plain).run()
    assert at.text_input(key="cmp_question").value == f"What is {_first_title(app_env.plain)}?"


def test_tree_page_prints_counts_as_text_and_names_summaries(app_env: AppRoot) -> None:
    """No printed dicts; sunburst summaries labelled by their words, not ids like s229."""
    at = start(app_env.index, "tree")
    assert not at.error, errors(at)
    shown = texts(at)
    assert "nodes per level: passages 7 · level 1" in shown
    assert "{" not in shown and "'0'" not in shown
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    sunburst = figure["data"][0]
    summaries = [
        label
        for node, label in zip(sunburst["ids"], sunburst["labels"], strict=True)
        if node not in _store_ids(app_env.index)
    ]
    assert summaries and all(label not in sunburst["ids"] for label in summaries)


def test_clue_heading_and_ircot_rounds_read_plainly(app_env: AppRoot) -> None:
    """'Clues' with the memory on its own line; IRCoT's new: lists name passages by title."""
    at = start(app_env.index, "ask")
    ask(at, "memorag-dense", DEMO_QUESTION, view="Why")
    assert not at.error, errors(at)
    assert "#### Clues" in [m.value for m in at.markdown]
    assert "Clues (" not in texts(at) and "memory: none (offline)" in texts(at)
    ask(at, "ircot-dense", view="Why")
    assert not at.error, errors(at)
    rounds = [str(c.value) for c in at.caption if str(c.value).startswith("new:")]
    assert rounds
    ids = _store_ids(app_env.index)
    assert not any(pid in line for line in rounds for pid in ids)


def test_graph_labels_are_written_for_the_heaviest_nodes_apart() -> None:
    """A 60-node neighbourhood writes at most 16 labels, none on top of another."""
    view = nx.star_graph(59)
    for node in view.nodes:
        view.nodes[node].update(kind="entity", label=f"entity number {node}", mass=1.0 / (1 + node))
    pos = spring_positions(view)
    chosen = labelled_nodes(view, pos, 16)
    assert 0 in chosen and len(chosen) <= 16
    written = [t for t in network_figure(view, pos, "t").data[1].text if t]
    assert len(written) == len(chosen)


def test_missing_values_in_tables_are_dashes() -> None:
    frame = table([{"rank A": 1, "rank B": None}, {"rank A": None, "rank B": 2.0}])
    assert frame.to_dict("records") == [
        {"rank A": 1, "rank B": MISSING},
        {"rank A": MISSING, "rank B": 2.0},
    ]


def test_the_question_asked_comes_back_after_visiting_another_page(app_env: AppRoot) -> None:
    """Streamlit forgets a left page's widgets; the form offers the last question again."""
    at = start(app_env.index, "ask")
    at.text_input(key="ask_question").input("Who designed the Eiffel Tower?").run()
    ask(at, "dense")
    at.switch_page("views/graph.py").run()
    at.switch_page("views/ask.py").run()
    assert at.text_input(key="ask_question").value == "Who designed the Eiffel Tower?"
    assert not at.button(key="ask_run").disabled
