"""Find the files to ingest: walk folders, keep supported types, hash each file's bytes."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from rag.errors import InputError

logger = logging.getLogger(__name__)

TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
PDF_SUFFIXES = frozenset({".pdf"})
JSON_SUFFIXES = frozenset({".json", ".jsonl"})
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES | JSON_SUFFIXES

_HASH_BLOCK = 1 << 20


class SourceFile(BaseModel):
    """One file to ingest: its resolved path, the SHA-256 of its bytes and its size."""

    model_config = ConfigDict(frozen=True)

    path: str
    sha256: str
    size: int

    @property
    def suffix(self) -> str:
        """The lower-cased file extension, with its dot."""
        return Path(self.path).suffix.lower()


def supported_list() -> str:
    """The supported extensions as one readable string, for error messages and help."""
    return ", ".join(sorted(SUPPORTED_SUFFIXES))


def _hash_file(path: Path) -> SourceFile:
    """Hash a file's bytes in blocks so large PDFs are not read into memory at once."""
    digest = hashlib.sha256()
    size = 0
    try:
        with path.open("rb") as handle:
            while block := handle.read(_HASH_BLOCK):
                digest.update(block)
                size += len(block)
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    return SourceFile(path=str(path), sha256=digest.hexdigest(), size=size)


def _skip(skipped: dict[str, str], path: Path | str, reason: str) -> None:
    """Record an input that cannot be used, with a warning naming it (one policy for all)."""
    logger.warning("skipped %s: %s", path, reason)
    skipped[str(path)] = reason


def _walk(folder: Path, skipped: dict[str, str]) -> list[Path]:
    """Supported files under a folder, recursively, skipping hidden files and folders."""
    found: list[Path] = []

    def unreadable(exc: OSError) -> None:
        _skip(skipped, exc.filename or folder, f"cannot read folder: {exc.strerror or exc}")

    for root, dirnames, filenames in os.walk(folder, onerror=unreadable):
        # Pruning in place stops os.walk from descending into .git, .venv and the like.
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            path = Path(root) / name
            if name.startswith(".") or path.suffix.lower() not in SUPPORTED_SUFFIXES:
                continue
            if path.is_file():
                found.append(path)
            elif path.is_symlink() and not path.exists():
                _skip(skipped, path, f"dangling link to {os.readlink(path)}")
    return found


def discover_sources(
    paths: Sequence[str | Path], skipped: dict[str, str] | None = None
) -> list[SourceFile]:
    """Expand files and folders into the sorted, de-duplicated supported files they hold.

    Files and folders that cannot be read are skipped with a warning and recorded in `skipped`
    (path -> reason); a named path that does not exist, or holds nothing to read, is an error.
    """
    skipped = {} if skipped is None else skipped
    if isinstance(paths, (str, Path)):
        # A bare string is a Sequence too; iterating it would yield one-character paths.
        paths = [paths]
    files: dict[Path, None] = {}
    for given in paths:
        path = Path(given).expanduser()
        if not path.exists():
            raise InputError(f"{given}: no such file or folder")
        if path.is_dir():
            found = _walk(path, skipped)
            if not found:
                raise InputError(
                    f"{given}: no supported files in folder (supported: {supported_list()})"
                )
            files.update((p.resolve(), None) for p in found)
        elif path.suffix.lower() in SUPPORTED_SUFFIXES:
            files[path.resolve()] = None
        else:
            kind = f"'{path.suffix}'" if path.suffix else "without an extension"
            raise InputError(
                f"{given}: unsupported file type {kind} (supported: {supported_list()})"
            )
    sources = []
    for path in sorted(files):
        try:
            sources.append(_hash_file(path))
        except InputError as exc:
            _skip(skipped, path, str(exc).removeprefix(f"{path}: "))
    logger.debug("discovered %d source files in %d paths", len(sources), len(paths))
    return sources
