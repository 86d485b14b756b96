"""The tree index through the command line: index --tree-builder, query a preset, inspect --tree."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from rag.cli.commands import app
from tests.conftest import SAMPLE

runner = CliRunner()


def _index(out: Path, env: dict[str, str], builder: str) -> dict:
    args = ["index", str(SAMPLE), "--out", str(out), "--kinds", "dense,bm25,tree"]
    result = runner.invoke(app, [*args, "--tree-builder", builder, "--json"], env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_index_query_inspect_and_switch_builders(tmp_path: Path, env: dict[str, str]) -> None:
    out = tmp_path / "idx"
    report = _index(out, env, "memwalker")
    assert {"tree:shape", "tree:summarize", "tree:embed"} <= set(report["stage_seconds"])

    query = ["query", str(out), "Who designed the Eiffel Tower?", "--pipeline", "memwalker"]
    result = runner.invoke(app, [*query, "--json"], env=env)
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["hits"][0]["reason"]["type"] == "tree"

    export = tmp_path / "tree.json"
    args = ["inspect", str(out), "--tree", "--tree-json", str(export), "--json"]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    outline = json.loads(result.stdout)
    assert outline["builder"] == "memwalker" and outline["roots"] == 1
    assert outline["summarizers"] == {"extractive": outline["nodes"] - outline["passages"]}
    nodes = json.loads(export.read_text())["nodes"]
    assert len(nodes) == outline["nodes"] and "vector" not in nodes[0]

    wrong = runner.invoke(app, [*query[:3], "--pipeline", "memtree"], env=env)
    assert wrong.exit_code == 1 and "--tree-builder memtree" in wrong.output
    _index(out, env, "memtree")  # a different builder rebuilds the tree
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["operators"]["tree_builder"] == "memtree"
    result = runner.invoke(app, [*query[:3], "--pipeline", "memtree", "--json"], env=env)
    assert result.exit_code == 0, result.output
