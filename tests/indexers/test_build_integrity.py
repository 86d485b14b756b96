"""Builds that meet hostile inputs and a full disk: nothing lost, no hang, no traceback."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from indexers.builder import build_index
from indexers.index_dir import open_index_dir
from rag.errors import DiskFullError
from rag.settings import Settings
from rag.store import PassageStore

SAMPLE = Path(__file__).resolve().parents[2] / "rag" / "data" / "sample"
NO_DAC = [
    "--inh-caps=-dac_override,-dac_read_search",
    "--bounding-set=-dac_override,-dac_read_search",
]


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    """Two small text files and a sub-folder with a third."""
    folder = tmp_path / "docs"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("The Danube flows through ten countries.")
    (folder / "b.txt").write_text("The Rhine rises in the Swiss Alps.")
    (folder / "sub" / "c.txt").write_text("The Loire is the longest river in France.")
    return folder


@pytest.fixture
def no_hang() -> Iterator[None]:
    """Fail a test that blocks (say, reading a FIFO) instead of hanging the suite."""

    def expired(*_: object) -> None:
        raise TimeoutError("the build blocked")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(120)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every file's bytes under a folder, by relative path."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _texts(out: Path, settings: Settings) -> list[str]:
    """The passage texts an index dir holds."""
    return sorted(p.text for p in open_index_dir(out, settings).store.iter_passages())


# Item 4: an unreadable sub-folder keeps its passages.


def test_a_sub_folder_made_unreadable_keeps_its_passages(
    docs: Path, tmp_path: Path, settings: Settings, env: dict[str, str]
) -> None:
    """The real thing: chmod 000, re-indexed by a process without root's permission bypass."""
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv is not installed")
    out = tmp_path / "idx"
    build_index([docs], out, settings)
    before = _texts(out, settings)
    (docs / "sub").chmod(0)
    try:
        probe = subprocess.run(["setpriv", *NO_DAC, "ls", docs / "sub"], capture_output=True)
        if probe.returncode == 0:
            pytest.skip("cannot drop the permission bypass here (setpriv had no effect)")
        command = ["index", str(docs), "--out", str(out), "--json"]
        result = subprocess.run(
            ["setpriv", *NO_DAC, sys.executable, "-m", "rag.cli", *command],
            capture_output=True,
            text=True,
            env={**os.environ, **env},
            timeout=600,
        )
    finally:
        (docs / "sub").chmod(0o755)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["removed"] == 0 and report["added"] == 0
    assert any(p.endswith("sub") for p in report["skipped"]), report["skipped"]
    assert _texts(out, settings) == before


