"""IRCoT as a pipeline step: thoughts become queries, scores merge by max, traces nest."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from indexers.builder import build_index
from pipelines.pipeline import Pipeline
from pipelines.rag_index import RagIndex
from pipelines.steps.iterate import merge_by_max, ranked
from rag.errors import ConfigError
from rag.settings import Settings
from rag.trace_outputs import IterateOutput, RoundOutput
from rag.types import DenseReason, Hit, TraceEvent
from tests.rag.openai_stub_server import StubOpenAIServer
from tests.stub_llm import stub_llm_settings

#: A two-hop corpus: the question names the film; the birthplace sits in the director's bio,
#: which shares no word with the question but "born", among many passages that share more.
FILM = "The Quiet Harbour is a 1962 drama film directed by Jane Roe and shot on the northern coast."
BIO = "Jane Roe was born in Lisbon in 1921 and began her career as a stage actress."
CORPUS = [
    ("The Quiet Harbour", FILM),
    ("Jane Roe", BIO),
    ("Marten Vell", "Marten Vell, a film director known for silent westerns, was born in Oslo."),
    ("Ana Brisk", "Ana Brisk is a documentary film director who was born in Porto."),
    ("Paul Dorn", "The director Paul Dorn was born in Vienna and made films about the harbour."),
    (
        "Harbour Lights",
        "Harbour Lights is a 1971 film about fishermen; its director was born in Genoa.",
    ),
    (
        "The Silent Harbour",
        "The Silent Harbour is a 1958 film whose director was born in a village.",
    ),
    ("Quiet Waters", "Quiet Waters is a 1965 drama; its director, Lena Holm, was born in Bergen."),
    (
        "Harbour Master",
        "Harbour Master is a 1949 film directed by Ivo Stal, who was born in Split.",
    ),
    ("Tom Ricks", "Tom Ricks, the director of several harbour dramas, was born in Dublin."),
    ("The Old Harbour", "The Old Harbour is a 1960 film; its director was born in Marseille."),
    ("Birthplaces", "Many film directors of the 1960s were born in port cities."),
    ("Eva Lind", "Eva Lind directed quiet coastal dramas and was born in Gdansk."),
    ("Northern Coast", "The northern coast is known for quiet harbours and old lighthouses."),
    ("Lisbon", "Lisbon is the capital and largest city of Portugal."),
    ("Harbour Nights", "Harbour Nights is a 1966 film; the director was born in Hamburg."),
]
QUESTION = "Where was the director of The Quiet Harbour born?"
THOUGHT = "Jane Roe directed The Quiet Harbour, so I need to know where Jane Roe was born."


def _iterate(max_steps: int = 3, k: int = 10, reasoner: str = "auto") -> Pipeline:
    step = {"type": "iterate", "retrieve": {"index": "dense", "k": k}, "max_steps": max_steps}
    return Pipeline.from_config({"steps": [{**step, "reasoner": reasoner}]})


def _build(folder: Path, cache: Path, kinds: list[str]) -> Path:
    """Index the corpus offline (pattern OpenIE, extractive summaries) into folder/idx."""
    corpus = folder / "corpus.json"
    corpus.write_text(json.dumps([{"title": t, "text": x} for t, x in CORPUS]))
    settings = _settings(cache).with_section("graph", extractor="offline")
    build_index([corpus], folder / "idx", settings, kinds=kinds)
    return folder / "idx"


def _settings(cache: Path, **fields: Any) -> Settings:
    """Settings for these tests; the tree is RAPTOR's, as the ircot-raptor preset requires."""
    settings = Settings(cache_dir=cache, show_progress=False, **fields)
    return settings.with_section("tree", builder="raptor")


@pytest.fixture(scope="module")
def two_hop(tmp_path_factory: pytest.TempPathFactory, session_cache: Path) -> Path:
    """The corpus with the dense and graph indexes."""
    return _build(tmp_path_factory.mktemp("two_hop"), session_cache, ["dense", "bm25", "graph"])


@pytest.fixture(scope="module")
def two_hop_tree(tmp_path_factory: pytest.TempPathFactory, session_cache: Path) -> Path:
    """The corpus with a RAPTOR tree (its own fixture: UMAP's first use compiles for seconds)."""
    return _build(tmp_path_factory.mktemp("two_hop_tree"), session_cache, ["dense", "tree"])


@pytest.fixture
def offline(two_hop: Path, session_cache: Path) -> Iterator[RagIndex]:
    """The corpus opened without an LLM."""
    with RagIndex.open(two_hop, _settings(session_cache)) as idx:
        yield idx


