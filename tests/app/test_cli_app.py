"""`rag app`: the extra it needs, the roots it passes, and the Streamlit flags it sets."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from rag.cli.commands import app

# The package attribute `rag.cli.app` is the Typer application; the module is this one.
app_cli = importlib.import_module("rag.cli.app")
runner = CliRunner()


def test_without_streamlit_it_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app_cli, "streamlit_installed", lambda: False)
    result = runner.invoke(app, ["app"])
    assert result.exit_code == 1 and "memrag[app]" in result.output


def test_a_missing_root_is_an_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["app", "--root", str(tmp_path / "nowhere")])
    assert result.exit_code == 1 and "is not a folder" in result.output


def test_runs_streamlit_headless_without_a_shell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}

    def fake_execve(path: str, cmd: list[str], env: dict[str, str]) -> None:
        seen.update(path=path, cmd=cmd, env=env)

    monkeypatch.setattr(app_cli.os, "execve", fake_execve)
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    result = runner.invoke(app, ["app", "--root", str(a), "--root", str(b), "--port", "8611"])
    assert result.exit_code == 0, result.output
    cmd = seen["cmd"]
    assert cmd[1:4] == ["-m", "streamlit", "run"] and cmd[4].endswith("app/main.py")
    assert "--server.headless=true" in cmd and "--browser.gatherUsageStats=false" in cmd
    assert "--server.port=8611" in cmd and "--server.address=127.0.0.1" in cmd
    assert seen["path"] == cmd[0]  # the streamlit process replaces `rag app`: none is orphaned
    assert seen["env"]["RAG_APP_ROOTS"].split(":") == [str(a.resolve()), str(b.resolve())]
