"""The pure helpers behind the pages: trace layout, rank comparison, PageRank subgraph, gold."""

from __future__ import annotations

from app.eval_results import gold_rows
from app.explain import clue_rows, compare_rows, reason_text, trace_rows
from app.pictures import pagerank_subgraph
from eval.records import QuestionRecord
from rag.search_details import GraphSearchDetails
from rag.trace_outputs import CluesOutput, ClueTrace, RetrieveOutput
from rag.types import BM25Reason, FusionReason, GraphReason, Hit, TraceEvent


def test_trace_rows_lay_nested_steps_inside_their_parent() -> None:
    events = [
        TraceEvent(id=0, step="iterate:dense", seconds=0.3),
        TraceEvent(id=1, parent=0, step="iteration:0", seconds=0.1),
        TraceEvent(id=2, parent=0, step="iteration:1", seconds=0.15),
        TraceEvent(id=3, step="generate", seconds=0.05, llm_calls=1),
    ]
    rows = {r["step"]: r for r in trace_rows(events)}
    assert rows["iteration:0"]["start_ms"] == 0 and rows["iteration:0"]["depth"] == 1
    assert rows["iteration:1"]["start_ms"] == 100 and rows["iteration:1"]["end_ms"] == 250
    assert rows["generate"]["start_ms"] == 300 and rows["generate"]["label"] == "generate"
    assert rows["iteration:1"]["label"].startswith("  └ ")


def test_compare_rows_rank_changes_and_sides() -> None:
    a = [Hit(passage_id=p, score=1.0, retriever="dense") for p in ("x", "y", "z")]
    b = [Hit(passage_id=p, score=1.0, retriever="bm25") for p in ("y", "w", "x")]
    rows = {r["passage"]: r for r in compare_rows(a, b, {})}
    assert rows["y"]["moved up in B"] == 1 and rows["x"]["moved up in B"] == -2
    assert rows["z"]["in"] == "only A" and rows["w"]["in"] == "only B"


def test_reason_text_names_the_evidence() -> None:
    assert reason_text(BM25Reason(terms=["curi", "born"])) == "terms: curi, born"
    fused = FusionReason(ranks={"dense": 2, "bm25": 1})
    assert reason_text(fused) == "RRF: bm25 #1, dense #2"


def test_pagerank_subgraph_joins_seeds_facts_and_passages() -> None:
    reason = GraphReason(
        method="hipporag2",
        pagerank=0.2,
        dense=0.5,
        seeds=[("Pierre Curie", 1.5), ("Radium", 0.5)],
        facts=["Marie married Pierre Curie"],
    )
    hits = [Hit(passage_id="p1", score=0.2, retriever="graph", reason=reason)]
    event = TraceEvent(
        step="retrieve:graph:hipporag2",
        outputs=RetrieveOutput(
            search=GraphSearchDetails(
                method="hipporag2",
                seeds=[("Pierre Curie", 1.5)],
                facts=[("Marie married Pierre Curie", 0.6)],
            )
        ),
    )
    view = pagerank_subgraph(hits, [event], {"p1": "Marie Curie"})
    assert view.has_edge("e:Pierre Curie", "f:Marie married Pierre Curie")
    assert view.has_edge("f:Marie married Pierre Curie", "p:p1")
    assert view.has_edge("e:Radium", "p:p1")  # a seed naming no fact joins the passage
    # The fact's score comes from the graph step's typed search details, not from the reason.
    assert view.nodes["f:Marie married Pierre Curie"]["mass"] == 0.6
    assert view.nodes["p:p1"]["label"] == "Marie Curie" and view.nodes["p:p1"]["mass"] == 0.2


def test_clue_rows_say_which_text_found_each_hit() -> None:
    clue = ClueTrace(text="clue 1", kind="span", drafter="feedback", hits=["a", "b"])
    drafted = CluesOutput(question_hits=["a"], clues=[clue])
    hits = [Hit(passage_id=p, score=1.0, retriever="rrf") for p in ("a", "b", "c")]
    found = {r["passage"]: r["found by"] for r in clue_rows(drafted, hits)}
    assert found == {"a": ["question", "clue 1"], "b": ["clue 1"], "c": []}


def _record(retrieved: list[str]) -> QuestionRecord:
    return QuestionRecord(
        question_id="q",
        question="?",
        pipeline="p",
        gold_ids=["g1", "g2"],
        answers=[],
        retrieved=[(pid, 1.0) for pid in retrieved],
        prediction="",
        citations=[],
        latency_ms=1.0,
        trace=[],
        scores={},
    )


def test_gold_rows_mark_what_only_one_pipeline_found() -> None:
    rows = gold_rows(["g1", "g2"], _record(["g1", "x", "g2"]), _record(["x", "g2"]), k=2)
    assert rows[0] == {"gold passage": "g1", "rank A": 1, "rank B": None, "in top 2": "A only"}
    assert rows[1]["in top 2"] == "B only"
