"""Every page of the app in Streamlit's AppTest, on a real index built with the real embedder."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import app.resources as resources
from tests.app.conftest import AppRoot

MAIN = Path(__file__).resolve().parents[2] / "app" / "main.py"
#: Seconds a script run may take: the first one that embeds loads the model.
TIMEOUT = 120


def start(index: Path | None = None, page: str | None = None) -> AppTest:
    """The app, run once, on `index` (sidebar choice) and `page`."""
    at = AppTest.from_file(str(MAIN), default_timeout=TIMEOUT).run()
    if index is not None:
        at.sidebar.selectbox(key="index_dir").set_value(index).run()
    if page is not None:
        at.switch_page(f"views/{page}.py").run()
    return at


def errors(at: AppTest) -> str:
    """Every error card's text."""
    return "\n".join(str(e.value) for e in at.error)


def texts(at: AppTest) -> str:
    """Markdown, captions and info boxes, as one text."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [i.value for i in at.info] + [s.value for s in at.success]
    return "\n".join(str(p) for p in parts)


def ask(
    at: AppTest, pipeline: str, question: str | None = None, view: str | None = None
) -> AppTest:
    """Choose a preset, press Ask, and show the result's Hits (default), Why or Trace view."""
    at.selectbox(key="ask_preset").set_value(pipeline).run()
    if question:
        at.text_input(key="ask_question").input(question)
    at.button(key="ask_run").click().run()
    return at.radio(key="ask_view").set_value(view).run() if view else at


def test_indexes_page_lists_dirs_with_error_cards(app_env: AppRoot) -> None:
    at = start(app_env.index)
    assert not at.exception
    overview = at.dataframe[0].value
    status = dict(zip(overview["index dir"], overview["status"], strict=True))
    assert status["root/demo"] == "ok" and status["root/broken"].startswith("error:")
    assert "no manifest.json" in status["root/half"]
    assert "root/escape" not in status  # a symlink out of the root is not listed
    assert next(m.value for m in at.metric) == "7"
    at.text_input(key="passage_search").input("Warsaw").run()
    found = at.dataframe[-1].value
    assert list(found["title"]) == [None] or all("Warsaw" in t for t in found["text"])
    at.sidebar.selectbox(key="index_dir").set_value(app_env.broken).run()
    assert not at.exception
    assert "corrupt manifest" in errors(at)


def test_paths_outside_the_roots_are_refused(app_env: AppRoot) -> None:
    at = start()
    for typed in ("../outside", str(app_env.outside), "escape", "demo/../../outside"):
        at.text_input(key="open_path").input(typed).run()
        assert "outside the app's roots" in errors(at), typed
    at.text_input(key="open_path").input(str(app_env.plain)).run()
    assert "Opening a path" not in errors(at) and "added to the index choices" in texts(at)


def test_ask_shows_answer_hits_and_why(app_env: AppRoot) -> None:
    at = start(app_env.index, "ask")
    ask(at, "dense", "Where was Marie Curie born?")
    assert not at.exception and not at.error
    assert "Warsaw" in texts(at)
    hits = at.dataframe[0].value
    assert len(hits) == 5 and hits["why"].str.startswith("cosine").all()
    at.radio(key="ask_view").set_value("Why").run()
    assert "No graph, tree, clue or iteration steps" in texts(at)
    at.radio(key="ask_view").set_value("Trace").run()
    steps = at.dataframe[0].value
    assert list(steps["step"]) == ["retrieve:dense", "generate"] and at.get("vega_lite_chart")

    ask(at, "hipporag2", view="Why")
    assert not at.error and "PageRank subgraph" in texts(at)
    assert at.get("plotly_chart")
    ask(at, "raptor-traverse", view="Why")
    assert not at.error and "Tree paths" in texts(at) and "(level 1)" in texts(at)
    ask(at, "memorag-dense", view="Why")
    assert not at.error and "Which text found each hit" in texts(at)
    ask(at, "ircot-dense", view="Why")
    assert not at.error and "Iterations:" in texts(at) and "thought 1" in texts(at)


