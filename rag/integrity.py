"""Checksums of an index dir's files: recorded in the manifest at save, checked on open.

Every file an index dir holds (bar the manifest itself) is listed with its size and SHA-256.
SHA-256 rather than BLAKE2b: with the SHA extensions of current x86 and ARM CPUs hashlib's
SHA-256 runs at ~1 GB/s against BLAKE2b's ~0.6 GB/s, and the manifest already uses it for
sources. A reader compares sizes first (free), then hashes the files of what it opens.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from rag.errors import IndexFormatError

MANIFEST = "manifest.json"


class FileSum(BaseModel):
    """The size and SHA-256 of one file of an index dir."""

    size: int
    sha256: str


def sha256_of(path: Path) -> str:
    """The SHA-256 hex digest of a file's bytes."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def file_sums(directory: Path) -> dict[str, FileSum]:
    """Size and SHA-256 of every file under `directory` but the manifest, by POSIX path."""
    sums: dict[str, FileSum] = {}
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        name = path.relative_to(directory).as_posix()
        if name != MANIFEST:
            sums[name] = FileSum(size=path.stat().st_size, sha256=sha256_of(path))
    return sums


def refuse_links(root: Path, names: list[str]) -> None:
    """Raise when a path below `root` (or one of its folders) named in `names` is a symlink.

    An index dir is built in one place and never holds links, so a link is either damage or
    someone pointing a kind at files outside the dir; both are refused.
    """
    for name in names:
        path = root
        for part in Path(name).parts:
            path = path / part
            if path.is_symlink():
                target = os.readlink(path)
                raise IndexFormatError(
                    f"{path}: is a symbolic link (to {target}); an index dir's files must lie "
                    "inside it, not be linked from elsewhere"
                )


def verify_files(root: Path, sums: Mapping[str, FileSum], prefix: str = "") -> int:
    """Check the files of `sums` whose name starts with `prefix` against their size and hash.

    Returns the bytes hashed. Raises IndexFormatError naming the first file that is a link,
    missing, of another size or another hash.
    """
    names = [name for name in sums if name.startswith(prefix)]
    refuse_links(root, names)
    for name in names:
        path, expected = root / name, sums[name]
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise IndexFormatError(f"{path}: is missing (the manifest lists it)") from None
        if size != expected.size:
            raise IndexFormatError(
                f"{path}: is {size} bytes, the manifest records {expected.size} "
                "(truncated or damaged)"
            )
    for name in names:
        path = root / name
        try:
            digest = sha256_of(path)
        except OSError as exc:
            raise IndexFormatError(f"{path}: unreadable ({exc})") from exc
        if digest != sums[name].sha256:
            raise IndexFormatError(f"{path}: damaged (its SHA-256 differs from the manifest's)")
    return sum(sums[name].size for name in names)


def load_array(path: Path, ndim: int | None = None) -> np.ndarray:
    """np.load of one array, a damaged or empty file being an IndexFormatError naming it."""
    try:
        array = np.load(path, allow_pickle=False)
    except EOFError:
        # An empty file: numpy's EOFError would otherwise reach the CLI as a bare 'Aborted.'.
        raise IndexFormatError(f"{path}: empty or truncated array file") from None
    except (OSError, ValueError) as exc:
        raise IndexFormatError(f"{path}: unreadable array ({exc})") from exc
    if not isinstance(array, np.ndarray) or (ndim is not None and array.ndim != ndim):
        shape = getattr(array, "shape", "?")
        raise IndexFormatError(f"{path}: expected a {ndim}-D array, found shape {shape}")
    return array


def check_folder(directory: Path) -> None:
    """Raise when `directory` or anything below it is a symlink (see `refuse_links`), or a
    .npy file below it is empty; both checks hold whether or not checksums were recorded."""
    if directory.is_symlink():
        refuse_links(directory.parent, [directory.name])
    for folder, dirs, files in os.walk(directory):
        names = [Path(folder, name).relative_to(directory).as_posix() for name in dirs + files]
        refuse_links(directory, names)
        for name in files:
            path = Path(folder, name)
            # A saved array always has a header; numpy reads an empty one as EOFError, which
            # the CLI would show as a bare 'Aborted.'.
            if name.endswith(".npy") and path.stat().st_size == 0:
                raise IndexFormatError(f"{path}: empty or truncated array file (0 bytes)")
