"""`rag inspect`: what an index dir holds: manifest, counts, one passage."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from rag.cli.app import app, reports_errors
from rag.cli.output import console, emit_json
from rag.errors import MemragError
from rag.manifest import read_manifest
from rag.store import PassageStore


@app.command("inspect")
@reports_errors
def inspect_command(
    index: Annotated[Path, typer.Argument(help="Index dir built by `rag index`.")],
    passage: Annotated[
        str | None, typer.Option("--passage", help="Show one passage by id.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Show the manifest and counts of INDEX, or one passage with --passage (loads no model)."""
    manifest = read_manifest(index)
    store = PassageStore(index / PassageStore.FILENAME, read_only=True)
    if passage:
        found = store.get(passage)
        if found is None:
            raise MemragError(f"{index}: no passage with id {passage}")
        data = found.model_dump() | {"sources": store.sources_of(passage)}
        emit_json(data) if as_json else console.print(data)
        return
    info = manifest.model_dump(exclude={"sources"}) | {"passages_stored": len(store)}
    if as_json:
        emit_json(info)
        return
    table = Table("field", "value", title=str(index), show_header=False)
    for key in (
        "format_version",
        "memrag_version",
        "embedder",
        "chunking",
        "indexes",
        "counts",
        "build",
    ):
        table.add_row(key, str(info[key]))
    console.print(table)
