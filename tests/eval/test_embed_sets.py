"""The precision bench's sets come from the one dataset loader, scored by the one recall."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from eval.bench.embed_sets import load_embed_set, recall_at
from tests.conftest import FACTS, TINY_QUESTIONS, write_tiny_dataset


def test_gold_rows_are_the_loaders_gold_passages_and_recall_is_the_shared_one(
    tmp_path: Path,
) -> None:
    data = load_embed_set(write_tiny_dataset(tmp_path / "tiny"))
    assert data.texts == [f"{t}\n{x}" for t, x in FACTS]
    assert data.golds == [{gold} for *_, gold in TINY_QUESTIONS]
    perfect = np.zeros((len(data.questions), len(data.texts)))
    for row, gold in enumerate(data.golds):
        perfect[row, list(gold)] = 1.0
    assert recall_at(perfect, data.golds, 1) == 1.0
    assert recall_at(-perfect, data.golds, 1) == 0.0
