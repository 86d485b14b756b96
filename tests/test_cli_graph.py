"""The knowledge-graph index through the command line: index --graph, query, inspect --graph."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import networkx as nx
import pytest
from typer.testing import CliRunner

from rag.cli.commands import app
from tests.conftest import SAMPLE

runner = CliRunner()


@pytest.fixture
def graph_index(tmp_path: Path, env: dict[str, str]) -> Path:
    """The sample corpus indexed with --graph and the offline extractor."""
    docs = tmp_path / "docs"
    shutil.copytree(SAMPLE, docs)
    (docs / "python_language.html").unlink()
    out = tmp_path / "idx"
    args = ["index", str(docs), "--out", str(out), "--graph", "--extractor", "offline", "--json"]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert {"graph:extract", "graph:embed", "graph:synonymy"} <= set(report["stage_seconds"])
    return out


def test_graph_counts_and_entity_neighbourhood(graph_index: Path, env: dict[str, str]) -> None:
    result = runner.invoke(app, ["inspect", str(graph_index), "--graph", "--json"], env=env)
    assert result.exit_code == 0, result.output
    counts = json.loads(result.stdout)
    assert counts["entities"] > 10 and counts["facts"] > 5 and counts["passages"] >= 5
    manifest = json.loads((graph_index / "manifest.json").read_text())
    assert "graph" in manifest["indexes"] and manifest["operators"]["openie"] == "offline"
    args = ["inspect", str(graph_index), "--entity", "Warsaw", "--json"]
    shown = runner.invoke(app, args, env=env)
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["facts"]
    missing = runner.invoke(app, ["inspect", str(graph_index), "--entity", "Zork"], env=env)
    assert missing.exit_code == 1 and "no entity 'Zork'" in missing.output


def test_graphml_export_opens_in_networkx(
    graph_index: Path, tmp_path: Path, env: dict[str, str]
) -> None:
    target = tmp_path / "kg.graphml"
    result = runner.invoke(
        app, ["inspect", str(graph_index), "--graph", "--graphml", str(target)], env=env
    )
    assert result.exit_code == 0, result.output
    kinds = {d["kind"] for _, d in nx.read_graphml(target).nodes(data=True)}
    assert kinds == {"entity", "passage"}


@pytest.mark.parametrize("pipeline", ["hipporag", "hipporag2"])
def test_query_graph_presets(graph_index: Path, env: dict[str, str], pipeline: str) -> None:
    question = "In which city was Marie Skłodowska-Curie born?"
    args = ["query", str(graph_index), question, "-p", pipeline, "--json"]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert "Warsaw" in answer["text"]
    assert answer["trace"][0]["step"] == f"retrieve:graph:{pipeline}"
    assert answer["trace"][0]["outputs"]["seeds"]
    assert "pagerank" in answer["hits"][0]["reason"]


def test_update_extracts_only_new_files_and_keeps_the_graph(
    graph_index: Path, tmp_path: Path, env: dict[str, str]
) -> None:
    docs = tmp_path / "docs"
    before = json.loads(
        runner.invoke(app, ["inspect", str(graph_index), "--graph", "--json"], env=env).stdout
    )
    shutil.copy(SAMPLE / "python_language.html", docs)
    # No --graph this time: an update keeps every index kind the dir already has.
    result = runner.invoke(app, ["index", str(docs), "--out", str(graph_index), "--json"], env=env)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["sources_read"] == 1 and report["added"] >= 1
    after = json.loads(
        runner.invoke(app, ["inspect", str(graph_index), "--graph", "--json"], env=env).stdout
    )
    assert after["passages"] == before["passages"] + report["added"]
    assert after["entities"] > before["entities"]


def test_adding_a_graph_to_an_existing_index_covers_every_passage(
    tmp_path: Path, env: dict[str, str]
) -> None:
    out = tmp_path / "idx"
    assert runner.invoke(app, ["index", str(SAMPLE), "--out", str(out)], env=env).exit_code == 0
    args = ["index", str(SAMPLE), "--out", str(out), "--graph", "--extractor", "offline"]
    assert runner.invoke(app, args, env=env).exit_code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    counts = json.loads(
        runner.invoke(app, ["inspect", str(out), "--graph", "--json"], env=env).stdout
    )
    assert counts["passages"] == manifest["counts"]["passages"]


def test_unknown_extractor_is_a_one_line_error(tmp_path: Path, env: dict[str, str]) -> None:
    args = ["index", str(SAMPLE), "--out", str(tmp_path / "i"), "--graph", "--extractor", "gpt"]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 1 and "graph.extractor" in result.output
    assert "unknown openie 'gpt'; known: auto, llm, offline, cache:PATH, pattern" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_missing_openie_file_fails_and_leaves_no_index(tmp_path: Path, env: dict[str, str]) -> None:
    out = tmp_path / "i"
    args = ["index", str(SAMPLE), "--out", str(out), "--graph", "--extractor", "cache:/no/oie.json"]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 1 and "/no/oie.json: OpenIE cache file not found" in result.output
    assert not out.exists()


def test_inspect_graph_of_an_index_without_one(tmp_path: Path, env: dict[str, str]) -> None:
    out = tmp_path / "i"
    assert runner.invoke(app, ["index", str(SAMPLE), "--out", str(out)], env=env).exit_code == 0
    result = runner.invoke(app, ["inspect", str(out), "--graph"], env=env)
    assert result.exit_code == 1 and "has no graph index" in result.output
    query = runner.invoke(app, ["query", str(out), "Who?", "-p", "hipporag2"], env=env)
    assert query.exit_code == 1 and "Traceback" not in query.output
    assert "no 'graph' index (build it with `rag index --kinds graph`)" in query.output


def test_entities_are_listed_and_a_near_miss_is_suggested(
    graph_index: Path, env: dict[str, str]
) -> None:
    counts = runner.invoke(app, ["inspect", str(graph_index), "--graph", "--json"], env=env)
    listed = json.loads(counts.stdout)["most_linked_entities"].split(", ")
    assert len(listed) == 10
    near = listed[0][:-1]  # a typo of a real entity name
    miss = runner.invoke(app, ["inspect", str(graph_index), "--entity", near], env=env)
    assert miss.exit_code == 1 and f"close: {listed[0]}" in miss.output
