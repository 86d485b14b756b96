"""Seconds per abstractive tree summary with a bundled model, on QMSum-val transcript text.

A RAPTOR tree over QMSum-val makes 381 summaries (docs/trees.md); this times a few real ones
to say whether all of them fit. Each group is `--children` consecutive ~150-word pieces of the
first meeting's transcript (the size of a QMSum passage), summarized by the LLM summarizer with
its default budget (100 tokens), uncached, one at a time.

    python experiments/local_models/summary_time.py --model qwen2.5-0.5b --groups 4
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from pathlib import Path

from rag.llm import make_llm
from rag.operators.summarize import LLMSummarizer
from rag.settings import LLMSettings

QMSUM = Path(__file__).resolve().parents[3] / "shared" / "data" / "qmsum-val" / "val.jsonl"
PIECE_WORDS = 150


def pieces(words_per_piece: int) -> list[str]:
    """The first meeting's transcript as consecutive pieces of about this many words."""
    meeting = json.loads(QMSUM.read_text(encoding="utf-8").splitlines()[0])
    words: list[str] = []
    for turn in meeting["meeting_transcripts"]:
        words.extend(f"{turn['speaker']}: {turn['content']}".split())
    return [" ".join(words[i : i + words_per_piece]) for i in range(0, len(words), words_per_piece)]


def main() -> None:
    """Summarize the groups and print seconds, tokens and the summaries as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="qwen2.5-0.5b")
    parser.add_argument("--groups", type=int, default=4)
    parser.add_argument("--children", type=int, default=5)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    texts = pieces(PIECE_WORDS)
    settings = LLMSettings(provider="local", model=args.model, cache=False)
    with tempfile.TemporaryDirectory() as cache:
        llm = make_llm(settings, Path(cache))
        assert llm is not None
        llm.warm_up()
        summarizer = LLMSummarizer(llm)
        rows = []
        for g in range(args.groups):
            group = texts[g * args.children : (g + 1) * args.children]
            start = time.perf_counter()
            (summary,) = summarizer.summarize([group])
            rows.append({"seconds": round(time.perf_counter() - start, 1), "text": summary.text})
        metrics = llm.metrics.summary()
    seconds = [r["seconds"] for r in rows]
    print(
        json.dumps(
            {
                "model": args.model,
                "groups": args.groups,
                "children": args.children,
                "seconds_mean": round(sum(seconds) / len(seconds), 1),
                "metrics": metrics,
                "rows": rows,
            },
            indent=1,
            default=str,
        )
    )


if __name__ == "__main__":
    main()