def test_ask_with_edited_yaml_and_bad_yaml(app_env: AppRoot) -> None:
    at = start(app_env.index, "ask")
    at.selectbox(key="ask_preset").set_value("dense").run()
    at.selectbox(key="ask_preset").set_value("root/pipelines/top2.yaml").run()
    at.button(key="ask_run").click().run()
    assert not at.error, errors(at)
    assert len(at.dataframe[0].value) == 2 and "top2 on" in texts(at)
    at.selectbox(key="ask_preset").set_value("dense").run()
    assert "type: retrieve" in str(at.text_area(key="ask_yaml_dense").value)
    edited = "name: two\nsteps:\n  - {type: retrieve, index: dense, k: 2}\n  - {type: generate}\n"
    at.text_area(key="ask_yaml_dense").input(edited).run()
    at.button(key="ask_run").click().run()
    assert not at.error, errors(at)
    assert len(at.dataframe[0].value) == 2 and "two on" in texts(at)
    at.text_area(key="ask_yaml_dense").input("steps: [").run()
    assert "not valid YAML" in errors(at) and not at.exception
    assert at.button(key="ask_run").disabled
    at.text_area(key="ask_yaml_dense").input("steps:\n  - {type: retrieve, index: nowhere}").run()
    assert "nowhere" in errors(at) and at.button(key="ask_run").disabled


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under a folder with its size and modification time."""
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_pages_and_questions_reuse_the_index_and_model_and_write_nothing(
    app_env: AppRoot, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(app_env.root)
    st.cache_resource.clear()
    calls = {"model": 0, "open": 0}
    make, open_dir = resources.make_embedder, resources.RagIndex.open

    def counted_make(*args: object, **kwargs: object) -> object:
        calls["model"] += 1
        return make(*args, **kwargs)  # type: ignore[arg-type]

    def counted_open(*args: object, **kwargs: object) -> object:
        calls["open"] += 1
        return open_dir(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(resources, "make_embedder", counted_make)
    monkeypatch.setattr(resources.RagIndex, "open", counted_open)
    at = start(app_env.index, "ask")
    ask(at, "dense", "Who designed the Eiffel Tower?")
    at.switch_page("views/compare.py").run()
    at.button(key="cmp_run").click().run()
    at.switch_page("views/graph.py").run()
    at.switch_page("views/ask.py").run()
    ask(at, "hybrid", "When was Python first released?")
    assert not at.exception and not at.error
    assert calls == {"model": 1, "open": 1}
    assert snapshot(app_env.root) == before


def test_ask_on_a_damaged_index_shows_an_error_card(app_env: AppRoot) -> None:
    at = start(app_env.damaged, "ask")
    ask(at, "dense")
    assert not at.exception
    assert "rag index --rebuild" in errors(at)


def test_ask_opens_a_saved_trace(app_env: AppRoot) -> None:
    at = start(app_env.index, "ask")
    at.radio(key="ask_mode").set_value("Open a saved trace").run()
    at.selectbox(key="trace_file").set_value(app_env.root / "traces.jsonl").run()
    assert not at.exception and not at.error
    assert "hybrid · When was the Hubble Space Telescope launched?" in texts(at)
    assert "RRF" in at.dataframe[0].value["why"].iloc[0]


def test_compare_two_pipelines(app_env: AppRoot) -> None:
    at = start(app_env.index, "compare")
    at.selectbox(key="cmp_b_preset").set_value("bm25").run()
    at.button(key="cmp_run").click().run()
    assert not at.exception and not at.error
    labels = [m.label for m in at.metric]
    assert "shared hits" in labels and "only B (bm25)" in labels
    table = at.dataframe[0].value
    assert {"rank A", "rank B", "moved up in B", "in"} <= set(table.columns)
    assert set(table["in"]) <= {"both", "only A", "only B"}


def test_evaluation_summary_drill_down_and_rerun(app_env: AppRoot) -> None:
    at = start(None, "evaluation")
    assert not at.exception and not at.error
    summary = at.dataframe[0].value
    assert list(summary["pipeline"]) == ["dense", "bm25"]
    at.selectbox(key="eval_question").set_value("q2").run()
    gold = at.dataframe[2].value
    assert list(gold["title"]) == ["Python"]
    at.selectbox(key="eval_metric").set_value("recall@1").run()
    at.checkbox(key="eval_disagree").check().run()
    assert not at.exception
    at.checkbox(key="eval_disagree").uncheck().run()
    at.button(key="eval_rerun").click().run()
    assert not at.error, errors(at)
    assert "gold in hits: 1 of 1" in texts(at)


def test_graph_explorer(app_env: AppRoot) -> None:
    at = start(app_env.index, "graph")
    assert not at.exception and not at.error
    at.text_input(key="graph_entity").input("Warsaw").run()
    assert at.get("plotly_chart")
    facts = at.dataframe[0].value
    assert any("Warsaw" in f for f in facts["fact"])
    at.text_input(key="graph_entity").input("Zork Qux").run()
    assert "No entity like" in "\n".join(str(w.value) for w in at.warning)
    at.sidebar.selectbox(key="index_dir").set_value(app_env.plain).run()
    assert "There is no knowledge graph in this index" in texts(at)


def test_tree_explorer(app_env: AppRoot) -> None:
    at = start(app_env.index, "tree")
    assert not at.exception and not at.error
    assert next(m.value for m in at.metric) == "raptor"
    assert any("level 1" in e.label for e in at.expander)
    at.sidebar.selectbox(key="index_dir").set_value(app_env.plain).run()
    assert "There is no tree in this index" in texts(at)
