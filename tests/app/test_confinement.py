"""Issue 20: links planted inside the root never lead the app to what lies outside it.

Each case is the issue's own: a symlinked `tree/` and `graph/` in an index dir, a symlinked
`records/` in an eval folder, and a retired `.NAME.old` copy that is a symlink. Each page must
show a refusal and never the outside text (SECRET, held only outside the root).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import app.resources as resources
from app.eval_results import read_eval
from app.safety import PathRefused, Roots
from rag.errors import InputError
from tests.app.conftest import SECRET, AppRoot, Trap
from tests.app.test_pages import ask, errors, start, texts

REFUSED = "outside the app's roots"


def shown(at: AppTest) -> str:
    """Everything the app rendered, as its protobufs: text, tables, charts, labels, inputs."""
    parts, todo = [], [at.main, at.sidebar]
    while todo:
        node = todo.pop()
        parts.append(str(getattr(node, "proto", "")))
        todo.extend(getattr(node, "children", {}).values())
    return "\n".join(parts)


def test_symlinked_tree_and_graph_folders_are_refused(trap_env: Trap) -> None:
    at = start(trap_env.evil_index, "tree")
    assert not at.exception
    assert REFUSED in errors(at) and "evil_idx/" in errors(at)
    assert SECRET not in shown(at) and "Outline" not in shown(at)
    at.switch_page("views/graph.py").run()
    assert REFUSED in errors(at) and "evil_idx/" in errors(at)
    assert SECRET not in shown(at) and "synonymy edges" not in shown(at)


def test_tree_and_graph_links_planted_after_opening_are_refused(
    trap: Trap, app_root: AppRoot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "root"
    index = root / "idx"
    shutil.copytree(app_root.index, index)
    for key, value in {**trap.env, "RAG_APP_ROOTS": str(root)}.items():
        monkeypatch.setenv(key, value)
    at = start(index, "tree")
    assert "Outline" in shown(at) and not at.error
    # The tree and graph are already in the app's caches: the check must not rely on them.
    for kind in ("tree", "graph"):
        shutil.rmtree(index / kind)
        (index / kind).symlink_to(trap.secret_kinds / kind, target_is_directory=True)
    at.run()
    assert REFUSED in errors(at) and SECRET not in shown(at)
    at.switch_page("views/graph.py").run()
    assert REFUSED in errors(at) and SECRET not in shown(at)


def test_symlinked_records_folder_is_refused(trap_env: Trap) -> None:
    at = start(None, "evaluation")
    assert not at.exception
    assert at.selectbox(key="eval_folder").value == trap_env.evil_eval
    assert REFUSED in errors(at) and "evil_eval/records" in errors(at)
    assert SECRET not in shown(at)


def test_read_eval_checks_each_record_file(trap: Trap, tmp_path: Path) -> None:
    run = tmp_path / "run"
    (run / "records").mkdir(parents=True)
    outside = next((trap.evil_eval / "records").glob("*.jsonl")).resolve()
    (run / "records" / "dense.jsonl").symlink_to(outside)
    with pytest.raises(PathRefused, match=r"dense\.jsonl"):
        read_eval(run, Roots([run]))
    (run / "records" / "dense.jsonl").unlink()
    shutil.copy(outside, run / "records" / "dense.jsonl")  # the same file inside: read
    assert SECRET in next(iter(read_eval(run, Roots([run])).records.values()))["q1"].question


def test_retired_copy_symlink_typed_as_its_name_is_refused(trap_env: Trap) -> None:
    assert not trap_env.ghost.exists()
    at = start(trap_env.clean)
    at.text_input(key="open_path").input("ghost").run()
    assert REFUSED in errors(at) and ".ghost.old" in errors(at)
    assert "added to the index choices" not in texts(at)
    # Named some other way (here: a session that chose it earlier) it is still not opened.
    at.text_input(key="open_path").input("").run()
    at.session_state["extra_indexes"] = [str(trap_env.ghost)]
    at.run()
    at.sidebar.selectbox(key="index_dir").set_value(trap_env.ghost).run()
    assert REFUSED in errors(at) and ".ghost.old" in errors(at)
    assert SECRET not in shown(at) and "Search passages" not in shown(at)
    at.switch_page("views/ask.py").run()
    ask(at, "dense", "Where is the vault under the old mill?")
    assert REFUSED in errors(at) and SECRET not in shown(at)


def test_retired_copy_is_judged_where_it_leads(
    trap: Trap, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = (tmp_path / "root").resolve()
    shutil.copytree(trap.clean, root / ".mid.old")  # a swap caught between its two renames
    (root / ".out.old").symlink_to(trap.secret_index, target_is_directory=True)
    monkeypatch.setenv("RAG_APP_ROOTS", str(root))
    assert resources.checked_dir("mid") == root / "mid"
    assert resources.readable_dir("mid") == root / ".mid.old"
    with pytest.raises(PathRefused, match=r"\.out\.old"):
        resources.checked_dir("out")
    with pytest.raises(InputError, match="not a folder"):
        resources.checked_dir("nothing")
