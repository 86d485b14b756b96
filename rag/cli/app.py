"""`rag app`: serve the Streamlit inspector on index dirs and eval results under some folders."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from rag.cli.commands import CliState, app, err_console, reports_errors
from rag.errors import InputError, MissingExtraError

#: Streamlit options: no browser opened, no usage statistics, no file watcher, no network.
STREAMLIT_FLAGS = (
    "--server.headless=true",
    "--browser.gatherUsageStats=false",
    "--server.fileWatcherType=none",
    "--global.developmentMode=false",
    "--client.toolbarMode=minimal",
)


def streamlit_installed() -> bool:
    """Whether the app extra's streamlit can be imported."""
    return importlib.util.find_spec("streamlit") is not None


def app_script() -> Path:
    """The app's entry file inside the installed memrag."""
    spec = importlib.util.find_spec("app")
    if spec is None or spec.origin is None:
        raise InputError("the memrag app package is missing from this installation")
    return Path(spec.origin).parent / "main.py"


def streamlit_command(port: int, host: str) -> list[str]:
    """The command line that serves the app (run without a shell)."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app_script()),
        f"--server.port={port}",
        f"--server.address={host}",
        *STREAMLIT_FLAGS,
    ]


@app.command("app")
@reports_errors
def app_command(
    root: Annotated[
        list[Path] | None,
        typer.Option(
            "--root", help="A folder the app may read (repeat for several; default: here)."
        ),
    ] = None,
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to serve on.")] = 8501,
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (default: this machine only).")
    ] = "127.0.0.1",
) -> None:
    """Serve the inspector: index dirs, answers with their traces, comparisons, eval results.

    The app lists and opens only what lies under the --root folders, and never writes to an
    index. Needs streamlit, which the `app` extra of memrag installs.
    """
    if not streamlit_installed():
        # Printed here without markup: the shared error printer would read "[app]" as a style.
        err_console.print(f"error: {MissingExtraError('streamlit', 'app')}", markup=False)
        raise typer.Exit(1)
    folders = root or [Path.cwd()]
    for folder in folders:
        if not folder.is_dir():
            raise InputError(f"{folder}: --root is not a folder")
    env = dict(os.environ)
    env["RAG_APP_ROOTS"] = os.pathsep.join(str(f.resolve()) for f in folders)
    env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    if CliState.config is not None:
        env["RAG_CONFIG"] = str(CliState.config.resolve())
    err_console.print(f"memrag inspector on http://{host}:{port} (Ctrl-C stops it)", markup=False)
    command = streamlit_command(port, host)
    # Replaced, not spawned: a signal to `rag app` (Ctrl-C, terminate) reaches streamlit itself
    # and no server is left running without its parent.
    os.execve(command[0], command, env)