def test_an_unlistable_sub_folder_keeps_its_passages_in_process(
    docs: Path, tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same rule where os.scandir refuses the folder (runs without setpriv too)."""
    out = tmp_path / "idx"
    build_index([docs], out, settings)
    real_scandir = os.scandir

    def refusing(path: object = ".") -> object:
        if str(path).endswith("sub"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)  # type: ignore[call-overload]

    monkeypatch.setattr(os, "scandir", refusing)
    report = build_index([docs], out, settings)
    assert (report.removed, report.passages) == (0, 3)
    monkeypatch.setattr(os, "scandir", real_scandir)
    (docs / "sub" / "c.txt").unlink()
    assert build_index([docs], out, settings).removed == 1  # readable and gone: removed


# Item 5: --rebuild after a damaged manifest keeps graph and tree.


def _drop_indexes(manifest: Path) -> None:
    """A manifest that still reads but has lost its list of kinds."""
    data = json.loads(manifest.read_text())
    del data["indexes"]
    manifest.write_text(json.dumps(data))


@pytest.mark.parametrize(
    "damage",
    [lambda m: m.write_text("{ damaged"), _drop_indexes],
    ids=["unreadable", "indexes-lost"],
)
def test_rebuild_after_a_damaged_manifest_keeps_every_kind(
    docs: Path,
    tmp_path: Path,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
    damage: Callable[[Path], object],
) -> None:
    out = tmp_path / "idx"
    build_index([docs], out, settings, kinds=["dense", "bm25", "graph", "tree"])
    damage(out / "manifest.json")
    report = build_index([docs], out, settings, rebuild=True)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["indexes"] == ["dense", "bm25", "graph", "tree"]
    assert (out / "graph").is_dir() and (out / "tree").is_dir() and report.passages == 3
    assert "rebuilding the kinds its folders hold too: graph, tree" in caplog.text


# Item 6: linked files that vanish, and an index dir inside its own source folder.


def test_a_removed_link_to_a_file_outside_the_folder_loses_its_passages(
    docs: Path, tmp_path: Path, settings: Settings
) -> None:
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("The Vistula flows through Warsaw and Krakow.")
    (docs / "linked.txt").symlink_to(outside)
    out = tmp_path / "idx"
    assert build_index([docs], out, settings).passages == 4
    (docs / "linked.txt").unlink()
    report = build_index([docs], out, settings)
    assert (report.removed, report.passages) == (1, 3)
    assert not any("Vistula" in t for t in _texts(out, settings))


def test_an_index_dir_inside_its_source_folder_does_not_index_itself(
    docs: Path, settings: Settings
) -> None:
    out = docs / "idx"
    counts = [build_index([docs], out, settings, kinds=["dense", "tree"]) for _ in range(3)]
    assert [r.passages for r in counts] == [3, 3, 3]
    assert [r.added for r in counts[1:]] == [0, 0]
    sources = json.loads((out / "manifest.json").read_text())["sources"]
    assert not any(Path(p).is_relative_to(out) for p in sources)
    assert not any(Path(p).is_relative_to(out) for p in counts[-1].skipped)


# Item 10: FIFOs and devices are skipped and listed, never read.


def test_fifos_and_devices_are_skipped_and_listed(
    docs: Path, tmp_path: Path, settings: Settings, no_hang: None
) -> None:
    os.mkfifo(docs / "pipe.txt")
    (docs / "zero.txt").symlink_to("/dev/zero")
    named_fifo = tmp_path / "named.md"
    os.mkfifo(named_fifo)
    report = build_index([docs, named_fifo, "/dev/zero"], tmp_path / "idx", settings)
    reasons = {Path(p).name: r for p, r in report.skipped.items()}
    assert reasons["pipe.txt"] == "not a regular file (a FIFO)"
    assert reasons["named.md"] == "not a regular file (a FIFO)"
    assert reasons["zero.txt"] == "not a regular file (a character device)"
    assert reasons["zero"] == "not a regular file (a character device)"
    assert report.passages == 3


# Item 13: JSON that cannot be parsed, lone surrogates, names that are not UTF-8.


def test_malformed_json_and_bad_names_skip_the_file_not_the_build(
    docs: Path, tmp_path: Path, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    (docs / "huge_int.json").write_text('[{"text": "x", "n": ' + "9" * 5000 + "}]")
    (docs / "deep.json").write_text("[" * 100_000)
    (docs / "lines.jsonl").write_text(
        '{"text": "Kept line."}\n{"text": "y", "n": ' + "9" * 5000 + "}\n"
    )
    (docs / "surrogate.json").write_text(
        '[{"title": "Bad", "text": "lone \\ud800 here"}, {"title": "Good", "text": "Fine text."}]'
    )
    (docs / "only_surrogate.json").write_text('[{"text": "\\udc80"}]')
    with open(os.path.join(os.fsencode(docs), b"caf\xe9.txt"), "wb") as handle:
        handle.write(b"A file whose name is Latin-1.")
    report = build_index([docs], tmp_path / "idx", settings)
    reasons = {Path(p).name: r for p, r in report.skipped.items()}
    assert "Exceeds the limit (4300 digits)" in reasons["huge_int.json"]
    assert "nested too deeply" in reasons["deep.json"]
    assert "lone surrogate \\udc80" in reasons["only_surrogate.json"]
    assert reasons["caf\\xe9.txt"] == "file name is not valid UTF-8; rename it"
    texts = _texts(tmp_path / "idx", settings)
    assert "Kept line." in texts and "Fine text." in texts and report.passages == 5
    assert "record 0: 'text' holds a lone surrogate \\ud800" in caplog.text
    json.loads((tmp_path / "idx" / "manifest.json").read_text())  # still valid JSON


# Item 14: a full disk is one clear error, and the old index stays byte-identical.


def _no_space(*_: object, **__: object) -> None:
    raise OSError(28, "No space left on device")


def _sqlite_full(*_: object, **__: object) -> None:
    raise sqlite3.OperationalError("database or disk is full")


def _faiss_full(*_: object, **__: object) -> None:
    raise RuntimeError("Error in faiss::FileIOWriter: write error: No space left on device")


@pytest.mark.parametrize(
    ("target", "name", "fail", "what"),
    [
        (PassageStore, "put_source", _sqlite_full, "the passage store"),
        ("faiss", "write_index", _faiss_full, "the dense index"),
        (np, "save", _no_space, "the bm25 index"),
    ],
)
def test_disk_full_names_what_was_written_and_keeps_the_old_index(
    docs: Path,
    tmp_path: Path,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    target: object,
    name: str,
    fail: object,
    what: str,
) -> None:
    out = tmp_path / "idx"
    build_index([docs], out, settings)
    before = _snapshot(out)
    (docs / "new.txt").write_text("The Elbe flows into the North Sea at Hamburg.")
    if target == "faiss":
        import faiss

        target = faiss
    monkeypatch.setattr(target, name, fail)
    with pytest.raises(DiskFullError, match=f"disk full while writing {what}") as info:
        build_index([docs], out, settings)
    assert "the previous index is untouched" in str(info.value)
    assert _snapshot(out) == before
    assert not (tmp_path / ".idx.staging").exists()


def test_a_real_full_filesystem_keeps_the_old_index(tmp_path: Path, settings: Settings) -> None:
    """A small tmpfs, filled up between two builds (skipped where mounting is not allowed)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        out = disk / "idx"
        build_index([SAMPLE], out, settings)
        before = _snapshot(out)
        vfs = os.statvfs(disk)
        (disk / "filler").write_bytes(b"\0" * max(0, vfs.f_bavail * vfs.f_frsize - 16 * 1024))
        docs = Path(shutil.copytree(SAMPLE, tmp_path / "docs"))
        (docs / "more.txt").write_text("The Seine flows through Paris. " * 200)
        with pytest.raises(DiskFullError, match=r"disk full while writing .*previous index is"):
            build_index([docs], out, settings)
        assert _snapshot(out) == before
    finally:
        if subprocess.run(["umount", str(disk)], check=False).returncode != 0:
            subprocess.run(["umount", "--lazy", str(disk)], check=False)


def test_a_linked_folder_inside_a_source_folder_is_listed_not_silently_left_out(
    docs: Path, tmp_path: Path, settings: Settings
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "far.txt").write_text("The Vistula flows through Warsaw and Krakow.")
    (docs / "linked").symlink_to(elsewhere, target_is_directory=True)
    report = build_index([docs], tmp_path / "idx", settings)
    assert report.passages == 3  # the link is not followed ...
    (reason,) = [v for k, v in report.skipped.items() if k.endswith("linked")]
    assert "link to a folder" in reason and "not followed" in reason  # ... and it says so
