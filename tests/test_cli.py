"""The `rag` command line end to end: demo, index, query, inspect, and its error messages."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.cli.commands import app
from tests.conftest import SAMPLE

runner = CliRunner()


@pytest.fixture
def built(tmp_path: Path, env: dict[str, str]) -> Path:
    """An index of the sample corpus built through the CLI."""
    out = tmp_path / "idx"
    result = runner.invoke(app, ["index", str(SAMPLE), "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    return out


def test_demo_answers_with_citations(tmp_path: Path, env: dict[str, str]) -> None:
    result = runner.invoke(app, ["demo", "--out", str(tmp_path / "demo"), "--json"], env=env)
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert "1990" in answer["text"]
    assert answer["citations"] and "Hubble" in answer["citations"][0]["quote"]
    assert [e["step"] for e in answer["trace"]] == [
        "retrieve:dense",
        "retrieve:bm25",
        "fuse",
        "generate",
    ]


def test_index_json_report_and_rerun(built: Path, env: dict[str, str]) -> None:
    result = runner.invoke(app, ["index", str(SAMPLE), "--out", str(built), "--json"], env=env)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["added"] == 0 and report["sources_unchanged"] == 6


@pytest.mark.parametrize("pipeline", ["dense", "bm25", "hybrid"])
def test_query_each_preset(built: Path, env: dict[str, str], pipeline: str) -> None:
    args = [
        "query",
        str(built),
        "Who created the Python programming language?",
        "-p",
        pipeline,
        "--json",
    ]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert "Guido van Rossum" in answer["text"]
    assert answer["hits"] and len(answer["hits"]) <= 5
    assert answer["citations"][0]["passage_id"] in {h["passage_id"] for h in answer["hits"]}


def test_query_prints_for_people(built: Path, env: dict[str, str]) -> None:
    result = runner.invoke(app, ["query", str(built), "Where is the Great Barrier Reef?"], env=env)
    assert result.exit_code == 0, result.output
    assert "Queensland" in result.stdout and "[1]" in result.stdout


def test_inspect_manifest_and_passage(built: Path, env: dict[str, str]) -> None:
    result = runner.invoke(app, ["inspect", str(built), "--json"], env=env)
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["embedder"]["name"] == "all-MiniLM-L6-v2" and info["counts"]["sources"] == 6
    some_id = json.loads((built / "dense" / "passage_ids.json").read_text())[0]
    shown = runner.invoke(app, ["inspect", str(built), "--passage", some_id, "--json"], env=env)
    assert shown.exit_code == 0 and json.loads(shown.stdout)["id"] == some_id


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["index", "/no/such/docs", "--out", "{tmp}/i"], "no such file or folder"),
        (["query", "{tmp}/absent", "q"], "no such index directory"),
        (["query", "{tmp}", "q"], "not a memrag index"),
        (["inspect", "{tmp}/absent"], "no such index directory"),
        (["query", "{idx}", "q", "-p", "nope"], "unknown pipeline"),
        (["inspect", "{idx}", "--passage", "0000000000000000"], "no passage with id"),
        (["index", str(SAMPLE), "--out", "{tmp}/i", "--vector-kind", "annoy"], "vector.kind"),
    ],
)
def test_errors_are_one_line_and_exit_non_zero(
    built: Path, tmp_path: Path, env: dict[str, str], args: list[str], message: str
) -> None:
    argv = [a.format(tmp=tmp_path, idx=built) for a in args]
    result = runner.invoke(app, argv, env=env)
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output


def test_malformed_config_file_is_reported(tmp_path: Path, env: dict[str, str]) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[embedder\n")
    result = runner.invoke(app, ["--config", str(config), "demo"], env=env)
    assert result.exit_code == 1 and "bad.toml" in result.output


def test_help_explains_every_command() -> None:
    for command in ("demo", "index", "query", "inspect"):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0 and "--json" in result.output


def test_killed_index_run_leaves_the_previous_index_loadable(
    tmp_path: Path, env: dict[str, str]
) -> None:
    """SIGKILL a real `rag index` process mid-build; the old index must still open."""
    out = tmp_path / "idx"
    assert (
        runner.invoke(
            app, ["index", str(SAMPLE / "marie_curie.txt"), "--out", str(out)], env=env
        ).exit_code
        == 0
    )
    big = tmp_path / "big"
    big.mkdir()
    shutil.copy(SAMPLE / "telescopes.json", big)
    lines = (
        json.dumps(
            {
                "title": f"Note {i}",
                "text": f"Observation {i}: the sky was clear over site {i % 97}.",
            }
        )
        for i in range(4000)
    )
    (big / "notes.jsonl").write_text("\n".join(lines))
    cmd = [sys.executable, "-m", "rag.cli", "index", str(big), "--out", str(out)]
    proc = subprocess.Popen(
        cmd, env={**_os_env(), **env, "RAG_CACHE_DIR": str(tmp_path / "c")}, stderr=subprocess.PIPE
    )
    _wait_for_staging(out, proc)
    proc.kill()
    proc.wait()
    result = runner.invoke(
        app, ["query", str(out), "When did Marie Curie win the chemistry prize?", "--json"], env=env
    )
    assert result.exit_code == 0, result.output
    assert "1911" in json.loads(result.stdout)["text"]


def _os_env() -> dict[str, str]:
    import os

    return dict(os.environ)


def _wait_for_staging(out: Path, proc: subprocess.Popen[bytes]) -> None:
    """Wait until the build has started writing its staging copy (at most 60 s)."""
    import time

    staging = out.with_name(f".{out.name}.staging")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if (staging / "passages.sqlite").exists():
            time.sleep(0.5)  # let it get into the middle of reading or embedding
            return
        time.sleep(0.05)
    raise AssertionError(
        f"build never started staging: {proc.stderr.read() if proc.stderr else ''!r}"
    )
