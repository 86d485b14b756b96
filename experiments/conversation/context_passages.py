"""Issue 26 item 1: LoCoMo passages with neighbouring-turn context against single turns.

Runs `rag eval`'s runner, retrieval only, on locomo-dev loaded three ways: one turn per passage
(the default), one turn after the turn before it (`context_turns=1`; gold stays the turn
itself), and windows of two turns (`turns_per_passage=2`; gold is any window holding an
evidence turn, so fewer passages compete). `rag eval` has no flag for `context_turns`, hence
this script.

    python experiments/conversation/context_passages.py ../shared/data/locomo-dev OUT
"""

from __future__ import annotations

import sys
from pathlib import Path

import eval as rag_eval
from eval.datasets.locomo import load_locomo
from eval.datasets.locomo_layout import find_conversations
from rag.settings import load_settings

PIPELINES = ["dense", "bm25", "hybrid", "conversation"]
LAYOUTS = {"turn": (1, 0), "turn-after-previous": (1, 1), "two-turn-windows": (2, 0)}


def main(folder: str, out: str) -> None:
    """Evaluate every layout; each writes its own result folder under `out`."""
    settings = load_settings()
    path = find_conversations(Path(folder))
    if path is None:
        raise SystemExit(f"{folder}: no LoCoMo conversations file")
    for name, (per_passage, context) in LAYOUTS.items():
        ds = load_locomo(path, f"locomo-dev-{name}", {}, settings, per_passage, context)
        table = rag_eval.run(ds, PIPELINES, out=Path(out) / name, settings=settings, answer=False)
        print(name)
        print(table)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
