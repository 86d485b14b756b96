"""Multi-hop sets read as plain passage texts and gold rows, for dense recall without an index.

MuSiQue layout: questions with `paragraphs` (title, paragraph_text, is_supporting), gold
matched by title and text. HotpotQA layout: questions with `supporting_facts`, gold matched
by title (see ../shared/data/*/README.md). Passages read as `title`, newline, `text`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import InputError


@dataclass(frozen=True)
class EmbedSet:
    """A corpus as texts and its questions, each with the corpus rows of its gold passages."""

    name: str
    texts: list[str]
    questions: list[str]
    golds: list[set[int]]


def _read(path: Path) -> Any:
    """A JSON file, naming it when it is missing or broken."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read the dataset file ({exc})") from exc


def load_embed_set(folder: Path) -> EmbedSet:
    """Read corpus.json and questions.json of a MuSiQue- or HotpotQA-layout folder."""
    corpus = _read(folder / "corpus.json")
    questions = _read(folder / "questions.json")
    if not isinstance(corpus, list) or not isinstance(questions, list) or not questions:
        raise InputError(f"{folder}: corpus.json and questions.json must be non-empty lists")
    texts = [f"{p['title']}\n{p['text']}" for p in corpus]
    golds: list[set[int]] = []
    if "paragraphs" in questions[0]:
        rows = {(p["title"], p["text"]): i for i, p in enumerate(corpus)}
        for q in questions:
            supporting = [p for p in q["paragraphs"] if p["is_supporting"]]
            golds.append({rows[(p["title"], p["paragraph_text"])] for p in supporting})
    elif "supporting_facts" in questions[0]:
        by_title: dict[str, set[int]] = {}
        for i, p in enumerate(corpus):
            by_title.setdefault(p["title"], set()).add(i)
        for q in questions:
            golds.append(set().union(*(by_title.get(t, set()) for t, _ in q["supporting_facts"])))
    else:
        raise InputError(
            f"{folder / 'questions.json'}: neither MuSiQue (paragraphs) nor HotpotQA "
            "(supporting_facts) layout"
        )
    return EmbedSet(folder.name, texts, [q["question"] for q in questions], golds)


def recall_at(scores: np.ndarray, golds: list[set[int]], k: int) -> float:
    """Mean share of gold passages among each question's top k (questions without gold skipped)."""
    top = np.argsort(-scores, axis=1)[:, :k]
    hits = [len(g & set(t.tolist())) / len(g) for t, g in zip(top, golds, strict=True) if g]
    return float(np.mean(hits))