@pytest.fixture
def with_llm(two_hop: Path, session_cache: Path) -> Iterator[Callable[..., RagIndex]]:
    """Open the corpus with an LLM served on loopback by a reply script; bodies are kept."""
    opened: list[Any] = []

    def start(script: Callable[[list[dict[str, Any]]], str]) -> RagIndex:
        server = StubOpenAIServer(reply=script).__enter__()
        llm = stub_llm_settings(server)
        idx = RagIndex.open(two_hop, _settings(session_cache, llm=llm))
        opened.append((server, idx))
        idx.server = server  # type: ignore[attr-defined]
        return idx

    yield start
    for server, idx in opened:
        idx.close()
        server.__exit__(None, None, None)


def _reasoning(answer_after: int | None) -> Callable[[list[dict[str, Any]]], str]:
    """A script: reasoning prompts get THOUGHT, then numbered thoughts, then (after
    `answer_after` thoughts) the answer; reader prompts get a JSON answer."""

    def reply(messages: list[dict[str, Any]]) -> str:
        prompt = messages[-1]["content"]
        if not prompt.rstrip().endswith("Next sentence:"):
            return json.dumps({"answer": "Lisbon", "citations": [1]})
        so_far = prompt.rsplit("Reasoning so far:\n", 1)[1].split("\n\nNext sentence:")[0]
        done = 0 if so_far == "(none yet)" else len(so_far.splitlines())
        if answer_after is not None and done >= answer_after:
            return "So the answer is: Lisbon."
        return f"Thought: {THOUGHT}" if done == 0 else f"Next: Jane Roe lived by harbour {done}."

    return reply


def _iterated(event: TraceEvent) -> IterateOutput:
    assert isinstance(event.outputs, IterateOutput)
    return event.outputs


def _round(event: TraceEvent) -> RoundOutput:
    assert isinstance(event.outputs, RoundOutput)
    return event.outputs


def _titles(idx: RagIndex, hits: list[Hit]) -> list[str | None]:
    return [p.title for p in idx.resources.store.get_many([h.passage_id for h in hits])]


def test_offline_ircot_dense_finds_the_second_hop_plain_dense_misses(offline: RagIndex) -> None:
    plain = Pipeline.from_config({"steps": [{"type": "retrieve", "index": "dense", "k": 10}]})
    assert "Jane Roe" not in _titles(offline, offline.ask(QUESTION, plain).hits)
    answer = offline.ask(QUESTION, "ircot-dense", answer=False)
    assert len(answer.hits) == 10 and _titles(offline, answer.hits)[:3].count("Jane Roe") == 1
    event = answer.trace[0]
    assert event.step == "iterate:dense" and event.inputs["reasoner"] == "bridge"
    assert _iterated(event).thoughts == ["Jane Roe born"]
    assert (_iterated(event).stop_reason, _iterated(event).answer) == ("answer", "Lisbon")
    bio = next(h for h in answer.hits if _titles(offline, [h]) == ["Jane Roe"])
    assert isinstance(bio.reason, DenseReason) and bio.reason.query == "Jane Roe born"


@pytest.mark.parametrize("preset", ["ircot-dense", "ircot-hipporag2"])
def test_the_ircot_presets_run_offline(offline: RagIndex, preset: str) -> None:
    _runs_offline(offline, preset)


def test_the_ircot_raptor_preset_runs_offline(two_hop_tree: Path, session_cache: Path) -> None:
    with RagIndex.open(two_hop_tree, _settings(session_cache)) as idx:
        _runs_offline(idx, "ircot-raptor")


def _runs_offline(idx: RagIndex, preset: str) -> None:
    """The preset answers with the bridge reasoner, which looks the director up."""
    answer = idx.ask(QUESTION, preset)
    assert answer.text and answer.hits
    assert [e.step.split(":")[0] for e in answer.trace if e.parent is None] == [
        "iterate",
        "generate",
    ]
    assert _iterated(answer.trace[0]).thoughts[0].startswith("Jane Roe")


def test_llm_thoughts_become_queries_and_the_answer_stops_the_loop(
    with_llm: Callable[..., RagIndex],
) -> None:
    idx = with_llm(_reasoning(answer_after=1))
    answer = idx.ask(QUESTION, "ircot-dense")
    steps = [(e.id, e.parent, e.step) for e in answer.trace]
    assert steps == [
        (0, None, "iterate:dense"),
        (1, 0, "iteration:0"),
        (2, 0, "iteration:1"),
        (3, 0, "iteration:2"),
        (4, None, "generate"),
    ]
    event, _, first, last, _ = answer.trace
    assert event.inputs["reasoner"] == "llm"
    assert _iterated(event).thoughts == [THOUGHT]
    assert (_iterated(event).stop_reason, _iterated(event).answer) == ("answer", "Lisbon")
    assert (
        len(_iterated(event).rounds) == 2
        and _iterated(event).rounds[0] != _iterated(event).rounds[1]
    )
    assert (_round(first).thought, _round(first).stop) == (THOUGHT, False)
    assert (_round(last).stop, _round(last).stop_reason) == (True, "answer")
    assert (event.llm_calls, first.llm_calls, last.llm_calls) == (2, 1, 1)
    assert any(isinstance(h.reason, DenseReason) and h.reason.query == THOUGHT for h in answer.hits)
    # The second prompt shows the thought so far and the passages its search found.
    bodies = idx.server.bodies  # type: ignore[attr-defined]
    second = bodies[1]["messages"][-1]["content"]
    assert f"Question: {QUESTION}" in second and f"Reasoning so far:\n{THOUGHT}" in second
    assert BIO in second and BIO not in bodies[0]["messages"][-1]["content"]
    assert "In which city was the architect of the Halvard Library born?" in second
    assert answer.text == "Lisbon"
    reader = bodies[-1]["messages"][-1]["content"]
    assert "The answer might be Lisbon." in reader.split("Passages:")[0]  # the hint, as background


