"""Per-round recall and clue counts read from traces, and their means per pipeline."""

from __future__ import annotations

from pathlib import Path

from eval import runner as rag_eval
from eval.wrapped_steps import clue_drafters, trace_scores, wrapped_summary
from rag.settings import Settings
from rag.trace_outputs import CluesOutput, ClueTrace
from rag.types import Answer, TraceEvent
from tests.eval.test_runner import dataset  # noqa: F401  (the tiny dataset fixture)


def _answer(*events: TraceEvent) -> Answer:
    return Answer(question="q", text="", trace=list(events))


def test_recall_is_scored_after_every_round_and_curves_pad_early_stops() -> None:
    rounds = TraceEvent(step="iterate:dense", outputs={"rounds": [["x", "a"], ["a", "b"]]})
    long = trace_scores(_answer(rounds), {"a", "b"})
    assert long == {"recall@5@round0": 0.5, "recall@5@round1": 1.0}
    stopped = trace_scores(_answer(TraceEvent(step="iterate", outputs={"rounds": [["a"]]})), {"a"})
    assert wrapped_summary([long, stopped]) == {"recall@5_by_round": [0.75, 1.0]}


def test_clues_searched_are_counted() -> None:
    clues = [
        ClueTrace(text="c1", kind="span", drafter="feedback", hits=["a"]),
        ClueTrace(text="answer", kind="draft_answer", drafter="extractive-reader"),
    ]
    drafted = CluesOutput(clues=clues, drafters=["feedback", "extractive-reader"])
    answer = _answer(TraceEvent(step="draft_clues", outputs=drafted))
    scores = trace_scores(answer, {"a"})
    assert scores == {"clues": 1.0}
    assert clue_drafters(answer) == ["feedback", "extractive-reader"]
    assert wrapped_summary([scores, {"clues": 3.0}], [clue_drafters(answer), ["feedback"]]) == {
        "clues_per_question": 2.0,
        "clue_drafters": {"feedback": 2, "extractive-reader": 1},
    }


def test_rag_eval_reports_clues_beside_recall(
    dataset: Path,  # noqa: F811
    tmp_path: Path,
    settings: Settings,
) -> None:
    table = rag_eval.run(dataset, ["memorag-dense"], settings=settings, answer=False)
    row = table.row("memorag-dense")
    assert row["clues_per_question"] > 0 and row["recall@5"] is not None
    assert "clues per question" in table.to_markdown()
