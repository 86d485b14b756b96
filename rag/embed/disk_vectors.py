"""Embeddings streamed to memory-mapped .npy files, so a large build never holds them all in RAM.

A million 384-d float32 vectors take 1.5 GB; held as a list of rows and then stacked, twice
that. Written batch by batch into a .npy file and mapped read-only, they cost page cache the
kernel can drop, and an index that copies them in batches (the dense kind does) adds only
its own size to the build's peak memory.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import numpy as np

from rag.embed.base import Embedder

logger = logging.getLogger(__name__)

#: Texts per embedder call: bounds the in-memory vectors of a call (25 MB at 384-d).
BATCH = 16_384


def embed_to_npy(
    embedder: Embedder,
    texts: Sequence[str],
    path: Path,
    *,
    batch_size: int = BATCH,
    show_progress: bool = False,
) -> np.memmap:
    """Embed texts in batches into a (len(texts), dim) float32 .npy at `path`; map it read-only.

    The file is written beside `path` and renamed into place, so an interrupted run leaves no
    partial file under that name (a cached embedder makes the rerun cheap).
    """
    from tqdm.auto import tqdm

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    out = np.lib.format.open_memmap(
        partial, mode="w+", dtype=np.float32, shape=(len(texts), embedder.dim)
    )
    try:
        with tqdm(total=len(texts), desc="embed", unit="text", disable=not show_progress) as bar:
            for start in range(0, len(texts), batch_size):
                batch = texts[start : start + batch_size]
                out[start : start + len(batch)] = embedder.embed(list(batch))
                bar.update(len(batch))
        out.flush()
    except BaseException:
        del out
        partial.unlink(missing_ok=True)
        raise
    del out
    os.replace(partial, path)
    return np.load(path, mmap_mode="r")


class PassageVectors:
    """Each passage's vector, embedded once per build into .npy files in a temporary folder.

    `of(ids, texts)` embeds the ids not seen yet and returns the vectors of all `ids`: the
    mapped file itself when the ids are one earlier call's rows in order (a fresh build: no
    copy), else a stacked in-memory copy (updates, which are small). Use as a context
    manager; leaving it deletes the files.
    """

    def __init__(self, embedder: Embedder, parent: Path, batch_size: int = BATCH) -> None:
        """Keep files in a new temporary folder under `parent` (the cache dir, say)."""
        self.embedder = embedder
        self.batch_size = batch_size
        parent.mkdir(parents=True, exist_ok=True)
        self._folder = Path(tempfile.mkdtemp(prefix="build-vectors-", dir=parent))
        self._files: list[np.memmap] = []
        self._rows: dict[str, tuple[int, int]] = {}

    def of(
        self, ids: Sequence[str], texts: Sequence[str], *, show_progress: bool = False
    ) -> np.ndarray:
        """The vectors of `ids` (embedding `texts` of those not held yet), in order."""
        if len(ids) != len(texts):
            raise ValueError(f"{len(ids)} ids for {len(texts)} texts")
        missing = {pid: text for pid, text in zip(ids, texts, strict=True) if pid not in self._rows}
        if missing:
            number = len(self._files)
            path = self._folder / f"vectors-{number}.npy"
            mapped = embed_to_npy(
                self.embedder,
                list(missing.values()),
                path,
                batch_size=self.batch_size,
                show_progress=show_progress,
            )
            self._files.append(mapped)
            self._rows.update((pid, (number, row)) for row, pid in enumerate(missing))
        return self._gather(ids)

    def _gather(self, ids: Sequence[str]) -> np.ndarray:
        """The mapped file when `ids` are exactly its rows in order, else a stacked copy."""
        if not ids:
            return np.empty((0, self.embedder.dim), dtype=np.float32)
        number, first = self._rows[ids[0]]
        whole = self._files[number]
        same = (self._rows[pid] == (number, row) for row, pid in enumerate(ids))
        if first == 0 and len(ids) == len(whole) and all(same):
            return whole
        return np.stack([self._files[f][r] for f, r in map(self._rows.__getitem__, ids)])

    def close(self) -> None:
        """Unmap and delete the files."""
        self._files.clear()
        self._rows.clear()
        shutil.rmtree(self._folder, ignore_errors=True)

    def __enter__(self) -> PassageVectors:
        """Use as a context manager."""
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        """Delete the files."""
        self.close()
