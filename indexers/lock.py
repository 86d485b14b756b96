"""One writer per index dir: a lock file beside it, held for the whole build."""

from __future__ import annotations

import errno
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from rag.errors import DiskFullError, IndexBusyError

logger = logging.getLogger(__name__)


def lock_path(target: Path) -> Path:
    """The lock file of an index dir: a hidden sibling, so the dir itself stays swappable."""
    return target.with_name(f".{target.name}.lock")


@contextmanager
def writer_lock(target: Path, wait_s: float = 0.0) -> Iterator[None]:
    """Hold the writer lock of `target`, waiting up to `wait_s` seconds for another writer."""
    path = lock_path(target)
    lock = FileLock(str(path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock.acquire(timeout=0)
    except Timeout:
        if wait_s <= 0:
            raise IndexBusyError(
                f"{target}: another build is writing this index (lock {path}); "
                "wait for it to finish, or pass --wait SECONDS"
            ) from None
        logger.info("%s: waiting up to %.0f s for another build to finish", target, wait_s)
        try:
            lock.acquire(timeout=wait_s)
        except Timeout:
            raise IndexBusyError(
                f"{target}: another build still holds the lock {path} after {wait_s:.0f} s"
            ) from None
    except OSError as exc:
        if exc.errno != errno.ENOSPC:
            raise
        raise DiskFullError(
            f"{target}: disk full while writing the lock file {path}; the previous index is "
            "untouched (free some space and run the build again)"
        ) from exc
    try:
        yield
    finally:
        lock.release()
