"""Pipelines load from presets and YAML, save back to YAML, and reject bad definitions clearly."""

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
