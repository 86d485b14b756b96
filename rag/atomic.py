"""Atomic replacement of an index directory: build beside it, then swap by rename."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

logger = logging.getLogger(__name__)


def staging_path(target: Path) -> Path:
    """The sibling folder where a new version of `target` is built."""
    return target.with_name(f".{target.name}.staging")


def _retired_path(target: Path) -> Path:
    """The sibling folder that briefly holds the old version during a swap."""
    return target.with_name(f".{target.name}.old")


def readable_path(target: Path) -> Path:
    """Where a reader finds the complete index: the retired copy while a swap is mid-way."""
    retired = _retired_path(target)
    if not target.exists() and retired.is_dir():
        return retired
    return target


def recover(target: Path) -> None:
    """Put back an old version left aside by a swap that was interrupted between two renames."""
    retired = _retired_path(target)
    if retired.is_dir():
        if target.exists():
            shutil.rmtree(retired)
        else:
            logger.warning("%s: restoring the previous index after an interrupted swap", target)
            os.replace(retired, target)


@contextmanager
def replace_directory(target: Path) -> Iterator[Path]:
    """Yield a fresh staging folder; on success it replaces `target`, on error it is dropped."""
    recover(target)
    staging = staging_path(target)
    if staging.exists():
        # A leftover from a killed build: its content is not trusted, caches make redoing it cheap.
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    retired = _retired_path(target)
    if target.exists():
        os.replace(target, retired)
    os.replace(staging, target)
    shutil.rmtree(retired, ignore_errors=True)
