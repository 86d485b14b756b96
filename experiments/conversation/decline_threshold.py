"""Issue 26 item 4: measure the decline step's threshold from a run that only recorded evidence.

Reads `rag eval --out DIR` of a pipeline ending in `decline: {below: -1}` (it declines nothing
and records, per question, the cosine of the question and the best cited sentence). For each
threshold t, a question is declined when its evidence < t. t is chosen on one half of the
conversations by Youden's J (share of adversarial questions declined minus share of the
others declined: how well evidence tells them apart) and reported on the other half, and the
other way round. (Averaging F1 and declining per question, LoCoMo's own mix, is no use with
an extractive reader: its F1 is so low that declining everything scores best.) It also
prints the temporal resolver's effect on category 2: F1 of the reader's answer before and
after `reader.temporal` changed it (the trace keeps the answer it had).

    python experiments/conversation/decline_threshold.py DIR PIPELINE [THRESHOLD]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from eval.metrics import token_f1

HALVES = ({"conv-26", "conv-30"}, {"conv-41", "conv-42"})


def _rows(folder: Path, pipeline: str) -> list[dict]:
    """Per question: conversation, category, F1, evidence and the pre-temporal answer."""
    records = {}
    for line in (folder / "records" / f"{pipeline}.jsonl").read_text().splitlines():
        r = json.loads(line)
        records[r["question_id"]] = r
    rows = []
    for line in (folder / "traces" / f"{pipeline}.jsonl").read_text().splitlines():
        t = json.loads(line)
        r = records[t["question_id"]]
        outputs = {e["step"]: e["outputs"] for e in t["events"]}
        generate = outputs.get("generate", {})
        rows.append(
            {
                "conv": t["question_id"].rsplit("-q", 1)[0],
                "category": r["category"],
                "f1": r["scores"].get("f1") or 0.0,
                "answers": r["answers"],
                "evidence": outputs.get("decline", {}).get("evidence", -1.0),
                "before": (generate.get("temporal") or {}).get("answer_was"),
            }
        )
    return rows


def _score(rows: list[dict], t: float) -> tuple[float, float, float, float]:
    """(Youden's J, declined_cat5, share of categories 1-4 declined, their F1) at t."""
    declined, others, f1 = [], [], []
    for r in rows:
        out = r["evidence"] < t
        if r["category"] == 5:
            declined.append(float(out))
        else:
            others.append(float(out))
            f1.append(0.0 if out else r["f1"])
    d, o = float(np.mean(declined)), float(np.mean(others))
    return d - o, d, o, float(np.mean(f1))


def main(folder: str, pipeline: str) -> None:
    """Print the threshold chosen on each half and its figures on the other."""
    rows = _rows(Path(folder), pipeline)
    grid = np.round(np.arange(-0.1, 0.8, 0.02), 2)
    print(
        "| chosen on | t | held out: J | declined_cat5 | cat1-4 declined | F1 cat1-4 "
        "| F1 cat1-4 at t=-1 |"
    )
    print("|---|---|---|---|---|---|---|")
    for a, b in (HALVES, HALVES[::-1]):
        train = [r for r in rows if r["conv"] in a]
        test = [r for r in rows if r["conv"] in b]
        t = max(grid, key=lambda g: _score(train, g)[0])
        j, d, o, f = _score(test, t)
        f0 = _score(test, -1.0)[3]
        print(
            f"| {'+'.join(sorted(a))} | {t:.2f} | {j:.3f} | {d:.3f} | {o:.3f} | {f:.3f} "
            f"| {f0:.3f} |"
        )
    t = max(grid, key=lambda g: _score(rows, g)[0])
    print(f"\nall four: t={t:.2f} -> J, declined_cat5, cat1-4 declined, F1 1-4 = {_score(rows, t)}")
    cat2 = [r for r in rows if r["category"] == 2]
    changed = [r for r in cat2 if r["before"] is not None]
    before = np.mean(
        [
            token_f1(r["before"], r["answers"]) or 0.0 if r["before"] is not None else r["f1"]
            for r in cat2
        ]
    )
    print(
        f"category 2: F1 {np.mean([r['f1'] for r in cat2]):.3f} with the temporal resolver, "
        f"{before:.3f} without; it changed {len(changed)} of {len(cat2)} answers"
    )


def per_category(folder: str, pipeline: str, t: float) -> None:
    """F1 per category 1-4 and declined_cat5: without the temporal resolver, with it, and
    with it and declining below t."""
    rows = _rows(Path(folder), pipeline)

    def f1(r: dict, stage: str) -> float:
        if stage == "no dates" and r["before"] is not None:
            return token_f1(r["before"], r["answers"]) or 0.0
        if stage == f"declined below {t}" and r["evidence"] < t:
            return 0.0
        return r["f1"]

    print("| reader | F1 1-4 | cat1 | cat2 | cat3 | cat4 | declined_cat5 |")
    print("|---|---|---|---|---|---|---|")
    for stage in ("no dates", "dates resolved", f"declined below {t}"):
        cats = [np.mean([f1(r, stage) for r in rows if r["category"] == c]) for c in range(1, 5)]
        every = np.mean([f1(r, stage) for r in rows if r["category"] != 5])
        five = [r for r in rows if r["category"] == 5]
        declined = np.mean([r["evidence"] < t for r in five]) if "declined" in stage else 0.0
        print(
            f"| {stage} | {every:.3f} | "
            + " | ".join(f"{c:.3f}" for c in cats)
            + f" | {declined:.3f} |"
        )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
    per_category(sys.argv[1], sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else 0.44)
