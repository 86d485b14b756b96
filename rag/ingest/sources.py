"""Find the files to ingest: walk folders, keep supported types, hash each file's bytes."""

from __future__ import annotations

import hashlib
import logging
import os
import stat
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from rag.errors import InputError

logger = logging.getLogger(__name__)

MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
TEXT_SUFFIXES = frozenset({".txt"}) | MARKDOWN_SUFFIXES
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
    #: The folder it was found under (None for a file named on its own): a file without a
    #: title of its own is titled by its path below this folder.
    root: str | None = None

    @property
    def suffix(self) -> str:
        """The lower-cased file extension, with its dot."""
        return Path(self.path).suffix.lower()


def supported_list() -> str:
    """The supported extensions as one readable string, for error messages and help."""
    return ", ".join(sorted(SUPPORTED_SUFFIXES))


_KINDS = {
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}
#: A folder holding both is a memrag index dir: its JSON files are index data, not documents.
_INDEX_MARKERS = ("manifest.json", "passages.sqlite")


def shown(path: Path | str) -> str:
    """A path as text that can be printed and stored: bytes that are not UTF-8 as \\xNN."""
    return os.fsencode(path).decode("utf-8", errors="backslashreplace")


def _valid_name(path: Path | str) -> bool:
    """Whether a path is valid UTF-8 (os.walk hands other bytes over as lone surrogates)."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _not_regular(mode: int) -> str | None:
    """Why a file of this mode cannot be read as a document (reading a FIFO would block)."""
    if stat.S_ISREG(mode):
        return None
    return f"not a regular file ({_KINDS.get(stat.S_IFMT(mode), 'a special file')})"


def _hash_file(path: Path, root: Path | None = None) -> SourceFile:
    """Hash a file's bytes in blocks so large PDFs are not read into memory at once."""
    digest = hashlib.sha256()
    size = 0
    try:
        # Non-blocking, then checked: a FIFO swapped in since discovery must not hang the build.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as handle:
            problem = _not_regular(os.fstat(fd).st_mode)
            if problem:
                raise InputError(f"{path}: {problem}")
            while block := handle.read(_HASH_BLOCK):
                digest.update(block)
                size += len(block)
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    return SourceFile(
        path=str(path), sha256=digest.hexdigest(), size=size, root=str(root) if root else None
    )


def _skip(skipped: dict[str, str], path: Path | str, reason: str) -> None:
    """Record an input that cannot be used, with a warning naming it (one policy for all)."""
    logger.warning("skipped %s: %s", shown(path), reason)
    skipped[shown(path)] = reason


def _is_index_dir(folder: Path, names: list[str], exclude: set[Path]) -> bool:
    """Whether a folder is the index being built, or any other memrag index dir."""
    return folder in exclude or all(name in names for name in _INDEX_MARKERS)


def _keep_dir(root: Path, name: str, skipped: dict[str, str]) -> bool:
    """Whether to descend into a sub-folder: not hidden, named in valid UTF-8, not a link."""
    if name.startswith("."):
        return False
    if not _valid_name(name):
        _skip(skipped, root / name, "folder name is not valid UTF-8; rename it")
        return False
    if (root / name).is_symlink():
        # Following folder links could loop or leave the folder; say so rather than stay silent.
        target = shown(os.readlink(root / name))
        _skip(skipped, root / name, f"link to a folder ({target}), not followed; name it instead")
        return False
    return True


def _file_problem(path: Path) -> str | None:
    """Why a supported-looking file in a folder cannot be read, or None when it can."""
    if not _valid_name(path):
        return "file name is not valid UTF-8; rename it"
    try:
        return _not_regular(path.stat().st_mode)
    except FileNotFoundError:
        return f"dangling link to {shown(os.readlink(path))}" if path.is_symlink() else "vanished"
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}"


def _walk(folder: Path, skipped: dict[str, str], exclude: set[Path]) -> list[Path]:
    """Supported files under a folder, recursively, skipping hidden files and folders.

    Each file is named by its place in the folder (the folder resolved, a file link not
    followed), so a linked file that is removed later counts as gone from this folder.
    """
    found: list[Path] = []

    def unreadable(exc: OSError) -> None:
        where = Path(os.path.realpath(exc.filename)) if exc.filename else folder
        _skip(skipped, where, f"cannot read folder: {exc.strerror or exc}")

    for root_name, dirnames, filenames in os.walk(os.path.realpath(folder), onerror=unreadable):
        root = Path(root_name)
        if _is_index_dir(root, filenames, exclude):
            logger.info("not indexing %s: it is a memrag index dir", shown(root))
            dirnames[:] = []
            continue
        # Pruning in place stops os.walk from descending into .git, .venv and the like.
        dirnames[:] = sorted(d for d in dirnames if _keep_dir(root, d, skipped))
        for name in sorted(filenames):
            path = root / name
            if name.startswith(".") or path.suffix.lower() not in SUPPORTED_SUFFIXES:
                continue
            problem = _file_problem(path)
            if problem:
                _skip(skipped, path, problem)
            else:
                found.append(path)
    return found


def _named_file(given: str | Path, path: Path, skipped: dict[str, str]) -> Path | None:
    """A file named on the command line, resolved; None when it is skipped as unusable."""
    problem = _file_problem(path)
    if problem:
        _skip(skipped, path, problem)
        return None
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        kind = f"'{path.suffix}'" if path.suffix else "without an extension"
        raise InputError(f"{given}: unsupported file type {kind} (supported: {supported_list()})")
    return path.resolve()


def discover_sources(
    paths: Sequence[str | Path],
    skipped: dict[str, str] | None = None,
    exclude: Sequence[Path] = (),
) -> list[SourceFile]:
    """Expand files and folders into the sorted, de-duplicated supported files they hold.

    Files and folders that cannot be read, and files that are not regular (FIFOs, devices), are
    skipped with a warning and recorded in `skipped` (path -> reason); memrag index dirs and the
    folders in `exclude` are not searched. A named path that does not exist, or holds nothing
    to read, is an error.
    """
    skipped = {} if skipped is None else skipped
    if isinstance(paths, (str, Path)):
        # A bare string is a Sequence too; iterating it would yield one-character paths.
        paths = [paths]
    excluded = {Path(os.path.realpath(p)) for p in exclude}
    # Each file with the folder it was first found under (None: named on its own).
    files: dict[Path, Path | None] = {}
    for given in paths:
        path = Path(given).expanduser()
        if not path.exists():
            raise InputError(f"{given}: no such file or folder")
        if path.is_dir():
            found = _walk(path, skipped, excluded)
            if not found and not any(Path(k).is_relative_to(path.resolve()) for k in skipped):
                raise InputError(
                    f"{given}: no supported files in folder (supported: {supported_list()})"
                )
            root = Path(os.path.realpath(path))
            for file in found:
                files.setdefault(file, root)
        elif (named := _named_file(given, path, skipped)) is not None:
            if any(named.is_relative_to(e) for e in excluded):
                raise InputError(f"{given}: lies inside the index dir being built")
            files.setdefault(named, None)
    sources = []
    for path in sorted(files):
        try:
            sources.append(_hash_file(path, files[path]))
        except InputError as exc:
            _skip(skipped, path, str(exc).removeprefix(f"{path}: "))
    logger.debug("discovered %d source files in %d paths", len(sources), len(paths))
    return sources
