"""The CLI on hostile inputs: markup and escapes in passages, bad settings and output paths."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.presets import preset_names
from rag.cli import output
from rag.cli.commands import app
from rag.cli.safe import strict_json
from rag.store import PassageStore
from rag.types import Answer, Citation, Hit, Passage
from tests.conftest import SAMPLE

runner = CliRunner()

BRACKETS = (
    "Put the binary in [/usr/local/bin] and restart. The marker [/] ends a section, "
    "[bold] is not bold and [#1] is a note."
)
LINKS = "Released in PR [#15588](https://github.com/x/y/pull/15588) by [@tiangolo](https://x.io)."
RECORD = '{"text": "The sensor reading was not a number.", "reading": NaN, "peak": Infinity}'
ESCAPES = "Warning \x1b[31mRED TEXT\x1b[0m from the reactor log, bell \x07 and csi \x9b2J."


@pytest.fixture(scope="module")
def corpus_env(session_cache: Path) -> dict[str, str]:
    """Environment of this module's CLI runs."""
    return {"RAG_CACHE_DIR": str(session_cache), "RAG_SHOW_PROGRESS": "false"}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, corpus_env: dict[str, str]) -> Path:
    """A small corpus of bracketed and escape-laden passages, indexed once."""
    folder = tmp_path_factory.mktemp("hostile")
    (folder / "install.txt").write_text(BRACKETS)
    (folder / "links.md").write_text(LINKS)
    (folder / "log.txt").write_text(ESCAPES)
    (folder / "sensor.jsonl").write_text(RECORD + "\n")
    out = folder.parent / f"{folder.name}-idx"
    result = runner.invoke(app, ["index", str(folder), "--out", str(out)], env=corpus_env)
    assert result.exit_code == 0, result.output
    return out


def _one_line_error(result: object, *needles: str) -> str:
    """The error line of a failed run, checked for exit 1, no traceback and `needles`."""
    out = result.output  # type: ignore[attr-defined]
    assert result.exit_code == 1, out  # type: ignore[attr-defined]
    assert "Traceback" not in out and len(out.strip().splitlines()) == 1, out
    for needle in needles:
        assert needle in out, out
    return str(out)


# Issue 21 item 1: corpus text is never read as markup.


def test_query_prints_brackets_in_passages_as_written(
    built: Path, corpus_env: dict[str, str]
) -> None:
    args = ["query", str(built), "What does the marker end?", "-p", "bm25"]
    result = runner.invoke(app, args, env=corpus_env)
    assert result.exit_code == 0, result.output
    assert "[/]" in result.output and "[/usr/local/bin]" in result.output
    assert "[bold]" in result.output and "[#1]" in result.output


def test_show_answer_keeps_markdown_links_and_markup_lookalikes() -> None:
    passage = Passage.from_text(LINKS, title="notes [draft]", source="links.md")
    answer = Answer(
        question="Who made [#15588]?",
        text="[@tiangolo] wrote [bold]it[/bold]",
        reader="extractive",
        citations=[Citation(passage_id=passage.id, quote=LINKS, title="notes [draft]")],
        hits=[Hit(passage_id=passage.id, score=1.0, retriever="bm25")],
    )
    with output.console.capture() as captured:
        output.show_answer(answer, {passage.id: passage})
    text = captured.get()
    for needle in ("[#15588]", "[@tiangolo](https://x.io)", "[bold]it[/bold]", "[draft]"):
        assert needle in text, text


# Issue 20 item 18: terminal escape sequences are shown, not obeyed.


def test_escape_sequences_in_passages_are_made_visible(
    built: Path, corpus_env: dict[str, str]
) -> None:
    args = ["query", str(built), "What does the reactor log warn?", "-p", "bm25", "--trace"]
    result = runner.invoke(app, args, env=corpus_env)
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x9b" not in result.output
    assert "\x07" not in result.output


def test_every_printed_field_is_sanitized() -> None:
    passage = Passage.from_text(ESCAPES, title="log\x1b]0;pwned\x07", source="log.txt")
    answer = Answer(
        question="why \x1b[2J?",
        text="RED \x1b[31mTEXT\x9b",
        reader="extractive\x1b",
        citations=[Citation(passage_id=passage.id, quote=ESCAPES, title="t\x1b[1m")],
        hits=[Hit(passage_id=passage.id, score=1.0, retriever="bm25")],
    )
    with output.console.capture() as captured:
        output.show_answer(answer, {passage.id: passage})
    text = captured.get()
    assert not any(c in text for c in "\x1b\x07\x9b"), repr(text)
    assert "␛[31m" in text and "␛[2J" in text


# Issue 20 item 18: --json is standard JSON.


