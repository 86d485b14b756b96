"""Finding what the app can show under its roots: index dirs, eval result folders, trace files."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from app.safety import PathRefused, Roots
from rag.manifest import MANIFEST
from rag.store import PassageStore

#: Folders never searched: version control, environments, caches.
_SKIP = {"node_modules", "__pycache__", "site-packages"}
#: How deep below a root the search goes, and how many folders it visits at most.
MAX_DEPTH = 6
MAX_FOLDERS = 20_000
TRACE_TAG = '"format":"memrag.trace/1"'


@dataclass
class Found:
    """What the search found, each list sorted by path."""

    indexes: list[Path] = field(default_factory=list)
    evals: list[Path] = field(default_factory=list)
    traces: list[Path] = field(default_factory=list)
    pipelines: list[Path] = field(default_factory=list)


def is_index_dir(folder: Path) -> bool:
    """A folder with a manifest, or a passage store without one (a half-written index)."""
    return (folder / MANIFEST).is_file() or (folder / PassageStore.FILENAME).is_file()


def is_eval_dir(folder: Path) -> bool:
    """A `rag eval --out` folder: a summary, or per-pipeline records."""
    records = folder / "records"
    return (folder / "summary.json").is_file() or (
        records.is_dir() and any(records.glob("*.jsonl"))
    )


def is_trace_file(path: Path) -> bool:
    """A JSON Lines file whose first line is a memrag trace record."""
    try:
        with path.open(encoding="utf-8") as f:
            first = f.readline(65536)
    except (OSError, UnicodeDecodeError):
        return False
    return TRACE_TAG in first.replace(" ", "")


def is_pipeline_file(path: Path) -> bool:
    """A YAML file that names pipeline steps (read as text; parsed only when chosen)."""
    try:
        with path.open(encoding="utf-8") as f:
            head = f.read(65536)
    except (OSError, UnicodeDecodeError):
        return False
    return any(line.startswith("steps:") for line in head.splitlines())


def discover(roots: Roots) -> Found:
    """Walk each root (not following symlinked folders) for index dirs, eval dirs, traces and
    pipeline YAML files."""
    found = Found()
    visited = 0
    for root in roots.folders:
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            folder = Path(dirpath)
            visited += 1
            depth = len(folder.relative_to(root).parts)
            # Hidden folders include a build's staging and retired copies (`.name.staging`).
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in _SKIP)
            if depth >= MAX_DEPTH or visited >= MAX_FOLDERS:
                dirnames[:] = []
            if not roots.allows(folder):
                dirnames[:] = []
                continue
            if is_index_dir(folder):
                found.indexes.append(folder)
                dirnames[:] = []  # an index dir's sub-folders are its kinds
                continue
            if is_eval_dir(folder):
                found.evals.append(folder)
            for name in filenames:
                path = folder / name
                if name.endswith(".jsonl") and _allowed(roots, path, is_trace_file):
                    found.traces.append(path)
                if name.endswith((".yaml", ".yml")) and _allowed(roots, path, is_pipeline_file):
                    found.pipelines.append(path)
    for paths in (found.indexes, found.evals, found.traces, found.pipelines):
        paths[:] = sorted(set(paths))
    return found


def _allowed(roots: Roots, path: Path, kind: Callable[[Path], bool]) -> bool:
    """A file of this kind that resolves under a root (a symlinked file may point elsewhere)."""
    try:
        roots.check(path)
    except PathRefused:
        return False
    return kind(path)
