"""The `rag` command line: demo, index, query, inspect."""

from __future__ import annotations

from rag.cli.commands import app


def main() -> None:
    """Entry point of the `rag` console script."""
    app(prog_name="rag")


if __name__ == "__main__":
    main()
