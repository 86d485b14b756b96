"""`--engine ray` from the command line and in `rag eval`: the same records as in-process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import eval as rag_eval
from rag.manifest import read_manifest
from rag.settings import Settings
from tests.conftest import SAMPLE, write_tiny_dataset
from tests.ray_local import local_ray

pytest.importorskip("ray", reason="--engine ray needs memrag[ray] (pip install ray[data])")


@pytest.fixture(scope="module")
def ray_runtime() -> Iterator[None]:
    """One local Ray runtime of 2 CPUs for the module."""
    with local_ray():
        yield


def _records(out: Path, pipeline: str) -> list[dict[str, object]]:
    """A pipeline's records in question order, without the timing that differs run to run."""
    lines = (out / "records" / f"{pipeline}.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    return sorted((_untimed(r) for r in records), key=lambda r: str(r["question_id"]))


def _untimed(value: Any) -> Any:
    """A record without its timings (milliseconds and seconds, at any depth)."""
    if isinstance(value, dict):
        timed = ("ms", "seconds", "latency_ms")
        return {k: _untimed(v) for k, v in value.items() if k not in timed}
    if isinstance(value, list):
        return [_untimed(v) for v in value]
    return value


def test_eval_on_ray_actors_gives_the_in_process_records(
    ray_runtime: None, tmp_path: Path, settings: Settings
) -> None:
    dataset = write_tiny_dataset(tmp_path / "tiny")
    pipelines = ["dense", "bm25", "hybrid"]
    local = rag_eval.run(dataset, pipelines, out=tmp_path / "local", settings=settings)
    on_ray = settings.model_copy(
        update={"engine": settings.engine.model_copy(update={"name": "ray"})}
    )
    remote = rag_eval.run(dataset, pipelines, out=tmp_path / "ray", settings=on_ray)
    for pipeline in pipelines:
        assert _records(tmp_path / "local", pipeline) == _records(tmp_path / "ray", pipeline)
        ours, theirs = local.row(pipeline), remote.row(pipeline)
        assert {k: v for k, v in ours.items() if "latency" not in k and "per_s" not in k} == {
            k: v for k, v in theirs.items() if "latency" not in k and "per_s" not in k
        }


def test_rag_index_engine_ray(ray_runtime: None, tmp_path: Path, session_cache: Path) -> None:
    from typer.testing import CliRunner

    from rag.cli.commands import app

    env = {"RAG_CACHE_DIR": str(session_cache), "RAG_SHOW_PROGRESS": "false"}
    args = ["index", "--out", str(tmp_path / "idx"), str(SAMPLE), "--engine", "ray", "--json"]
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["passages"] > 6
    assert read_manifest(tmp_path / "idx").build["engine"] == "ray"
