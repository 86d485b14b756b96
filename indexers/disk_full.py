"""Disk full during a build: one clear error naming what was being written, old index kept."""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rag.errors import DiskFullError

#: How the libraries a build writes through say "no space": OSError's errno, SQLite's result
#: code SQLITE_FULL, and FAISS's C++ exceptions, which carry strerror's text.
_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)
_SQLITE_FULL = 13
_MESSAGES = ("no space left on device", "database or disk is full", "disk quota exceeded")


def is_disk_full(exc: BaseException) -> bool:
    """Whether an exception, or one it was raised from, says the disk is full."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _NO_SPACE:
            return True
        if isinstance(current, sqlite3.Error) and (
            getattr(current, "sqlite_errorcode", None) == _SQLITE_FULL
        ):
            return True
        if any(text in str(current).lower() for text in _MESSAGES):
            return True
        current = current.__cause__ or current.__context__
    return False


class WriteGuard:
    """Tracks what a build is writing, so that a full disk is reported by name."""

    def __init__(self, out: Path, had_index: bool) -> None:
        """`had_index`: whether `out` held an index before this build."""
        self.out = out
        self.had_index = had_index
        self.what = "the staging dir"

    def at(self, what: str) -> None:
        """Say what the build writes from now on."""
        self.what = what

    @contextmanager
    def guarding(self) -> Iterator[None]:
        """Turn a disk-full failure inside into a DiskFullError; others pass through."""
        try:
            yield
        except DiskFullError:
            raise
        except Exception as exc:
            if not is_disk_full(exc):
                raise
            kept = (
                "the previous index is untouched"
                if self.had_index
                else f"nothing was written to {self.out}"
            )
            raise DiskFullError(
                f"{self.out}: disk full while writing {self.what}; {kept} "
                "(free some space and run the build again)"
            ) from exc
