"""SQLite passage store: passages by content-hash id, and which source files contain them."""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from rag.errors import IndexFormatError
from rag.types import Passage

_SCHEMA = """
CREATE TABLE IF NOT EXISTS passages (
    id TEXT PRIMARY KEY, text TEXT NOT NULL, title TEXT, source TEXT,
    start INTEGER, "end" INTEGER, metadata TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS sources (path TEXT PRIMARY KEY, sha256 TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS passage_sources (
    passage_id TEXT NOT NULL, source TEXT NOT NULL, PRIMARY KEY (passage_id, source)
);
CREATE INDEX IF NOT EXISTS passage_sources_by_source ON passage_sources (source);
"""
_COLUMNS = 'id, text, title, source, start, "end", metadata'
F = TypeVar("F", bound=Callable[..., Any])


def _reads(method: F) -> F:
    """Report a damaged database met while reading as an IndexFormatError naming the file."""

    @functools.wraps(method)
    def wrapper(self: PassageStore, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as exc:
            raise IndexFormatError(f"{self.shown}: damaged passage store ({exc})") from exc

    return wrapper  # type: ignore[return-value]


def _row_to_passage(row: tuple) -> Passage:
    """Turn a passages row back into a Passage."""
    pid, text, title, source, start, end, metadata = row
    return Passage(
        id=pid,
        text=text,
        title=title,
        source=source or "",
        start=start,
        end=end,
        metadata=json.loads(metadata),
    )


class PassageStore:
    """Passages stored once per content hash; a passage lives while any source file holds it."""

    FILENAME = "passages.sqlite"

    def __init__(
        self, path: str | Path, read_only: bool = False, shown: Path | None = None
    ) -> None:
        """Open the store at `path`, creating it unless `read_only`; errors name `shown`
        (default `path`)."""
        self.path = Path(path)
        self.shown = shown or self.path
        if read_only and not self.path.is_file():
            raise IndexFormatError(f"{self.shown}: passage store is missing")
        try:
            if read_only:
                # absolute(), not resolve(): a path through a held folder (/proc/self/fd/N/...)
                # must stay one, or a swap could hand SQLite the next version's file.
                uri = f"file:{quote(str(self.path.absolute()))}?mode=ro"
                self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
                self._db.execute("SELECT COUNT(*) FROM passages")
            else:
                self._db = sqlite3.connect(self.path, check_same_thread=False)
                self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise IndexFormatError(f"{self.shown}: damaged or not a passage store ({exc})") from exc

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    @_reads
    def quick_check(self) -> None:
        """Raise IndexFormatError unless SQLite's quick_check finds the file sound.

        For stores whose manifest records no checksum; it reads every page (about as long as
        hashing the file) but skips the index-content checks of a full integrity_check.
        """
        problems = [row[0] for row in self._db.execute("PRAGMA quick_check(5)")]
        if problems != ["ok"]:
            raise IndexFormatError(f"{self.shown}: damaged passage store ({'; '.join(problems)})")

    @_reads
    def __len__(self) -> int:
        """Number of distinct passages."""
        return int(self._db.execute("SELECT COUNT(*) FROM passages").fetchone()[0])

    @_reads
    def __contains__(self, pid: object) -> bool:
        """Whether a passage id is stored."""
        return self._db.execute("SELECT 1 FROM passages WHERE id=?", (pid,)).fetchone() is not None

    @_reads
    def get(self, pid: str) -> Passage | None:
        """Return one passage, or None when the id is unknown."""
        row = self._db.execute(f"SELECT {_COLUMNS} FROM passages WHERE id=?", (pid,)).fetchone()
        return _row_to_passage(row) if row else None

    @_reads
    def get_many(self, ids: Sequence[str]) -> list[Passage]:
        """Return the passages for `ids` in the same order, skipping unknown ids."""
        found: dict[str, Passage] = {}
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM passages WHERE id IN ({marks})", chunk)
            found.update((row[0], _row_to_passage(row)) for row in rows)
        return [found[pid] for pid in ids if pid in found]

    @_reads
    def ids(self) -> list[str]:
        """All passage ids, in insertion order."""
        return [row[0] for row in self._db.execute("SELECT id FROM passages ORDER BY rowid")]

    def iter_passages(self, batch_size: int = 1000) -> Iterator[Passage]:
        """Stream every passage in insertion order."""
        try:
            cursor = self._db.execute(f"SELECT {_COLUMNS} FROM passages ORDER BY rowid")
            while rows := cursor.fetchmany(batch_size):
                yield from (_row_to_passage(row) for row in rows)
        except sqlite3.DatabaseError as exc:
            raise IndexFormatError(f"{self.shown}: damaged passage store ({exc})") from exc

    @_reads
    def sources(self) -> dict[str, str]:
        """Source file path -> SHA-256 of the bytes it was indexed from."""
        return dict(self._db.execute("SELECT path, sha256 FROM sources ORDER BY path"))

    @_reads
    def sources_of(self, pid: str) -> list[str]:
        """The source files that contain passage `pid`."""
        rows = self._db.execute("SELECT source FROM passage_sources WHERE passage_id=?", (pid,))
        return [row[0] for row in rows]

    def put_source(self, path: str, sha256: str, passages: Iterable[Passage]) -> list[str]:
        """Record `passages` as the content of source `path`; return ids new to the store."""
        new_ids: list[str] = []
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO sources VALUES (?, ?)", (path, sha256))
            for p in passages:
                cur = self._db.execute(
                    f"INSERT OR IGNORE INTO passages ({_COLUMNS}) VALUES (?,?,?,?,?,?,?)",
                    (p.id, p.text, p.title, p.source, p.start, p.end, json.dumps(p.metadata)),
                )
                if cur.rowcount:
                    new_ids.append(p.id)
                self._db.execute(
                    "INSERT OR IGNORE INTO passage_sources VALUES (?, ?)", (p.id, path)
                )
        return new_ids

    def remove_source(self, path: str) -> list[str]:
        """Forget source `path`; delete and return the ids no other source still holds."""
        with self._db:
            held = [
                row[0]
                for row in self._db.execute(
                    "SELECT passage_id FROM passage_sources WHERE source=?", (path,)
                )
            ]
            self._db.execute("DELETE FROM sources WHERE path=?", (path,))
            self._db.execute("DELETE FROM passage_sources WHERE source=?", (path,))
            orphans = [
                pid
                for pid in held
                if self._db.execute(
                    "SELECT 1 FROM passage_sources WHERE passage_id=?", (pid,)
                ).fetchone()
                is None
            ]
            self._db.executemany("DELETE FROM passages WHERE id=?", [(pid,) for pid in orphans])
        return orphans

    def copy_to(self, path: str | Path) -> PassageStore:
        """Write a consistent copy of the store to `path` and open it."""
        target = sqlite3.connect(path)
        with target:
            self._db.backup(target)
        target.close()
        return PassageStore(path)
