"""Index-dir integrity: checksums in the manifest, named errors for damage, links refused."""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from pipelines.rag_index import RagIndex
from rag.atomic import replace_directory
from rag.cli.commands import app
from rag.errors import IndexChangedError, IndexFormatError
from rag.settings import Settings
from tests.conftest import SAMPLE

runner = CliRunner()
HINT = "rag index --rebuild --out"
KINDS = ("dense", "bm25", "graph", "tree")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, session_cache: Path) -> Path:
    """The sample corpus indexed once with every kind."""
    out = tmp_path_factory.mktemp("integrity") / "idx"
    env = {"RAG_CACHE_DIR": str(session_cache), "RAG_SHOW_PROGRESS": "false"}
    args = ["index", str(SAMPLE), "--out", str(out), "--kinds", "dense,bm25,graph,tree"]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture
def copy(built: Path, tmp_path: Path) -> Path:
    """A private copy of the built index to damage."""
    target = tmp_path / "idx"
    shutil.copytree(built, target)
    return target


def _open_part(path: Path, name: str, settings: Settings) -> None:
    """Open the index dir and load the kind that holds file `name` (the store: just open)."""
    with RagIndex.open(path, settings) as index:
        kind = name.split("/")[0]
        if kind in KINDS:
            index.index_dir.indexes[kind]


def _flip(path: Path, count: int = 64) -> None:
    """Invert `count` bytes in the middle of a file."""
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    for i in range(middle, min(middle + count, len(data))):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def _strip_checksums(path: Path) -> None:
    """Make the manifest look like one written before memrag recorded checksums."""
    manifest = json.loads((path / "manifest.json").read_text())
    del manifest["files"]
    (path / "manifest.json").write_text(json.dumps(manifest))


