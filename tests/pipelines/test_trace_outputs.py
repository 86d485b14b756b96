"""Typed trace outputs: every step's output model, their JSON shape, and old trace lines."""

from __future__ import annotations

import json
import typing
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.explain import clue_rows, graph_searches, iteration_rounds, reason_text
from eval.wrapped_steps import clue_drafters, trace_scores
from indexers.base import typed_details
from pipelines.trace_log import TraceRecord, append_trace, read_traces
from rag.search_details import GraphSearchDetails, TreeContext, TreeSearchDetails
from rag.trace_outputs import (
    CluesOutput,
    ClueTrace,
    FuseOutput,
    GenerateOutput,
    GroupOutput,
    IterateOutput,
    OtherOutput,
    RerankMove,
    RerankOutput,
    RetrieveOutput,
    RoundOutput,
    StepOutput,
)
from rag.types import (
    Answer,
    BM25Reason,
    DenseReason,
    FusionReason,
    GraphReason,
    Hit,
    HitReason,
    RerankReason,
    TraceEvent,
    TreeReason,
)

GRAPH = GraphSearchDetails(method="hipporag2", seeds=[("Jane Roe", 1.0)], facts=[("f", 0.5)])
#: One of each step output, as the steps make them.
OUTPUTS: list[StepOutput] = [
    RetrieveOutput(hits=[("a", 0.9)], search=GRAPH),
    FuseOutput(hits=[("a", 0.02)]),
    GroupOutput(),
    CluesOutput(
        memory="none (offline)",
        drafters=["feedback"],
        clues=[
            ClueTrace(text="Jane Roe born", kind="sub_question", drafter="feedback", hits=["b"])
        ],
        question_hits=["a"],
        hits=[("b", 0.03)],
    ),
    RoundOutput(round=1, query="Jane Roe born", thought="Jane Roe born", top=["b"], new=["b"]),
    IterateOutput(rounds=[["a"], ["a", "b"]], thoughts=["Jane Roe born"], stop_reason="answer"),
    GenerateOutput(answer="Lisbon", citations=["b"]),
    RerankOutput(
        scorer="llm:qwen2.5-0.5b",
        top_n=2,
        hits=[("b", 0.9), ("a", 0.2)],
        moves=[RerankMove(passage_id="b", score=0.9, before=2, after=1)],
    ),
    OtherOutput(),
]


def test_every_step_output_is_covered_and_round_trips_through_json() -> None:
    members = typing.get_args(typing.get_args(StepOutput)[0])
    assert {type(o) for o in OUTPUTS} == set(members)
    for output in OUTPUTS:
        event = TraceEvent(step=output.type, outputs=output)
        again = TraceEvent.model_validate_json(event.model_dump_json())
        assert again.outputs == output and type(again.outputs) is type(output)


def test_retrieve_details_are_written_beside_the_hits_as_before() -> None:
    data = json.loads(RetrieveOutput(hits=[("a", 0.9)], search=GRAPH).model_dump_json())
    assert (
        data["kind"] == "graph" and data["method"] == "hipporag2" and data["hits"] == [["a", 0.9]]
    )
    assert data["seeds"] == [["Jane Roe", 1.0]] and "search" not in data


def test_a_misnamed_detail_or_output_field_is_an_error_not_a_silent_miss() -> None:
    with pytest.raises(ValidationError):
        typed_details("graph", {"method": "hipporag2", "seed": []})
    with pytest.raises(ValidationError):
        FuseOutput.model_validate({"hits": [], "hit": []})
    assert typed_details("dense", {}) is None


#: A line `rag query --trace-out` wrote before outputs were typed (memrag.trace/1, untagged).
OLD_LINE = {
    "format": "memrag.trace/1",
    "pipeline": "old",
    "question": "Where was the director of Zorblax born?",
    "answer": "Lisbon",
    "hits": [{"passage_id": "b", "score": 0.5, "retriever": "dense"}],
    "events": [
        {"id": 0, "step": "iterate:dense", "inputs": {"index": "dense"},
         "outputs": {"rounds": [["a"], ["a", "b"]], "thoughts": ["Jane Roe born"],
                     "stop_reason": "answer", "answer": "Lisbon", "hits": [["b", 0.5]]}},
        {"id": 1, "parent": 0, "step": "iteration:0", "inputs": {"query": "Where?"},
         "outputs": {"top": ["a"]}},
        {"id": 2, "parent": 0, "step": "iteration:1", "inputs": {"passages": ["a"]},
         "outputs": {"thought": "Jane Roe born", "stop": False, "answer": None,
                     "reasoner": "bridge", "chain": ["x"], "top": ["a", "b"], "new": ["b"]}},
        {"id": 3, "step": "retrieve:graph:hipporag2", "inputs": {},
         "outputs": {"method": "hipporag2", "seeds": [["Jane Roe", 1.0]], "facts": [],
                     "fallback": None, "hits": [["b", 0.1]]}},
        {"id": 4, "step": "retrieve:tree", "inputs": {},
         "outputs": {"mode": "collapsed", "hits": [["b", 0.1]], "context": [
             {"node": "s1", "level": 1, "similarity": 0.4, "text": "A summary."}]}},
        {"id": 5, "step": "draft_clues:dense", "inputs": {},
         "outputs": {"memory": "none (offline)", "question_hits": ["a"], "hits": [["b", 0.1]],
                     "clues": [{"text": "Jane Roe born", "kind": "sub_question",
                                "drafter": "feedback", "hits": ["b"]}]}},
        {"id": 6, "step": "generate", "inputs": {},
         "outputs": {"answer": "Lisbon", "citations": ["b"], "parse": "json"}},
        {"id": 7, "step": "my_step", "inputs": {}, "outputs": {"anything": 1}},
    ],
}  # fmt: skip


