"""The folders the app may read, and the check every user-chosen path goes through."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from rag.errors import InputError

#: The environment variable `rag app` passes its --root folders in (os.pathsep-separated).
ROOTS_ENV = "RAG_APP_ROOTS"


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
