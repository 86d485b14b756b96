"""A reader's hold on one version of an index dir, so a build swapping in the next cannot mix two.

A build replaces an index dir by renaming whole folders (rag/atomic.py); files inside a
version are never rewritten. A reader that opens the folder once (an O_DIRECTORY descriptor)
and reads every file through it (/proc/self/fd/N/...) therefore reads one version only, even
while the path is renamed under it: at worst the version is deleted once the swap is done,
and a read then fails with ENOENT instead of returning another version's bytes. Where there
is no /proc (macOS), reads go through the real path and only the replacement check remains.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TypeVar

from rag.atomic import readable_path
from rag.errors import IndexChangedError, IndexFormatError

#: Opens retried when a swap removes the version being opened; a swap takes milliseconds.
OPEN_ATTEMPTS = 5
T = TypeVar("T")


def _open_directory(target: Path) -> tuple[Path, int]:
    """The version a reader finds at `target` now, and a descriptor holding it open."""
    for attempt in range(OPEN_ATTEMPTS):
        where = readable_path(target)
        try:
            return where, os.open(where, os.O_RDONLY | os.O_DIRECTORY)
        except FileNotFoundError:
            # Between a swap's two renames neither name may exist for an instant.
            time.sleep(0.01 * (attempt + 1))
        except NotADirectoryError:
            break
    raise IndexFormatError(f"{target}: no such index directory")


class Snapshot:
    """One version of an index dir, held open: read files under `root`, name them by `shown`."""

    def __init__(self, target: Path) -> None:
        """Hold the version a reader finds at `target` now (the retired copy mid-swap)."""
        self.target = target
        self.shown, fd = _open_directory(target)
        self._fd: int | None = fd
        self._stat = os.fstat(fd)
        via_proc = Path(f"/proc/self/fd/{fd}")
        self._root = via_proc if via_proc.is_dir() else self.shown

    @property
    def root(self) -> Path:
        """The folder to read the held version's files from."""
        if self._fd is None:
            # The descriptor number may since name another folder: never read through it.
            raise IndexFormatError(f"{self.target}: the index dir was closed")
        return self._root

    @property
    def pinned(self) -> bool:
        """Whether reads go through the held descriptor (no mixing possible) or the path."""
        return self._root != self.shown

    def replaced(self) -> bool:
        """Whether `target` no longer names the held version (a build swapped in another)."""
        try:
            now = os.stat(readable_path(self.target))
        except OSError:
            return True
        return (now.st_dev, now.st_ino) != (self._stat.st_dev, self._stat.st_ino)

    def named(self, message: str) -> str:
        """`message` with the descriptor path put back as the path a user knows."""
        return message.replace(str(self._root), str(self.shown))

    def changed_error(self) -> IndexChangedError:
        """The error for a read that failed because a build replaced the held version."""
        return IndexChangedError(
            f"{self.target}: was replaced by a newer build while it was being read; open it again"
        )

    def close(self) -> None:
        """Let go of the version."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __del__(self) -> None:
        """Close the descriptor of a snapshot nobody closed."""
        with contextlib.suppress(Exception):
            self.close()

    def __enter__(self) -> Snapshot:
        """Use as a context manager."""
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Close on leaving the block."""
        self.close()


def retry_swapped(target: Path, read: Callable[[Snapshot], T]) -> tuple[Snapshot, T]:
    """Hold a version of `target` and `read` it, starting again if a swap removed it mid-read.

    An error that is not due to a swap (the version is still the current one) is raised, with
    the descriptor path replaced by the real one.
    """
    for attempt in range(OPEN_ATTEMPTS):
        snapshot = Snapshot(target)
        try:
            return snapshot, read(snapshot)
        except (IndexFormatError, OSError) as exc:
            snapshot.close()
            if not snapshot.replaced() or attempt == OPEN_ATTEMPTS - 1:
                if isinstance(exc, IndexFormatError):
                    raise type(exc)(snapshot.named(str(exc))) from exc
                raise IndexFormatError(snapshot.named(f"{target}: unreadable ({exc})")) from exc
            time.sleep(0.01 * (attempt + 1))
    raise AssertionError("unreachable")