def test_an_old_trace_line_reads_into_typed_outputs(tmp_path: Path) -> None:
    path = tmp_path / "old.jsonl"
    path.write_text(json.dumps(OLD_LINE) + "\n")
    (record,) = read_traces(path)
    iterate, round0, round1, graph, tree, clues, generate, other = record.events
    assert isinstance(iterate.outputs, IterateOutput) and iterate.outputs.thoughts == [
        "Jane Roe born"
    ]
    assert isinstance(round0.outputs, RoundOutput) and round0.outputs.query == "Where?"
    assert isinstance(round1.outputs, RoundOutput) and round1.outputs.round == 1
    assert round1.outputs.model_extra == {"chain": ["x"]}  # a reasoner's own details are kept
    assert isinstance(graph.outputs, RetrieveOutput) and graph.outputs.search == GraphSearchDetails(
        method="hipporag2", seeds=[("Jane Roe", 1.0)]
    )
    assert isinstance(tree.outputs, RetrieveOutput) and tree.outputs.search == TreeSearchDetails(
        mode="collapsed",
        context=[TreeContext(node="s1", level=1, similarity=0.4, text="A summary.")],
    )
    assert isinstance(clues.outputs, CluesOutput) and clues.outputs.clues[0].hits == ["b"]
    assert isinstance(generate.outputs, GenerateOutput) and generate.outputs.citations == ["b"]
    assert isinstance(other.outputs, OtherOutput) and other.outputs.model_extra == {"anything": 1}
    # The readers of traces see the old line as they see a new one.
    answer = record.to_answer()
    assert trace_scores(answer, {"b"})["recall@5@round1"] == 1.0
    assert [r["round"] for r in iteration_rounds(answer.trace, 0)] == [0, 1]
    assert clue_rows(clues.outputs, answer.hits)[0]["found by"] == ["Jane Roe born"]
    assert clue_drafters(answer) == []  # old traces did not record the drafters
    assert [g.seeds for g in graph_searches(answer.trace)] == [[("Jane Roe", 1.0)]]
    # Written again, it reads back the same.
    append_trace(tmp_path / "new.jsonl", TraceRecord.of(answer, "old"))
    (again,) = read_traces(tmp_path / "new.jsonl")
    assert again.events == record.events


@pytest.mark.parametrize(
    ("reason", "text"),
    [
        (DenseReason(similarity=0.8123), "cosine 0.812"),
        (BM25Reason(terms=[]), "terms: none"),
        (GraphReason(method="hipporag2", dense=0.5, fallback="no seeds"), "hipporag2: dense"),
        (TreeReason(path=["r", "a"], layer=1), "tree layer 1 via r › a"),
        (FusionReason(ranks={"dense": 2, "bm25": 1}), "RRF: bm25 #1, dense #2"),
        (
            RerankReason(
                scorer="llm:qwen2.5-0.5b",
                relevance=0.9126,
                before=7,
                after=1,
                source=FusionReason(ranks={"dense": 7}),
            ),
            "rerank llm:qwen2.5-0.5b 0.913: #7 → #1",
        ),
        (RerankReason(scorer="best_sentence", before=12, after=12), "not reranked"),
    ],
)
def test_every_hit_reason_describes_itself(reason: HitReason, text: str) -> None:
    assert reason_text(reason).startswith(text)
    assert Hit(passage_id="p", score=1.0, retriever="x", reason=reason).reason == reason


def test_answer_traces_from_steps_hold_typed_outputs() -> None:
    answer = Answer(question="q", text="", trace=[TraceEvent(step="fuse", outputs=OUTPUTS[1])])
    assert isinstance(
        Answer.model_validate_json(answer.model_dump_json()).trace[0].outputs, FuseOutput
    )