def test_the_manifest_lists_every_file_with_its_size_and_hash(built: Path) -> None:
    files = json.loads((built / "manifest.json").read_text())["files"]
    on_disk = {p.relative_to(built).as_posix() for p in built.rglob("*") if p.is_file()} - {
        "manifest.json"
    }
    assert set(files) == on_disk and "graph/csr_indptr.npy" in files
    for name, recorded in files.items():
        data = (built / name).read_bytes()
        assert recorded == {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


DAMAGEABLE = [
    "dense/index.faiss",
    "bm25/tokens.npy",
    "bm25/bm25s/data.csc.index.npy",
    "graph/entity_vectors.npy",
    "graph/fact_vectors.npy",
    "graph/passage_vectors.npy",
    "graph/csr_indptr.npy",
    "graph/synonymy_pairs.npy",
    "tree/vectors.npy",
    "passages.sqlite",
]


@pytest.mark.parametrize("name", DAMAGEABLE)
def test_flipped_bytes_are_an_error_that_names_the_file(
    copy: Path, settings: Settings, name: str
) -> None:
    _flip(copy / name)
    with pytest.raises(IndexFormatError) as caught:
        _open_part(copy, name, settings)
    message = str(caught.value)
    assert str(copy / name) in message and "SHA-256" in message and HINT in message


@pytest.mark.parametrize("name", [n for n in DAMAGEABLE if n.endswith(".npy")])
def test_a_zero_byte_array_is_an_error_that_names_the_file(
    copy: Path, settings: Settings, name: str
) -> None:
    (copy / name).write_bytes(b"")
    # With checksums or without (a manifest from before them), the file is named.
    for strip in (False, True):
        if strip:
            _strip_checksums(copy)
        with pytest.raises(IndexFormatError, match="empty or truncated") as caught:
            _open_part(copy, name, settings)
        assert str(copy / name) in str(caught.value) and HINT in str(caught.value)


def test_a_zero_byte_array_reaches_the_cli_as_a_named_error(
    copy: Path, env: dict[str, str]
) -> None:
    (copy / "graph" / "synonymy_pairs.npy").write_bytes(b"")
    for args in (
        ["inspect", str(copy), "--graph"],
        ["query", str(copy), "Who?", "-p", "hipporag2"],
    ):
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 1 and "Aborted" not in result.output
        assert "synonymy_pairs.npy" in result.output and HINT in result.output


def test_damaged_graph_arrays_without_checksums_are_caught_by_shape_checks(
    copy: Path, settings: Settings
) -> None:
    _strip_checksums(copy)
    indptr = np.load(copy / "graph" / "csr_indptr.npy")
    np.save(copy / "graph" / "csr_indptr.npy", indptr[::-1].copy())
    with pytest.raises(IndexFormatError, match=r"csr_indptr\.npy is not a non-decreasing"):
        _open_part(copy, "graph/x", settings)
    np.save(copy / "graph" / "csr_indptr.npy", indptr)
    pairs = np.load(copy / "graph" / "synonymy_pairs.npy")
    pairs[:] = 10**6
    np.save(copy / "graph" / "synonymy_pairs.npy", pairs)
    with pytest.raises(IndexFormatError, match=r"synonymy_pairs\.npy names entities outside"):
        _open_part(copy, "graph/x", settings)


def test_a_damaged_store_without_checksums_fails_sqlite_quick_check(
    copy: Path, settings: Settings
) -> None:
    _strip_checksums(copy)
    store = copy / "passages.sqlite"
    data = bytearray(store.read_bytes())
    # Page 2 onwards holds table b-trees; zeroing one page breaks them.
    data[4096 : 2 * 4096] = bytes(4096)
    store.write_bytes(bytes(data))
    with pytest.raises(IndexFormatError, match="damaged passage store") as caught:
        _open_part(copy, "passages.sqlite", settings)
    assert str(store) in str(caught.value) and HINT in str(caught.value)


def test_inspect_checks_every_file(copy: Path, env: dict[str, str]) -> None:
    healthy = runner.invoke(app, ["inspect", str(copy), "--json"], env=env)
    assert healthy.exit_code == 0, healthy.output
    assert "sizes and SHA-256 match" in json.loads(healthy.output)["files_checked"]
    _flip(copy / "passages.sqlite")
    damaged = runner.invoke(app, ["inspect", str(copy)], env=env)
    assert damaged.exit_code == 1 and "passages.sqlite: damaged" in damaged.output
    assert HINT in damaged.output


@pytest.mark.parametrize("kind", ["graph", "tree"])
def test_a_kind_folder_linked_from_elsewhere_is_refused(
    copy: Path, tmp_path: Path, settings: Settings, env: dict[str, str], kind: str
) -> None:
    elsewhere = tmp_path / "elsewhere"
    shutil.move(copy / kind, elsewhere)
    (copy / kind).symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(IndexFormatError, match="is a symbolic link") as caught:
        _open_part(copy, f"{kind}/x", settings)
    assert str(elsewhere) in str(caught.value)
    _strip_checksums(copy)
    with pytest.raises(IndexFormatError, match="must lie inside it"):
        _open_part(copy, f"{kind}/x", settings)
    result = runner.invoke(app, ["inspect", str(copy), f"--{kind}"], env=env)
    assert result.exit_code == 1 and "symbolic link" in result.output


def test_a_linked_file_inside_a_kind_is_refused(copy: Path, settings: Settings) -> None:
    target = copy / "bm25" / "tokens.npy"
    outside = copy.parent / "tokens.npy"
    shutil.move(target, outside)
    target.symlink_to(outside)
    with pytest.raises(IndexFormatError, match=r"tokens\.npy: is a symbolic link"):
        _open_part(copy, "bm25/x", settings)


def test_inspect_and_query_agree_during_an_interrupted_swap(
    copy: Path, env: dict[str, str]
) -> None:
    # A build killed between its two renames leaves only the retired copy.
    retired = copy.with_name(f".{copy.name}.old")
    copy.rename(retired)
    inspected = runner.invoke(app, ["inspect", str(copy), "--json"], env=env)
    assert inspected.exit_code == 0, inspected.output
    assert json.loads(inspected.output)["indexes"] == ["dense", "bm25", "graph", "tree"]
    queried = runner.invoke(app, ["query", str(copy), "Who created Python?", "-p", "bm25"], env=env)
    assert queried.exit_code == 0, queried.output
    shutil.rmtree(retired)
    gone = runner.invoke(app, ["inspect", str(copy)], env=env)
    assert gone.exit_code == 1 and "no such index directory" in gone.output


def _swap_forever(target: Path, versions: list[Path], stop: threading.Event) -> int:
    """Swap `versions` into `target` in turn, through the builder's own swap, until `stop`."""
    swaps = 0
    while not stop.is_set():
        with replace_directory(target) as stage:
            shutil.copytree(versions[swaps % 2], stage, dirs_exist_ok=True)
        swaps += 1
    return swaps


def test_readers_never_mix_two_versions_while_builds_swap(
    built: Path, tmp_path: Path, settings: Settings, env: dict[str, str]
) -> None:
    small = tmp_path / "small"
    args = ["index", str(SAMPLE / "python_language.html"), "--out", str(small), "--kinds", "bm25"]
    assert runner.invoke(app, args, env=env).exit_code == 0
    versions = [built, small]
    with RagIndex.open(built, settings) as a, RagIndex.open(small, settings) as b:
        known = [frozenset(a.index_dir.store.ids()), frozenset(b.index_dir.store.ids())]
    assert known[0] != known[1]
    target = tmp_path / "live"
    shutil.copytree(built, target)
    stop, swaps = threading.Event(), [0]
    writer = threading.Thread(target=lambda: swaps.append(_swap_forever(target, versions, stop)))
    writer.start()
    opened, changed, seen = 0, 0, set()
    deadline = time.monotonic() + 4
    try:
        while time.monotonic() < deadline and opened < 3000:
            try:
                with RagIndex.open(target, settings) as index:
                    bm25 = index.index_dir.indexes["bm25"]
                    held = frozenset(index.index_dir.store.ids())
                    assert held in known and bm25.ids() == held
                    assert index.index_dir.manifest.counts["passages"] == len(held)
                    hits = bm25.search("Python programming language", 5)
                    assert hits and {h.passage_id for h in hits} <= held
                    seen.add(held)
                opened += 1
            except IndexChangedError:
                # The version this reader held was deleted by the next swap before it loaded
                # bm25; the error says to open again, which the loop does.
                changed += 1
    finally:
        stop.set()
        writer.join()
    print(f"{opened} opens, {changed} told to reopen, {swaps[-1]} swaps")
    assert swaps[-1] >= 10 and opened >= 50 and len(seen) == 2
    assert changed <= opened
