"""The app's path checks and discovery: nothing outside the roots is listed or opened."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.discovery import discover
from app.safety import PathRefused, Roots
from rag.errors import InputError


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, Path]:
    """A root with an index-like dir, an eval dir, a trace file, and links out of it."""
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "idx").mkdir(parents=True)
    (root / "idx" / "manifest.json").write_text("{}")
    (root / "half").mkdir()
    (root / "half" / "passages.sqlite").write_bytes(b"")
    (root / "runs" / "records").mkdir(parents=True)
    (root / "runs" / "records" / "dense.jsonl").write_text("{}\n")
    (root / "runs" / "t.jsonl").write_text('{"format": "memrag.trace/1", "pipeline": "x"}\n')
    (root / "notes.jsonl").write_text('{"other": 1}\n')
    (root / "runs" / "mine.yaml").write_text("name: mine\nsteps:\n  - {type: retrieve}\n")
    (root / "runs" / "other.yaml").write_text("key: value\n")
    (root / ".idx.staging").mkdir()
    (root / ".idx.staging" / "manifest.json").write_text("{}")
    (outside / "secret").mkdir(parents=True)
    (outside / "secret" / "manifest.json").write_text("{}")
    (outside / "t.jsonl").write_text('{"format": "memrag.trace/1"}\n')
    (root / "link").symlink_to(outside / "secret", target_is_directory=True)
    (root / "runs" / "linked.jsonl").symlink_to(outside / "t.jsonl")
    return root, outside


def test_check_resolves_dotdot_and_symlinks_before_judging(tree: tuple[Path, Path]) -> None:
    root, outside = tree
    roots = Roots([root])
    assert roots.check("idx") == (root / "idx").resolve()
    assert roots.check(root / "runs" / ".." / "idx") == (root / "idx").resolve()
    for bad in (
        "../outside",
        str(outside / "secret"),
        "link",
        "link/manifest.json",
        "idx/../../outside",
        "/etc/passwd",
        "idx\x00",
    ):
        with pytest.raises(PathRefused):
            roots.check(bad)
    assert not roots.allows("runs/linked.jsonl")


def test_roots_must_be_folders(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a folder"):
        Roots([tmp_path / "missing"])


def test_discovery_lists_only_what_lies_inside(tree: tuple[Path, Path]) -> None:
    root, _ = tree
    found = discover(Roots([root]))
    assert found.indexes == [(root / "half").resolve(), (root / "idx").resolve()]
    assert found.evals == [(root / "runs").resolve()]
    assert found.traces == [(root / "runs" / "t.jsonl").resolve()]
    assert found.pipelines == [(root / "runs" / "mine.yaml").resolve()]


def test_labels_are_relative_to_their_root(tree: tuple[Path, Path]) -> None:
    root, outside = tree
    assert Roots([root]).label(root.resolve() / "idx") == "idx"
    both = Roots([root, outside])
    assert both.label(outside.resolve() / "secret") == "outside/secret"


def test_check_tree_refuses_any_entry_that_leads_out(tree: tuple[Path, Path]) -> None:
    root, outside = tree
    roots = Roots([root])
    assert roots.check_tree("idx") == (root / "idx").resolve()
    for kind in ("tree", "graph", "deep/er/graph"):
        idx = root / f"idx-{kind.replace('/', '-')}"
        (idx / kind).parent.mkdir(parents=True)
        (idx / "manifest.json").write_text("{}")
        (idx / kind).symlink_to(outside / "secret", target_is_directory=True)
        with pytest.raises(PathRefused, match=kind):
            roots.check_tree(idx)
    with pytest.raises(PathRefused, match=r"runs/linked\.jsonl"):
        roots.check_tree("runs")
    with pytest.raises(InputError, match="not a folder"):
        roots.check_tree("notes.jsonl")


def test_check_tree_follows_links_that_stay_inside(tree: tuple[Path, Path]) -> None:
    root, outside = tree
    roots = Roots([root])
    (root / "idx" / "tree").symlink_to(root / "half", target_is_directory=True)
    (root / "idx" / "loop").symlink_to(root / "idx", target_is_directory=True)
    assert roots.check_tree("idx") == (root / "idx").resolve()
    # A link that stays inside, to a folder holding a link out: judged where it leads.
    (root / "half" / "graph").symlink_to(outside / "secret", target_is_directory=True)
    with pytest.raises(PathRefused, match="half/graph"):
        roots.check_tree("idx")
