"""Pipelines load from presets and YAML, save back to YAML, and reject bad definitions clearly."""

import os
from pathlib import Path

import pytest

from pipelines.pipeline import Pipeline, preset_names
from rag.errors import ConfigError


def test_presets_exist_and_load() -> None:
    assert {"dense", "bm25", "hybrid"} <= set(preset_names())
    hybrid = Pipeline.load("hybrid")
    assert [s.type_name for s in hybrid.steps] == ["retrieve", "retrieve", "fuse", "generate"]


def test_yaml_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    Pipeline.load("hybrid").save(path)
    again = Pipeline.load(path)
    assert again.to_config() == Pipeline.load("hybrid").to_config()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("steps:\n  - type: teleport\n", "unknown step type 'teleport'"),
        ("steps:\n  - type: retrieve\n    k: 0\n", "invalid pipeline"),
        ("steps:\n  - type: retrieve\n    colour: red\n", "invalid pipeline"),
        ("name: x\n", "invalid pipeline"),
        ("[1, 2]\n", "must be a mapping"),
        ("steps: [\n", "not valid YAML"),
    ],
)
def test_bad_pipeline_files_are_reported_with_their_path(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message) as err:
        Pipeline.load(path)
    assert "bad.yaml" in str(err.value)


def test_unknown_preset_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="dense"):
        Pipeline.load("telepathy")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "steps:\n  - {type: retrieve, index: dense}\n  - {type: fuse, inputs: [dense, bm25]}\n",
            "step 2 \\(fuse\\) reads bm25, which no earlier step produces",
        ),
        (
            "steps:\n  - {type: generate, source: dense}\n  - {type: retrieve}\n",
            "step 1 \\(generate\\) reads dense",
        ),
        ("steps:\n  - {type: retrieve, query: hunch}\n", "searches with hunch"),
        ("steps:\n  - {type: retrieve, index: annoy}\n", "unknown index kind 'annoy'"),
        (
            "steps:\n  - {type: retrieve, index: graph, search: {fact_top_k: 0}}\n",
            "graph search: fact_top_k",
        ),
        ("steps:\n  - {type: retrieve, search: {method: hipporag}}\n", "dense search: method"),
    ],
)
def test_references_and_search_options_are_checked_at_load(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message) as err:
        Pipeline.load(path)
    assert "\n" not in str(err.value)


def test_graph_retrieve_of_earlier_releases_still_loads() -> None:
    old = {"steps": [{"type": "graph_retrieve", "search": {"method": "hipporag"}}]}
    step = Pipeline.from_config(old).steps[0]
    assert step.to_config() == {
        "type": "retrieve",
        "index": "graph",
        "search": {"method": "hipporag"},
    }


def test_a_yaml_pipeline_is_parsed_once_until_it_changes(tmp_path: Path) -> None:
    from pipelines.resolve import resolve_pipeline

    path = tmp_path / "p.yaml"
    Pipeline.load("dense").save(path)
    first = resolve_pipeline(path)
    assert resolve_pipeline(str(path)) is first
    assert resolve_pipeline("dense") is resolve_pipeline("dense")
    mtime = path.stat().st_mtime_ns
    path.write_text(path.read_text().replace("name: dense", "name: edited"))
    os.utime(path, ns=(mtime + 10**9, mtime + 10**9))
    assert resolve_pipeline(path).name == "edited"
