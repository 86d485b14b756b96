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
