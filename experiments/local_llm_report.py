"""Bundled local GGUF models on MuSiQue-100: speed, and how often each LLM operator parses.

Run from the repository root (needs `memrag[local]`; one model at a time, 1 thread):
    python experiments/local_llm_report.py --model gemma-270m --out figures/local_llm_gemma.json

It measures the model's prompt and generation speed, then OpenIE over the corpus's first
`--passages` passages (share with at least one valid triple, triples per passage, replies
without usable JSON), then the LLM reader over the first `--questions` questions, each read
from five of its own paragraphs (all supporting ones, then distractors, in dataset order):
EM, F1, and the share of answers with a citation the model gave itself. The numbers say
whether the operators stay usable with a tiny model, not what a good model would score.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections import Counter
from pathlib import Path
from typing import Any

from eval.metrics import exact_match, token_f1
from rag.llm import ManagedLLM, make_llm
from rag.operators.openie import LLMOpenIE
from rag.operators.reader.llm import LLMReader
from rag.settings import LLMSettings
from rag.types import Passage

READ_PASSAGES = 5


class WarningCounter(logging.Handler):
    """Counts warnings per logger, to report the drops and fallbacks operators logged."""

    def __init__(self) -> None:
        """Start from zero."""
        super().__init__(logging.WARNING)
        self.counts: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        """Count one record under its message template's first words."""
        self.counts[" ".join(str(record.msg).split()[:4])] += 1


def speed(llm: ManagedLLM) -> dict[str, float]:
    """Prompt tokens/s (a long prompt, one new token) and generation tokens/s (free text)."""
    backend: Any = llm.backend
    llama = backend._llama
    long_prompt = " ".join(["The telescope was launched into orbit and observed galaxies."] * 40)
    start = time.perf_counter()
    out = llama.create_completion(long_prompt, max_tokens=1, temperature=0.0)
    prompt_s = time.perf_counter() - start
    llama.reset()
    start = time.perf_counter()
    gen = llama.create_completion("Once upon a time", max_tokens=64, temperature=0.0)
    gen_s = time.perf_counter() - start
    return {
        "prompt_tokens_per_s": out["usage"]["prompt_tokens"] / prompt_s,
        "generation_tokens_per_s": gen["usage"]["completion_tokens"] / gen_s,
    }


def openie(llm: ManagedLLM, corpus: list[dict[str, Any]], n: int) -> dict[str, Any]:
    """OpenIE parse success over the first n corpus passages."""
    passages = [Passage.from_text(p["text"], title=p["title"]) for p in corpus[:n]]
    start = time.perf_counter()
    found = LLMOpenIE(llm, max_workers=1).extract(passages)
    seconds = time.perf_counter() - start
    triples = [len(e.triples) for e in found]
    return {
        "passages": len(found),
        "with_triple": sum(t > 0 for t in triples) / len(found),
        "triples_per_passage": sum(triples) / len(found),
        "entities_per_passage": sum(len(e.entities) for e in found) / len(found),
        "seconds_per_passage": seconds / len(found),
    }


def reading_passages(question: dict[str, Any]) -> list[Passage]:
    """Five of the question's paragraphs: every supporting one, then distractors, in order."""
    paragraphs = question["paragraphs"]
    gold = [p for p in paragraphs if p["is_supporting"]]
    others = [p for p in paragraphs if not p["is_supporting"]]
    chosen = {p["idx"] for p in gold + others[: max(0, READ_PASSAGES - len(gold))]}
    return [
        Passage.from_text(p["paragraph_text"], title=p["title"])
        for p in paragraphs
        if p["idx"] in chosen
    ]


def reader(llm: ManagedLLM, questions: list[dict[str, Any]], n: int) -> dict[str, Any]:
    """LLM reader EM / F1 and citation share over the first n questions."""
    rows = []
    start = time.perf_counter()
    for q in questions[:n]:
        reading = LLMReader(llm, max_passages=READ_PASSAGES).read(
            q["question"], reading_passages(q)
        )
        answers = [q["answer"], *q.get("answer_aliases", [])]
        rows.append(
            {
                "question": q["question"],
                "answer": reading.answer,
                "gold": q["answer"],
                "em": exact_match(reading.answer, answers) or 0.0,
                "f1": token_f1(reading.answer, answers) or 0.0,
                "parsed": reading.details.get("parse") in ("json", "repaired"),
                "model_cited": "fallback" not in reading.details,
                "citations": len(reading.citations),
            }
        )
    seconds = time.perf_counter() - start
    return {
        "questions": len(rows),
        "em": sum(r["em"] for r in rows) / len(rows),
        "f1": sum(r["f1"] for r in rows) / len(rows),
        "json_parsed": sum(r["parsed"] for r in rows) / len(rows),
        "with_model_citation": sum(r["model_cited"] for r in rows) / len(rows),
        "with_citation": sum(r["citations"] > 0 for r in rows) / len(rows),
        "seconds_per_question": seconds / len(rows),
        "answers": rows,
    }


def main() -> None:
    """Measure one bundled model and write the JSON report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="gemma-270m", help="bundled name or .gguf path")
    parser.add_argument("--data", type=Path, required=True, help="musique-100 folder")
    parser.add_argument("--passages", type=int, default=50)
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    warnings = WarningCounter()
    logging.getLogger("rag").addHandler(warnings)
    settings = LLMSettings(
        provider="local",
        model=args.model,
        max_tokens=args.max_tokens,
        n_threads=args.threads,
        cache=False,
    )
    llm = make_llm(settings, Path("."))
    assert isinstance(llm, ManagedLLM)
    start = time.perf_counter()
    llm.warm_up()
    report: dict[str, Any] = {"model": args.model, "load_s": time.perf_counter() - start}
    report["speed"] = speed(llm)
    corpus = json.loads((args.data / "corpus.json").read_text(encoding="utf-8"))
    questions = json.loads((args.data / "questions.json").read_text(encoding="utf-8"))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    # Written after each stage: a long run that is stopped keeps what it measured.
    for stage, measure in (
        ("openie", lambda: openie(llm, corpus, args.passages)),
        ("reader", lambda: reader(llm, questions, args.questions)),
    ):
        report[stage] = measure()
        report["llm_metrics"] = llm.metrics.summary()
        report["logged_warnings"] = dict(warnings.counts)
        args.out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    summary = {k: v for k, v in report["reader"].items() if k != "answers"}
    print(json.dumps({**report, "reader": summary}, indent=2))


if __name__ == "__main__":
    main()
