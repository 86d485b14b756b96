"""The Typer application, global options, logging setup and error reporting.

The callback configures logging only: models are loaded from local files (never a hub), so
no environment variable needs to be set on the user's behalf.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.text import Text

from rag.cli.safe import clean
from rag.errors import MemragError
from rag.settings import Settings, check_cache_dir, load_settings

app = typer.Typer(
    help="memrag: index documents into memory-inspired indexes and answer questions over them.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    # Help texts are plain: `memrag[local]` in an option's help is not console markup.
    rich_markup_mode=None,
)
err_console = Console(stderr=True, soft_wrap=True)
F = TypeVar("F", bound=Callable[..., Any])


class CliState:
    """Options shared by every command."""

    config: Path | None = None
    quiet: bool = False


@app.callback()
def _global_options(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            envvar="RAG_CONFIG",
            help="Settings file (.toml or .yaml); RAG_* variables and flags override it.",
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug details.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only warnings and errors.")] = False,
) -> None:
    """Configure logging and remember the settings file."""
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    handler = RichHandler(console=err_console, show_path=False)
    # On the handler too: some libraries reset their own logger's level when imported.
    handler.setLevel(level)
    logging.basicConfig(level=level, format="%(message)s", datefmt="[%X]", handlers=[handler])
    # Silence chatty third-party INFO logs (HTTP requests, model loading) unless debugging.
    for name in ("httpx", "sentence_transformers", "faiss", "bm25s", "urllib3"):
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else logging.WARNING)
    CliState.config = config
    CliState.quiet = quiet


def settings_with(**overrides: Any) -> Settings:
    """Resolve settings from the config file, environment, and non-None CLI flags."""
    nested: dict[str, Any] = {}
    if CliState.quiet and overrides.get("show_progress") is None:
        overrides = {**overrides, "show_progress": False}  # -q hides progress bars too
    for dotted, value in overrides.items():
        if value is None:
            continue
        *parents, leaf = dotted.split("__")
        node = nested
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    from indexers.registry import check_settings

    settings = load_settings(CliState.config, nested)
    check_settings(settings)
    check_cache_dir(settings)
    return settings


def reports_errors(func: F) -> F:
    """Turn memrag errors into a one-line message and exit code 1; Ctrl-C into 130."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except MemragError as exc:
            # Plain text: messages quote paths and corpus strings, and name extras (memrag[app]).
            message = Text.assemble(("error:", "bold red"), " ", clean(exc))
            err_console.print(message, highlight=False)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            err_console.print("interrupted; the previous index is untouched")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def _register_commands() -> None:
    """Import the command modules, which attach themselves to `app`."""
    from rag.cli import app, bench, demo, evaluate, index, inspect, query  # noqa: F401


_register_commands()