def test_inspect_passage_json_has_no_nan(built: Path, corpus_env: dict[str, str]) -> None:
    store = PassageStore(built / PassageStore.FILENAME, read_only=True)
    sensor = next(p for p in store.iter_passages() if "sensor" in p.text)
    store.close()
    assert math.isnan(sensor.metadata["reading"])
    result = runner.invoke(app, ["inspect", str(built), "--passage", sensor.id, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output, parse_constant=pytest.fail)
    assert data["metadata"]["reading"] is None and data["metadata"]["peak"] is None


def test_strict_json_is_standard_and_terminal_safe() -> None:
    text = strict_json({"x": [float("nan"), -math.inf, 1.5], "s": "\x1b[31m\x9b\u2028"})
    assert json.loads(text, parse_constant=pytest.fail) == {
        "x": [None, None, 1.5],
        "s": "\x1b[31m\x9b\u2028",
    }
    assert not any(c in text for c in "\x1b\x9b\u2028")


# Issue 20 item 12: a runaway reply is cut when printed.


def test_a_50_mb_answer_prints_quickly_and_cut() -> None:
    answer = Answer(question="q", text="word " * 10_000_000, reader="llm")
    started = time.perf_counter()
    with output.console.capture() as captured:
        output.show_answer(answer, {})
    assert time.perf_counter() - started < 5
    text = captured.get()
    assert len(text) < 3 * output.PRINT_LIMIT and "more characters not shown" in text


# Issue 21 items 6 and 7.


def test_no_answer_prints_the_hits_only(built: Path, corpus_env: dict[str, str]) -> None:
    args = ["query", str(built), "What does the marker end?", "--no-answer"]
    result = runner.invoke(app, args, env=corpus_env)
    assert result.exit_code == 0, result.output
    assert "A:" not in result.output and "no answer found" not in result.output
    assert "retrieved" in result.output


def test_query_help_lists_every_preset_and_keeps_brackets() -> None:
    result = runner.invoke(app, ["query", "--help"], terminal_width=400)
    assert result.exit_code == 0, result.output
    # Every preset file, the ones added since the hand-written list too.
    assert {"hipporag2", "memorag-raptor", "ircot-raptor", "conversation"} <= set(preset_names())
    for name in preset_names():
        assert f"{name}," in result.output or f"{name})" in result.output, name
    assert "memrag[local]" in result.output


# Issue 20 item 17: settings and output paths.


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("RAG_LLM__MAX_CONCURRENCY", "0", "llm.max_concurrency"),
        ("RAG_LLM__TIMEOUT_S", "-1", "llm.timeout_s"),
        ("RAG_LLM", "{bad", "RAG_LLM: not valid JSON"),
    ],
)
def test_bad_settings_are_one_line_errors(
    built: Path, corpus_env: dict[str, str], variable: str, value: str, message: str
) -> None:
    env = {**corpus_env, variable: value}
    result = runner.invoke(app, ["query", str(built), "Who?"], env=env)
    _one_line_error(result, message)


def test_cache_dir_at_a_file_or_under_dev_null(built: Path, tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x")
    for cache, message in ((afile, "is a file"), (Path("/dev/null/cache"), "cannot create")):
        env = {"RAG_CACHE_DIR": str(cache), "RAG_SHOW_PROGRESS": "false"}
        result = runner.invoke(app, ["query", str(built), "Who?"], env=env)
        _one_line_error(result, f"cache_dir {cache}", message)


def test_output_options_naming_a_folder_are_errors(
    built: Path, tmp_path: Path, corpus_env: dict[str, str]
) -> None:
    args = ["query", str(built), "Who?", "--trace-out", str(tmp_path)]
    _one_line_error(runner.invoke(app, args, env=corpus_env), "--trace-out", "is a folder")
    args = ["inspect", str(built), "--graph", "--graphml", str(tmp_path)]
    _one_line_error(runner.invoke(app, args, env=corpus_env), "--graphml", "is a folder")


def test_output_under_a_file_is_an_error_and_missing_folders_are_made(
    built: Path, tmp_path: Path, corpus_env: dict[str, str]
) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x")
    args = ["demo", "--out", str(afile / "sub")]
    _one_line_error(runner.invoke(app, args, env=corpus_env), "--out", "is a file, not a folder")
    args = ["index", str(SAMPLE), "--out", str(afile / "sub")]
    _one_line_error(runner.invoke(app, args, env=corpus_env), "--out", "is a file, not a folder")
    args = ["eval", "--dataset", str(tmp_path), "--out", str(afile / "sub")]
    _one_line_error(runner.invoke(app, args, env=corpus_env), "--out", "is a file, not a folder")
    trace = tmp_path / "new" / "deeper" / "trace.jsonl"
    args = ["query", str(built), "Who?", "--no-answer", "--trace-out", str(trace)]
    result = runner.invoke(app, args, env=corpus_env)
    assert result.exit_code == 0, result.output
    assert trace.is_file() and f"created folder {trace.parent}" in result.output


# Issue 20 item 17: pipeline files.


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"name: caf\xe9\nsteps: []\n", "not UTF-8 text"),
        (b"steps: &s [*s]\n", "step 1: a step must be a mapping"),
        (b"steps:\n  - " + b"[" * 400 + b"]" * 400 + b"\n", "bad.yaml: "),
        (
            b"steps:\n  - {type: retrieve}\n  - {type: retrieve, index: bm25}\n"
            b"  - {type: fuse, inputs: [dense, bm25], weights: {dense: -1, nope: 2}}\n",
            "weights name nope",
        ),
    ],
)
def test_bad_pipeline_files_are_one_line_errors(
    built: Path, tmp_path: Path, corpus_env: dict[str, str], content: bytes, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    result = runner.invoke(app, ["query", str(built), "Who?", "-p", str(path)], env=corpus_env)
    _one_line_error(result, str(path), message)


def test_bench_output_options_are_checked_before_any_work(
    built: Path, tmp_path: Path, corpus_env: dict[str, str]
) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x")
    args = ["bench", "queries", str(built), "--json-out", str(tmp_path)]
    _one_line_error(runner.invoke(app, args, env=corpus_env), "--json-out", "is a folder")
    args = ["bench", "ppr", "--out", str(afile / "sub")]
    _one_line_error(runner.invoke(app, args, env=corpus_env), "--out", "is a file, not a folder")
