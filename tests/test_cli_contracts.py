"""The CLI on the contracts: bad pipelines as one-line errors, saved traces, --kinds, one writer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from indexers.lock import writer_lock
from pipelines.trace_log import read_traces
from rag.cli.commands import app
from tests.conftest import SAMPLE

runner = CliRunner()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, session_cache: Path) -> Path:
    """The sample corpus indexed once for this module (dense and BM25)."""
    out = tmp_path_factory.mktemp("cli") / "idx"
    env = {"RAG_CACHE_DIR": str(session_cache), "RAG_SHOW_PROGRESS": "false"}
    result = runner.invoke(app, ["index", str(SAMPLE), "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.parametrize(
    ("pipeline", "message"),
    [
        (
            "steps:\n  - {type: retrieve}\n  - {type: fuse, inputs: [dense, bm25]}\n",
            "reads bm25, which no earlier step produces",
        ),
        (
            "steps:\n  - {type: retrieve}\n  - {type: generate, reader: llm}\n",
            "reader 'llm' needs an LLM",
        ),
    ],
)
def test_a_bad_pipeline_is_a_one_line_error(
    built: Path, tmp_path: Path, env: dict[str, str], pipeline: str, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(pipeline)
    result = runner.invoke(app, ["query", str(built), "Who?", "-p", str(path)], env=env)
    assert result.exit_code == 1, result.output
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_trace_out_appends_one_record_per_query(
    built: Path, tmp_path: Path, env: dict[str, str]
) -> None:
    trace = tmp_path / "t" / "trace.jsonl"
    for question in ["Who created Python?", "Where is the Great Barrier Reef?"]:
        args = ["query", str(built), question, "-p", "hybrid", "--trace-out", str(trace)]
        assert runner.invoke(app, args, env=env).exit_code == 0
    records = list(read_traces(trace))
    assert [r.question for r in records] == [
        "Who created Python?",
        "Where is the Great Barrier Reef?",
    ]
    first = records[0]
    assert first.pipeline == "hybrid" and first.answer and first.citations
    assert [e.step for e in first.events] == ["retrieve:dense", "retrieve:bm25", "fuse", "generate"]
    assert first.hits[0].reason is not None and first.hits[0].reason.type == "fusion"
    assert json.loads(trace.read_text().splitlines()[0])["format"] == "memrag.trace/1"


def test_no_answer_and_printed_trace(built: Path, env: dict[str, str]) -> None:
    args = ["query", str(built), "Who created Python?", "--no-answer", "--trace"]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    assert "retrieve:dense" in result.output and "generate" not in result.output


def test_kinds_selects_the_indexes_built(tmp_path: Path, env: dict[str, str]) -> None:
    out = tmp_path / "i"
    args = ["index", str(SAMPLE / "telescopes.json"), "--out", str(out), "--kinds", "bm25"]
    assert runner.invoke(app, args, env=env).exit_code == 0
    assert json.loads((out / "manifest.json").read_text())["indexes"] == ["bm25"]
    dense = runner.invoke(app, ["query", str(out), "Hubble?", "-p", "dense"], env=env)
    assert dense.exit_code == 1 and "rag index --kinds dense" in dense.output
    bad = runner.invoke(app, [*args[:4], "--kinds", "bm25,annoy"], env=env)
    assert bad.exit_code == 1 and "unknown index kind 'annoy'" in bad.output


def test_a_second_writer_fails_at_once_with_a_clear_message(
    built: Path, tmp_path: Path, env: dict[str, str]
) -> None:
    manifest = (built / "manifest.json").read_text()
    with writer_lock(built):
        result = runner.invoke(app, ["index", str(SAMPLE), "--out", str(built)], env=env)
        # A reader is not blocked by a build in progress.
        query = runner.invoke(app, ["query", str(built), "Who created Python?"], env=env)
    assert result.exit_code == 1 and "another build is writing this index" in result.output
    assert query.exit_code == 0, query.output
    assert (built / "manifest.json").read_text() == manifest


def test_two_index_processes_on_one_dir_both_finish(tmp_path: Path, env: dict[str, str]) -> None:
    """Two real `rag index` processes started together: the second waits, then updates."""
    out = tmp_path / "idx"
    docs_a, docs_b = tmp_path / "a", tmp_path / "b"
    docs_a.mkdir()
    docs_b.mkdir()
    (docs_a / "a.txt").write_text("Alpha is the first letter of the Greek alphabet.")
    (docs_b / "b.txt").write_text("Beta is the second letter of the Greek alphabet.")
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "rag.cli", "index", str(d), "--out", str(out), "--wait", "120"],
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for d in (docs_a, docs_b)
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    for proc, (_, stderr) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, stderr
        assert "Traceback" not in stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["passages"] >= 1
    assert not (tmp_path / ".idx.staging").exists()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("dense/index.faiss", "dense/index.faiss: is missing"),
        ("graph/csr_indptr.npy", "graph/csr_indptr.npy: is missing"),
    ],
)
def test_a_damaged_kind_is_an_error_that_says_how_to_rebuild(
    tmp_path: Path, env: dict[str, str], damage: str, message: str
) -> None:
    out = tmp_path / "idx"
    args = ["index", str(SAMPLE), "--out", str(out), "--kinds", "dense,bm25,graph"]
    assert runner.invoke(app, [*args, "--extractor", "offline"], env=env).exit_code == 0
    (out / damage).unlink()
    kind = damage.split("/")[0]
    pipeline = "dense" if kind == "dense" else "hipporag2"
    broken = runner.invoke(app, ["query", str(out), "Who created Python?", "-p", pipeline], env=env)
    assert broken.exit_code == 1 and message in broken.output
    assert "rag index --rebuild --out" in broken.output and "Traceback" not in broken.output
    # Only the pipelines that need the damaged kind fail: kinds load lazily.
    bm25 = runner.invoke(app, ["query", str(out), "Who created Python?", "-p", "bm25"], env=env)
    assert bm25.exit_code == 0, bm25.output
    update = runner.invoke(app, ["index", str(SAMPLE), "--out", str(out)], env=env)
    assert update.exit_code == 1 and "--rebuild" in update.output
    rebuilt = runner.invoke(app, ["index", "--rebuild", "--out", str(out), "--json"], env=env)
    assert rebuilt.exit_code == 0, rebuilt.output
    assert json.loads((out / "manifest.json").read_text())["indexes"] == ["dense", "bm25", "graph"]
    fixed = runner.invoke(app, ["query", str(out), "Who created Python?", "-p", pipeline], env=env)
    assert fixed.exit_code == 0, fixed.output


def test_a_store_that_disagrees_with_the_manifest_is_reported(
    built: Path, tmp_path: Path, env: dict[str, str]
) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(built, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["counts"]["passages"] += 1
    (copy / "manifest.json").write_text(json.dumps(manifest))
    result = runner.invoke(app, ["query", str(copy), "Who created Python?"], env=env)
    assert result.exit_code == 1 and "the manifest" in result.output


def test_a_blank_question_is_a_one_line_error(built: Path, env: dict[str, str]) -> None:
    result = runner.invoke(app, ["query", str(built), "  "], env=env)
    assert result.exit_code == 1 and "question is empty" in result.output


def test_help_defaults_are_printed(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["index", "--help"], env=env)
    assert "(default 512)" in result.output and "(default 64)" in result.output


def test_quiet_hides_progress_bars(tmp_path: Path, session_cache: Path) -> None:
    env = {"RAG_CACHE_DIR": str(session_cache)}  # progress bars on, unless -q
    args = ["index", str(SAMPLE / "telescopes.json"), "--out", str(tmp_path / "i")]
    loud = runner.invoke(app, args, env=env)
    quiet = runner.invoke(app, ["-q", *args[:3], str(tmp_path / "j")], env=env)
    assert loud.exit_code == quiet.exit_code == 0
    assert "read:" in loud.output and "read:" not in quiet.output


def test_output_into_a_closed_pipe_ends_quietly(built: Path, env: dict[str, str]) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "rag.cli", "query", str(built), "Who created Python?"],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.read(5) == b"Q: Wh"
    proc.stdout.close()  # the reader leaves, as `| head -c 5` does
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0 and "Traceback" not in stderr
