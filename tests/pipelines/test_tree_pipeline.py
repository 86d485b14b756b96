"""Trees in pipelines: summaries reach the reader, and presets check how the tree was built."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from indexers.builder import build_index
from pipelines.pipeline import Pipeline
from pipelines.rag_index import RagIndex
from rag.errors import ConfigError
from rag.settings import Settings
from rag.types import TreeReason
from tests.conftest import SAMPLE
from tests.rag.openai_stub_server import StubOpenAIServer
from tests.stub_llm import stub_llm_settings

TREE_THEN_LLM = {
    "name": "tree-llm",
    "steps": [
        {"type": "retrieve", "index": "tree", "search": {"mode": "collapsed"}},
        {"type": "generate", "reader": "llm"},
    ],
}


@pytest.fixture(scope="module")
def tree_index(tmp_path_factory: pytest.TempPathFactory, session_cache: Path) -> Path:
    """The sample corpus with a MemWalker tree (extractive summaries)."""
    out = tmp_path_factory.mktemp("tree") / "idx"
    settings = Settings(cache_dir=session_cache, show_progress=False).with_section(
        "tree", builder="memwalker", memwalker_fanout=3
    )
    build_index([SAMPLE], out, settings, kinds=["dense", "bm25", "tree"])
    return out


def test_tree_summaries_reach_the_llm_reader_as_background(
    tree_index: Path, session_cache: Path
) -> None:
    prompts: list[str] = []

    def reply(messages: list[dict[str, Any]]) -> str:
        prompts.append(messages[-1]["content"])
        return json.dumps({"answer": "1889", "citations": [1]})

    with StubOpenAIServer(reply=reply) as server:
        llm = stub_llm_settings(server)
        settings = Settings(cache_dir=session_cache, show_progress=False, llm=llm)
        with RagIndex.open(tree_index, settings) as idx:
            answer = idx.ask(
                "When was the Eiffel Tower finished?", Pipeline.from_config(TREE_THEN_LLM)
            )
            summaries = {n.text for n in idx.resources.index("tree").tree.summary_nodes()}
    assert answer.text == "1889"
    assert isinstance(answer.hits[0].reason, TreeReason)
    background = prompts[0].split("Passages:")[0]
    assert background.startswith("Background (summaries")
    assert any(text in background for text in summaries)
    generate = answer.trace[-1]
    assert generate.inputs["context"] >= 1


def test_a_preset_for_another_tree_builder_names_the_rebuild(
    tree_index: Path, settings: Settings
) -> None:
    with RagIndex.open(tree_index, settings) as idx:
        assert idx.ask("Who designed the Eiffel Tower?", "memwalker", answer=False).hits
        with pytest.raises(ConfigError, match=r"tree.builder=raptor.*--tree-builder raptor"):
            idx.ask("Who designed the Eiffel Tower?", "raptor")


def test_the_manifest_counts_tree_nodes_and_llm_calls(tree_index: Path) -> None:
    from rag.manifest import read_manifest

    manifest = read_manifest(tree_index)
    counts = manifest.counts
    assert counts["tree_nodes"] == counts["passages"] + counts["tree_summary_nodes"]
    assert counts["tree_summaries_made"] == counts["tree_summary_nodes"] > 0
    assert counts["tree_llm_calls"] == 0
    assert manifest.operators["summarize"] == "extractive"
    assert manifest.build["stage_seconds"]["tree:summarize"] >= 0
