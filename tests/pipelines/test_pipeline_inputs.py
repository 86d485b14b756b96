"""Pipeline files that cannot be read as intended fail at load time, naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.pipeline import Pipeline
from pipelines.steps.fuse import FuseStep
from rag.errors import ConfigError

FUSE = (
    "steps:\n  - {type: retrieve}\n  - {type: retrieve, index: bm25}\n"
    "  - {type: fuse, inputs: [dense, bm25], weights: %s}\n"
)


def _nested_groups(depth: int) -> str:
    """A pipeline whose one step is `depth` groups inside each other around a retrieve."""
    step = "{type: retrieve}"
    for n in range(depth):
        step = f"{{type: group, name: g{n}, steps: [{step}]}}"
    return f"steps:\n  - {step}\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"name: caf\xe9\nsteps: [{type: retrieve}]\n", "not UTF-8 text \\(byte 9"),
        (b"\xff\xfe" + "steps: []\n".encode("utf-16-le"), "not UTF-8 text"),
        (b"steps: &s [*s]\n", "step 1: a step must be a mapping"),
        (b"steps:\n  - &x {type: group, name: g, steps: [*x]}\n", "refers to itself"),
        (b"steps:\n  - " + b"[" * 400 + b"]" * 400 + b"\n", "bad.yaml: "),
        (b"steps:\n  - " + b"{a: " * 400 + b"1" + b"}" * 400 + b"\n", "bad.yaml: "),
        (_nested_groups(400).encode(), "nested too deeply"),
        ((FUSE % "{dense: -1, bm25: 1}").encode(), "not negative \\(got dense: -1.0\\)"),
        ((FUSE % "{dense: 1, nope: 2}").encode(), "weights name nope, which are not among"),
        ((FUSE % "{dense: .nan}").encode(), "must be finite"),
    ],
)
def test_unreadable_pipelines_are_config_errors(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=message) as caught:
        Pipeline.load(path)
    assert str(caught.value).startswith(f"{path}: ") and "\n" not in str(caught.value)


def test_a_folder_named_like_a_pipeline_file(tmp_path: Path) -> None:
    folder = tmp_path / "p.yaml"
    folder.mkdir()
    with pytest.raises(ConfigError, match="cannot read pipeline file"):
        Pipeline.load(folder)


def test_moderately_nested_groups_and_valid_weights_load(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(_nested_groups(20))
    assert len(Pipeline.load(path).steps) == 1
    fuse = FuseStep(inputs=["dense", "bm25"], weights={"dense": 0.0, "bm25": 2.0})
    assert fuse.weights == {"dense": 0.0, "bm25": 2.0}
