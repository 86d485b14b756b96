"""Checking the paths given to output options before any work is done.

One rule for every option that names a file or folder to write (`--out`, `--trace-out`,
`--graphml`, `--tree-json`, `--json-out`): a missing parent folder is created and the user is
told so on stderr; a path that names the wrong kind of thing (a folder for a file, a file for a
folder, a file where a parent folder should be) is a one-line error naming the option.
"""

from __future__ import annotations

from pathlib import Path

from rag.errors import OutputPathError


def _make_parent(path: Path, option: str) -> None:
    """Create the missing folders above `path`, or fail naming what is in the way."""
    parent = path.parent
    if parent.is_dir():
        return
    blocker = next((p for p in (parent, *parent.parents) if p.exists()), None)
    if blocker is not None and not blocker.is_dir():
        raise OutputPathError(f"{option} {path}: {blocker} is a file, not a folder")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputPathError(f"{option} {path}: cannot create {parent} ({exc.strerror})") from None
    from rag.cli.commands import CliState, err_console

    if not CliState.quiet:
        err_console.print(f"created folder {parent} for {option}", markup=False, highlight=False)


def output_file(path: Path, option: str) -> Path:
    """`path` checked as a file to write: not a folder, its parent folder made if missing."""
    if path.is_dir():
        raise OutputPathError(f"{option} {path}: is a folder; name a file to write")
    _make_parent(path, option)
    return path


def output_folder(path: Path, option: str) -> Path:
    """`path` checked as a folder to write into: not a file, its parent folder made if missing."""
    if path.exists() and not path.is_dir():
        raise OutputPathError(f"{option} {path}: is a file; name a folder")
    _make_parent(path, option)
    return path
