"""`rag inspect`: what an index dir holds: manifest, counts, one passage."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from rag.cli.commands import app, err_console, reports_errors
from rag.cli.output import console, emit_json
from rag.cli.paths import output_file
from rag.cli.safe import clean
from rag.errors import IndexFormatError, MemragError
from rag.integrity import verify_files
from rag.manifest import Manifest, read_manifest, verify_saved
from rag.snapshot import Snapshot, retry_swapped


@app.command("inspect")
@reports_errors
def inspect_command(
    index: Annotated[Path, typer.Argument(help="Index dir built by `rag index`.")],
    passage: Annotated[
        str | None, typer.Option("--passage", help="Show one passage by id.")
    ] = None,
    graph: Annotated[
        bool, typer.Option("--graph", help="Knowledge-graph counts (entities, facts, edges).")
    ] = False,
    entity: Annotated[
        str | None, typer.Option("--entity", help="With --graph: one entity's neighbourhood.")
    ] = None,
    graphml: Annotated[
        Path | None, typer.Option("--graphml", help="With --graph: export the graph as GraphML.")
    ] = None,
    tree: Annotated[
        bool, typer.Option("--tree", help="Summary-tree outline: levels, sizes, summaries.")
    ] = False,
    tree_json: Annotated[
        Path | None, typer.Option("--tree-json", help="With --tree: export every node as JSON.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Show the manifest and counts of INDEX, or one passage with --passage (loads no model).

    Reads the version `rag query` would (the previous one while a build swaps), and checks the
    files it reads against the sizes and hashes in the manifest: every file, without options.
    """
    from indexers.index_dir import rebuild_hint

    for path, option in ((graphml, "--graphml"), (tree_json, "--tree-json")):
        if path:
            output_file(path, option)
    snapshot, manifest = retry_swapped(index, lambda held: read_manifest(held.root))
    try:
        with snapshot:
            if tree or tree_json:
                _inspect_tree(index, snapshot.root, manifest.indexes, tree_json, as_json)
            elif graph or entity or graphml:
                _inspect_graph(index, snapshot.root, manifest.indexes, entity, graphml, as_json)
            else:
                _inspect_dir(index, snapshot, manifest, passage, as_json)
    except IndexFormatError as exc:
        message = snapshot.named(str(exc))
        if "rag index --rebuild" not in message:
            message = f"{message}; {rebuild_hint(index)}"
        raise IndexFormatError(message) from exc


def _inspect_dir(
    index: Path, snapshot: Snapshot, manifest: Manifest, passage: str | None, as_json: bool
) -> None:
    """Print the manifest and counts (checking every file), or one passage."""
    from indexers.index_dir import open_store

    store = open_store(snapshot, manifest, index)
    if passage:
        found = store.get(passage)
        if found is None:
            raise MemragError(f"{index}: no passage with id {passage}")
        data = found.model_dump() | {"sources": store.sources_of(passage)}
        emit_json(data) if as_json else console.print(data)
        return
    checked = verify_files(snapshot.root, manifest.files)
    files = (
        f"{len(manifest.files)} files, {checked:,} bytes: sizes and SHA-256 match the manifest"
        if manifest.files
        else "no checksums recorded (built by an older memrag); passage store quick_check ok"
    )
    info = manifest.model_dump(exclude={"sources", "files"}) | {
        "passages_stored": len(store),
        "files_checked": files,
    }
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
        "files_checked",
    ):
        table.add_row(key, Text(clean(info[key])))
    console.print(table)


def _inspect_graph(
    index: Path,
    root: Path,
    kinds: list[str],
    entity: str | None,
    graphml: Path | None,
    as_json: bool,
) -> None:
    """Print graph counts, or an entity's neighbourhood, and optionally export GraphML."""
    from graphs.storage import load_graph
    from graphs.views import neighbourhood, write_graphml

    if "graph" not in kinds:
        raise MemragError(f"{index}: has no graph index; build one with `rag index --graph`")
    verify_saved(root / "graph")
    kg = load_graph(root / "graph")
    if graphml:
        write_graphml(kg, graphml)
        console.print(Text(f"GraphML written to {clean(graphml)}", style="dim"))
    if entity:
        try:
            info = neighbourhood(kg, entity)
        except KeyError:
            close = difflib.get_close_matches(entity, kg.entity_labels, n=5, cutoff=0.5)
            hint = f"; close: {', '.join(close)}" if close else ""
            raise MemragError(
                f"{index}: no entity {entity!r} in the graph{hint} "
                "(`rag inspect --graph` lists the most linked ones)"
            ) from None
        emit_json(info) if as_json else console.print(info)
        return
    counts = {
        "entities": kg.n_entities,
        "facts": len(kg.facts),
        "passages": kg.n_passages,
        "synonymy_edges": len(kg.synonyms),
        "passages_without_facts": sum(1 for fs in kg.passage_facts if not fs),
        "graph_nodes": kg.n_entities + kg.n_passages,
        "graph_edges": kg.csr().n_edges,
        "most_linked_entities": ", ".join(
            kg.entity_labels[e]
            for e in sorted(range(kg.n_entities), key=lambda e: (-len(kg.entity_passages[e]), e))[
                :10
            ]
        ),
    }
    if as_json:
        emit_json(counts)
        return
    table = Table("graph", "count", title=f"{index} (graph)", show_header=False)
    for key, value in counts.items():
        table.add_row(key, Text(clean(value)))
    console.print(table)


def _inspect_tree(
    index: Path, root: Path, kinds: list[str], export_to: Path | None, as_json: bool
) -> None:
    """Print the tree's outline, and optionally export its nodes as JSON."""
    from indexers.tree.outline import export, outline, read_tree

    if "tree" not in kinds:
        raise MemragError(f"{index}: has no tree index; build one with `rag index --kinds tree`")
    verify_saved(root / "tree")
    summary_tree, config = read_tree(root / "tree")
    if export_to:
        export(summary_tree, export_to)
        err_console.print(Text(f"tree written to {clean(export_to)}", style="dim"))
    info = outline(summary_tree, config)
    if as_json:
        emit_json(info)
        return
    table = Table("tree", "value", title=f"{index} (tree)", show_header=False)
    for key, value in info.items():
        if key != "samples":
            table.add_row(key, Text(clean(value)))
    console.print(table)
    for level, nodes in info["samples"].items():
        for node in nodes:
            about = f" {node['node']} ({node['children']} children, {node['passages']} passages)"
            summary = clean(" ".join(node["text"][:1200].split())[:300])
            console.print(Text.assemble((f"level {level}", "bold"), about, ": ", summary))
