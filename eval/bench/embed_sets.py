"""Multi-hop sets read as plain passage texts and gold rows, for dense recall without an index.

The dataset loader (`eval.datasets.load_dataset`) reads the layout and finds the gold passages;
this module only turns them into corpus rows. Passages read as `title`, newline, `text`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eval.metrics import recall_at_k
from rag.errors import InputError
from rag.types import passage_id


@dataclass(frozen=True)
class EmbedSet:
    """A corpus as texts and its questions, each with the corpus rows of its gold passages."""

    name: str
    texts: list[str]
    questions: list[str]
    golds: list[set[int]]


def load_embed_set(folder: Path) -> EmbedSet:
    """A MuSiQue- or HotpotQA-layout folder, read by the one dataset loader (`load_dataset`)."""
    from eval.datasets import load_dataset

    dataset = load_dataset(folder)
    try:
        corpus = json.loads(dataset.corpus_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{dataset.corpus_path}: cannot read the corpus ({exc})") from exc
    if not isinstance(corpus, list):
        raise InputError(f"{dataset.corpus_path}: a corpus of [{{title, text}}] records is needed")
    texts = [f"{p['title']}\n{p['text']}" for p in corpus]
    rows: dict[str, int] = {}
    for i, p in enumerate(corpus):
        rows.setdefault(passage_id(p["text"], p["title"]), i)
    golds = [{rows[g] for g in q.gold_ids if g in rows} for q in dataset.questions]
    return EmbedSet(folder.name, texts, [q.question for q in dataset.questions], golds)


def recall_at(scores: np.ndarray, golds: list[set[int]], k: int) -> float:
    """Recall@k (eval.metrics) of each question's rows ranked by score, averaged."""
    top = np.argsort(-scores, axis=1)[:, :k]
    per_question = [
        recall_at_k([str(r) for r in ranked], {str(g) for g in gold}, k)
        for ranked, gold in zip(top.tolist(), golds, strict=True)
    ]
    return float(np.mean([r for r in per_question if r is not None]))
