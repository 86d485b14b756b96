"""`rag demo --llm local:gemma-270m`: the sample corpus answered by the real model in-process."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from rag.cli import app
from tests.llm_local.conftest import skip_without

runner = CliRunner()


def test_demo_answers_with_the_bundled_model_named_in_the_reader(
    tmp_path: Path, env: dict[str, str]
) -> None:
    skip_without("gemma-270m")
    args = ["demo", "--llm", "local:gemma-270m", "--out", str(tmp_path / "demo"), "--json"]
    # No reply from an earlier run may answer for the model: the LLM cache is off.
    result = runner.invoke(app, args, env={**env, "RAG_LLM__CACHE": "false"})
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["reader"] == "llm:gemma-270m"
    assert answer["text"] and answer["citations"]
    generate = answer["trace"][-1]
    assert generate["step"] == "generate" and generate["llm_calls"] == 1
    assert generate["outputs"]["parse"] == "json" and generate["outputs"]["structured"] == "grammar"


def test_demo_with_qwen_answers_the_question_and_names_the_model(
    tmp_path: Path, env: dict[str, str]
) -> None:
    skip_without("qwen2.5-0.5b")
    args = ["demo", "--llm", "local:qwen2.5-0.5b", "--out", str(tmp_path / "demo"), "--json"]
    result = runner.invoke(app, args, env={**env, "RAG_LLM__CACHE": "false"})
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["reader"] == "llm:qwen2.5-0.5b"
    assert "1990" in answer["text"]  # "When was the Hubble Space Telescope launched?"
    assert answer["citations"] and "Hubble" in answer["citations"][0]["quote"]


def test_an_unknown_llm_flag_is_a_one_line_error(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["demo", "--llm", "gpt-4"], env=env)
    assert result.exit_code == 1
    assert "--llm 'gpt-4'" in result.output and "local:gemma-270m" in result.output
