"""The folders the app may read, and the check every path the app opens goes through."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from rag.errors import InputError

#: The environment variable `rag app` passes its --root folders in (os.pathsep-separated).
ROOTS_ENV = "RAG_APP_ROOTS"
#: Entries `check_tree` looks at, at most: an index dir or eval folder holds a few dozen.
MAX_TREE_ENTRIES = 20_000


class PathRefused(InputError):
    """A path outside every root (directly, through `..`, or through a symlink)."""


class Roots:
    """The folders the app may list and open; every path is checked against them, resolved."""

    def __init__(self, folders: Iterable[str | Path]) -> None:
        """Resolve each folder (symlinks included); a missing one is an error naming it."""
        resolved: list[Path] = []
        for folder in folders:
            path = Path(folder).expanduser()
            if not path.is_dir():
                raise InputError(f"{folder}: app root is not a folder")
            resolved.append(path.resolve())
        if not resolved:
            raise InputError("the app needs at least one root folder")
        self.folders = resolved

    @classmethod
    def from_env(cls) -> Roots:
        """The roots `rag app` named, or the current folder."""
        value = os.environ.get(ROOTS_ENV, "")
        return cls([p for p in value.split(os.pathsep) if p] or [Path.cwd()])

    def check(self, path: str | Path) -> Path:
        """The resolved path, if it lies under a root; relative paths start at the first root.

        Resolving first means `..` segments and symlinks are judged by where they lead.
        """
        text = str(path)
        if "\x00" in text:
            raise PathRefused(f"{text!r}: not a valid path")
        candidate = Path(text).expanduser()
        if not candidate.is_absolute():
            candidate = self.folders[0] / candidate
        resolved = candidate.resolve()
        if not any(resolved.is_relative_to(root) for root in self.folders):
            raise PathRefused(
                f"{text}: outside the app's roots ({', '.join(map(str, self.folders))}); "
                "start `rag app --root` on a folder that holds it"
            )
        return resolved

    def check_tree(self, folder: str | Path) -> Path:
        """The resolved folder, if it and every entry below it (files, folders, and symlinks to
        either, followed) resolve under a root.

        A loader opens sub-folders by name (`tree/`, `graph/`, `records/`), so one symlinked
        entry anywhere below would lead it out; the walk follows symlinked folders to judge
        what lies behind them too.
        """
        top = self.check(folder)
        if not top.is_dir():
            raise InputError(f"{folder}: not a folder")
        todo, seen, count = [top], {top}, 0
        while todo:
            current = todo.pop()
            try:
                entries = sorted(os.scandir(current), key=lambda e: e.name)
            except OSError as exc:
                raise InputError(f"{current}: cannot be listed ({exc.strerror})") from exc
            for entry in entries:
                count += 1
                if count > MAX_TREE_ENTRIES:
                    raise InputError(
                        f"{folder}: more than {MAX_TREE_ENTRIES} entries to check; "
                        "not an index dir or eval folder"
                    )
                try:
                    resolved = self.check(entry.path)
                except PathRefused:
                    # Only a symlink can lead out from a resolved folder: name it, not its target.
                    raise PathRefused(
                        f"{entry.path} is a link that leads outside the app's roots "
                        f"({', '.join(map(str, self.folders))}), so {top} is not opened"
                    ) from None
                if resolved.is_dir() and resolved not in seen:
                    seen.add(resolved)
                    todo.append(resolved)
        return top

    def allows(self, path: str | Path) -> bool:
        """Whether `check` would accept the path."""
        try:
            self.check(path)
        except PathRefused:
            return False
        return True

    def label(self, path: Path) -> str:
        """A short name for a path: relative to its root, after the root's name when several."""
        for root in self.folders:
            if path.is_relative_to(root):
                inside = str(path.relative_to(root))
                if len(self.folders) == 1:
                    return inside
                return root.name if inside == "." else f"{root.name}/{inside}"
        return str(path)