def test_the_step_limit_holds(with_llm: Callable[..., RagIndex]) -> None:
    idx = with_llm(_reasoning(answer_after=None))
    answer = idx.ask(QUESTION, _iterate(max_steps=2), answer=False)
    event = answer.trace[0]
    assert [e.step for e in answer.trace[1:]] == ["iteration:0", "iteration:1", "iteration:2"]
    assert _iterated(event).stop_reason == "step limit" and len(_iterated(event).thoughts) == 2
    assert len(_iterated(event).rounds) == 3 and event.llm_calls == 2


def test_an_empty_reply_ends_the_loop_with_its_reason(with_llm: Callable[..., RagIndex]) -> None:
    idx = with_llm(lambda messages: "")
    answer = idx.ask(QUESTION, _iterate(), answer=False)
    assert _iterated(answer.trace[0]).stop_reason == "empty reply"
    assert _iterated(answer.trace[0]).thoughts == [] and len(answer.trace) == 3


def test_scores_merge_by_max_keeping_the_reason_of_the_max() -> None:
    merged: dict[str, Hit] = {}
    merge_by_max(merged, [Hit(passage_id="a", score=0.9, retriever="q"), Hit(passage_id="b", score=0.5, retriever="q")])  # fmt: skip  # noqa: E501
    merge_by_max(merged, [Hit(passage_id="b", score=0.95, retriever="t"), Hit(passage_id="a", score=0.1, retriever="t")])  # fmt: skip  # noqa: E501
    assert [(h.passage_id, h.score, h.retriever) for h in ranked(merged)] == [
        ("b", 0.95, "t"),
        ("a", 0.9, "q"),
    ]


def test_reasoner_llm_without_an_llm_is_a_config_error(offline: RagIndex) -> None:
    with pytest.raises(ConfigError, match="reasoner 'llm' needs an LLM"):
        offline.ask(QUESTION, _iterate(reasoner="llm"))


def test_the_step_round_trips_through_yaml_config() -> None:
    config = _iterate(max_steps=2).to_config()
    assert config["steps"][0] == {
        "type": "iterate",
        "retrieve": {"k": 10},
        "max_steps": 2,
    }
    assert re.search("iterate", Pipeline.from_config(config).steps[0].label)


@pytest.mark.parametrize("preset", ["ircot-hipporag2", "ircot-raptor"])
def test_the_ircot_presets_run_with_an_llm(
    preset: str, two_hop: Path, two_hop_tree: Path, session_cache: Path
) -> None:
    with StubOpenAIServer(reply=_reasoning(answer_after=1)) as server:
        llm = stub_llm_settings(server)
        where = two_hop_tree if preset == "ircot-raptor" else two_hop
        with RagIndex.open(where, _settings(session_cache, llm=llm)) as idx:
            answer = idx.ask(QUESTION, preset)
    event = answer.trace[0]
    assert event.inputs["reasoner"] == "llm" and _iterated(event).thoughts == [THOUGHT]
    assert _iterated(event).stop_reason == "answer" and answer.text == "Lisbon"


def test_scaled_merge_compares_rounds_by_their_own_best() -> None:
    from pipelines.steps.iterate import merge_by_max, scaled_to_best
    from rag.types import Hit

    question = [Hit(passage_id="a", score=0.02, retriever="graph")]
    thought = [Hit(passage_id="b", score=0.5, retriever="graph"),
               Hit(passage_id="c", score=0.25, retriever="graph")]  # fmt: skip
    raw: dict[str, Hit] = {}
    for hits in (question, thought):
        merge_by_max(raw, hits)
    assert max(raw.values(), key=lambda h: h.score).passage_id == "b"
    scaled: dict[str, Hit] = {}
    for hits in (question, thought):
        merge_by_max(scaled, scaled_to_best(hits))
    assert {pid: h.score for pid, h in scaled.items()} == {"a": 1.0, "b": 1.0, "c": 0.5}
