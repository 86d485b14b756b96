"""The passage store keeps one copy per content hash and tracks which files hold each passage."""

from pathlib import Path

import pytest

from rag.errors import IndexFormatError
from rag.store import PassageStore
from rag.types import Passage


def _p(text: str, title: str | None = None) -> Passage:
    return Passage.from_text(text, title=title, source="x")


def test_identical_passages_are_stored_once_and_survive_while_any_source_holds_them(
    tmp_path: Path,
) -> None:
    store = PassageStore(tmp_path / "s.sqlite")
    shared, only_a = _p("shared text"), _p("only in a")
    assert store.put_source("a.txt", "h1", [shared, only_a]) == [shared.id, only_a.id]
    assert store.put_source("b.txt", "h2", [shared]) == []
    assert len(store) == 2
    assert sorted(store.sources_of(shared.id)) == ["a.txt", "b.txt"]
    assert store.remove_source("a.txt") == [only_a.id]
    assert shared.id in store and only_a.id not in store
    assert store.remove_source("b.txt") == [shared.id]
    assert len(store) == 0


def test_get_many_keeps_order_and_skips_unknown_ids(tmp_path: Path) -> None:
    store = PassageStore(tmp_path / "s.sqlite")
    ps = [_p(f"text {i}", title=f"t{i}") for i in range(1200)]
    store.put_source("f", "h", ps)
    wanted = [ps[1100].id, "0000000000000000", ps[3].id]
    assert [p.id for p in store.get_many(wanted)] == [ps[1100].id, ps[3].id]
    assert store.get(ps[3].id) == ps[3]
    assert [p.id for p in store.iter_passages()] == [p.id for p in ps]


def test_copy_is_independent_of_the_original(tmp_path: Path) -> None:
    store = PassageStore(tmp_path / "a.sqlite")
    store.put_source("f", "h", [_p("one")])
    copy = store.copy_to(tmp_path / "b.sqlite")
    copy.put_source("g", "h", [_p("two")])
    assert len(store) == 1 and len(copy) == 2


def test_read_only_store_refuses_missing_or_foreign_files(tmp_path: Path) -> None:
    with pytest.raises(IndexFormatError, match="missing"):
        PassageStore(tmp_path / "nope.sqlite", read_only=True)
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(IndexFormatError, match=r"junk\.sqlite"):
        PassageStore(junk, read_only=True)


def test_a_damaged_store_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "passages.sqlite"
    store = PassageStore(path)
    texts = [f"passage number {i} " + "words " * 200 for i in range(200)]
    store.put_source("a.txt", "0" * 64, [Passage.from_text(t, source="a.txt") for t in texts])
    store.close()
    data = bytearray(path.read_bytes())
    # Zero the pages after the schema page: the passages table's b-tree no longer parses.
    data[2 * 4096 :] = bytes(len(data) - 2 * 4096)
    path.write_bytes(bytes(data))
    shown = Path("/shown/passages.sqlite")
    with pytest.raises(IndexFormatError, match=r"/shown/passages\.sqlite: damaged"):
        reader = PassageStore(path, read_only=True, shown=shown)
        list(reader.iter_passages())
