"""One app root for the module: a real index (all four kinds), eval results, broken dirs."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import eval as rag_eval
from pipelines.rag_index import build
from pipelines.trace_log import TraceRecord, append_trace
from rag.settings import Settings
from tests.conftest import SAMPLE, write_tiny_dataset


@dataclass
class AppRoot:
    """Paths of what the app is shown: the roots, and what lies in and out of them."""

    root: Path
    index: Path
    plain: Path
    evals: Path
    eval_indexes: Path
    broken: Path
    half: Path
    damaged: Path
    outside: Path

    @property
    def env(self) -> dict[str, str]:
        """The environment `rag app` gives the app: its roots and the session's caches."""
        return {
            "RAG_APP_ROOTS": os.pathsep.join([str(self.root), str(self.eval_indexes)]),
            "RAG_CACHE_DIR": str(self.eval_indexes.parent),
            "RAG_SHOW_PROGRESS": "false",
        }


@pytest.fixture(scope="session")
def app_root(tmp_path_factory: pytest.TempPathFactory, session_cache: Path) -> AppRoot:
    """Build everything once per session: ~15 s on 2 cores with the bundled embedder."""
    base = tmp_path_factory.mktemp("app")
    root = base / "root"
    root.mkdir()
    settings = Settings(cache_dir=session_cache, show_progress=False).with_section(
        "graph", extractor="offline"
    )
    index = root / "demo"
    with build([SAMPLE], index, settings, kinds=["dense", "bm25", "graph", "tree"]) as idx:
        answer = idx.ask("When was the Hubble Space Telescope launched?", "hybrid")
        append_trace(root / "traces.jsonl", TraceRecord.of(answer, "hybrid", str(index)))
    evals = root / "evalout"
    rag_eval.run(write_tiny_dataset(base / "tiny"), ["dense", "bm25"], out=evals, settings=settings)
    # The index the eval built (dense and bm25 only) stands for an index without graph or tree.
    plain = Path(json.loads((evals / "summary.json").read_text())["meta"]["index"])
    (root / "pipelines").mkdir()
    (root / "pipelines" / "top2.yaml").write_text(
        "name: top2\nsteps:\n  - {type: retrieve, index: bm25, k: 2}\n"
    )
    broken = root / "broken"
    broken.mkdir()
    (broken / "manifest.json").write_text("{ not json")
    half = root / "half"  # a passage store without its manifest: a copy cut short
    shutil.copytree(plain, half)
    (half / "manifest.json").unlink()
    damaged = root / "damaged"
    shutil.copytree(plain, damaged)
    (damaged / "dense" / "index.faiss").unlink()
    outside = base / "outside"
    shutil.copytree(plain, outside)
    (root / "escape").symlink_to(outside, target_is_directory=True)
    return AppRoot(
        root=root,
        index=index,
        plain=plain,
        evals=evals,
        eval_indexes=session_cache / "eval-indexes",
        broken=broken,
        half=half,
        damaged=damaged,
        outside=outside,
    )


@pytest.fixture
def app_env(app_root: AppRoot, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppRoot]:
    """The app's environment set for an in-process AppTest."""
    for key, value in app_root.env.items():
        monkeypatch.setenv(key, value)
    yield app_root


#: The word only the outside (secret) index and eval run hold: seeing it in the app is a leak.
SECRET = "QZSECRET"


@dataclass
class Trap:
    """A root holding links out to a secret index and eval run (issue 20's three bypasses)."""

    root: Path
    clean: Path  # an ordinary index dir inside the root
    evil_index: Path  # a real index dir whose tree/ and graph/ are symlinks out of the root
    evil_eval: Path  # an eval folder whose records/ is a symlink out of the root
    ghost: Path  # never created; `.ghost.old` beside it is a symlink to the secret index
    secret_index: Path
    secret_kinds: Path  # outside: an index dir whose tree and graph text carry SECRET
    cache_dir: Path

    @property
    def env(self) -> dict[str, str]:
        """The environment `rag app --root ROOT` gives the app."""
        return {
            "RAG_APP_ROOTS": str(self.root),
            "RAG_CACHE_DIR": str(self.cache_dir),
            "RAG_SHOW_PROGRESS": "false",
        }


def _mark_json_lines(path: Path, field: str) -> None:
    """Prefix one string field of each JSON line with SECRET."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    for row in rows:
        row[field] = f"{SECRET} {row[field]}"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def _secret_kinds(index: Path, out: Path) -> Path:
    """A copy of `index` whose tree and graph text carry SECRET (same shapes, so they load)."""
    shutil.copytree(index, out)
    _mark_json_lines(out / "tree" / "nodes.jsonl", "text")
    graph_file = out / "graph" / "graph.json"
    graph = json.loads(graph_file.read_text(encoding="utf-8"))
    graph["entity_labels"] = [f"{SECRET} {label}" for label in graph["entity_labels"]]
    graph_file.write_text(json.dumps(graph), encoding="utf-8")
    return out


@pytest.fixture(scope="session")
def trap(tmp_path_factory: pytest.TempPathFactory, app_root: AppRoot, session_cache: Path) -> Trap:
    """Outside: a secret index (built) and eval run; inside the root: symlinks to them."""
    base = tmp_path_factory.mktemp("trap").resolve()
    outside, root = base / "outside", base / "root"
    outside.mkdir()
    root.mkdir()
    docs = outside / "docs"
    docs.mkdir()
    (docs / "vault.txt").write_text(
        f"The {SECRET} vault under the old mill opens with the code 7741.\n", encoding="utf-8"
    )
    settings = Settings(cache_dir=session_cache, show_progress=False)
    secret_index = outside / "secret_idx"
    build([docs], secret_index, settings, kinds=["dense", "bm25"]).close()
    kinds = _secret_kinds(app_root.index, outside / "secret_kinds")
    secret_eval = outside / "secret_eval"
    shutil.copytree(app_root.evals / "records", secret_eval / "records")
    for records in (secret_eval / "records").glob("*.jsonl"):
        _mark_json_lines(records, "question")

    clean = root / "clean"
    shutil.copytree(app_root.plain, clean)
    evil_index = root / "evil_idx"
    shutil.copytree(app_root.index, evil_index, ignore=shutil.ignore_patterns("tree", "graph"))
    for kind in ("tree", "graph"):
        (evil_index / kind).symlink_to(kinds / kind, target_is_directory=True)
    evil_eval = root / "evil_eval"
    evil_eval.mkdir()
    shutil.copy(app_root.evals / "summary.json", evil_eval / "summary.json")
    (evil_eval / "records").symlink_to(secret_eval / "records", target_is_directory=True)
    (root / ".ghost.old").symlink_to(secret_index, target_is_directory=True)
    return Trap(
        root=root,
        clean=clean,
        evil_index=evil_index,
        evil_eval=evil_eval,
        ghost=root / "ghost",
        secret_index=secret_index,
        secret_kinds=kinds,
        cache_dir=session_cache,
    )


@pytest.fixture
def trap_env(trap: Trap, monkeypatch: pytest.MonkeyPatch) -> Iterator[Trap]:
    """The trap's environment set for an in-process AppTest."""
    for key, value in trap.env.items():
        monkeypatch.setenv(key, value)
    yield trap
