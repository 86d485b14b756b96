"""Issue 26: passage texts, fusions and speaker handling on LoCoMo, measured outside the CLI.

Each conversation is its own corpus of one-turn passages; gold is the evidence turns. Unlike
memrag's fusion, `rrf` here ranks every passage, those a retriever scores 0 too, so fused
figures differ a little from the pipelines'. Prints
Recall@5 (all, per category, and per held-out half: conv-26+30 vs conv-41+42) for every
variant, so that a choice made on one half can be checked on the other.

    python experiments/locomo_variants.py ../shared/data/locomo-dev/locomo-dev.json
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

from eval.datasets.files import read_records
from eval.datasets.locomo_layout import parse_conversation
from rag.embed import make_embedder
from rag.settings import load_settings

K = 5
VARIANTS = ("date", "speaker", "prev", "date-prev")


def texts(conv, variant: str) -> list[str]:
    """The passage text of every turn under one variant."""
    out = []
    for session in conv.sessions:
        for i, t in enumerate(session.turns):
            prev = session.turns[i - 1] if i else None
            if variant == "date":
                out.append(f"[{session.date_time}] {t.speaker}: {t.text}")
            elif variant == "speaker":
                out.append(f"{t.speaker}: {t.text}")
            elif variant == "plain":
                out.append(t.text)
            elif variant == "prev":
                head = f"{prev.speaker}: {prev.text}\n" if prev else ""
                out.append(f"{head}{t.speaker}: {t.text}")
            elif variant == "date-prev":
                head = f"{prev.speaker}: {prev.text}\n" if prev else ""
                out.append(f"[{session.date_time}] {head}{t.speaker}: {t.text}")
            elif variant in ("next", "around"):
                nxt = session.turns[i + 1] if i + 1 < len(session.turns) else None
                head = f"{prev.speaker}: {prev.text}\n" if prev and variant == "around" else ""
                tail = f"\n{nxt.speaker}: {nxt.text}" if nxt else ""
                out.append(f"[{session.date_time}] {head}{t.speaker}: {t.text}{tail}")
    return out


def turn_info(conv):
    """dia_ids and speakers in turn order."""
    return [(t.dia_id, t.speaker) for s in conv.sessions for t in s.turns]


def bm25_scores(corpus: list[str], queries: list[str]) -> np.ndarray:
    """A (queries x passages) BM25 score matrix."""
    stem = Stemmer.Stemmer("english").stemWord
    tok = bm25s.tokenize(
        corpus, stopwords="en", stemmer=Stemmer.Stemmer("english"), show_progress=False
    )
    model = bm25s.BM25()
    model.index(tok, show_progress=False)
    out = np.zeros((len(queries), len(corpus)), dtype=np.float32)
    vocab = tok.vocab
    for n, q in enumerate(queries):
        qt = bm25s.tokenize(
            [q],
            stopwords="en",
            stemmer=Stemmer.Stemmer("english"),
            show_progress=False,
            return_ids=False,
        )
        words = [w for w in qt[0] if w in vocab]
        if words:
            out[n] = model.get_scores(words)
    del stem
    return out


def ranks(scores: np.ndarray) -> np.ndarray:
    """1-based ranks per row."""
    order = np.argsort(-scores, axis=1, kind="stable")
    r = np.empty_like(order)
    rows = np.arange(scores.shape[0])[:, None]
    r[rows, order] = np.arange(1, scores.shape[1] + 1)
    return r


def rrf(parts: list[tuple[np.ndarray, float]], k: int = 60) -> np.ndarray:
    """Weighted reciprocal-rank fusion of score matrices."""
    return sum(w / (k + ranks(s)) for s, w in parts)


def main(path: str) -> None:
    """Print the table."""
    settings = load_settings()
    emb = make_embedder(settings.embedder, settings.cache_dir)
    convs = [parse_conversation(r, f"s{n}", path) for n, r in enumerate(read_records(Path(path)))]
    results: dict[str, list[tuple[str, int, float]]] = defaultdict(list)
    for conv in convs:
        info = turn_info(conv)
        pos = {d: i for i, (d, _) in enumerate(info)}
        speakers = sorted({s for _, s in info})
        qs = [q for q in conv.questions if any(e in pos for e in q.evidence)]
        questions = [q.question for q in qs]
        qv = emb.embed_queries(questions)
        dense = {v: qv @ emb.embed(texts(conv, v)).T for v in VARIANTS}
        sparse = {v: bm25_scores(texts(conv, v), questions) for v in VARIANTS}
        # speaker named in the question
        named = np.zeros((len(qs), len(info)), dtype=np.float32)
        for n, q in enumerate(questions):
            for sp in speakers:
                if sp.split()[0].lower() in q.lower():
                    named[n] += np.array([s == sp for _, s in info], dtype=np.float32)
        combos = {}
        prev_of = np.array(
            [
                i - 1 if i and info[i - 1][0].split(":")[0] == info[i][0].split(":")[0] else -1
                for i in range(len(info))
            ]
        )

        next_of = np.full(len(info), -1)
        for i, p in enumerate(prev_of):
            if p >= 0:
                next_of[p] = i
        prev2 = np.array([prev_of[p] if p >= 0 else -1 for p in prev_of])

        def shift(sc: np.ndarray, idx: np.ndarray) -> np.ndarray:
            return np.where(idx[None, :] >= 0, sc[:, np.maximum(idx, 0)], 0.0)

        def smooth(sc: np.ndarray, a: float, prev_of: np.ndarray = prev_of) -> np.ndarray:
            return sc + a * shift(sc, prev_of)

        for v in VARIANTS:
            combos[f"dense-{v}"] = dense[v]
            combos[f"bm25-{v}"] = sparse[v]
        for a in (0.5, 1.0):
            combos[f"bm25-date smooth {a}"] = smooth(sparse["date"], a)
        for w in (1.0, 3.0, 4.0):
            combos[f"rrf d, b wb={w}"] = rrf([(dense["date"], 1.0), (sparse["date"], w)])
            b = smooth(sparse["date"], 0.5)
            f = rrf([(dense["date"], 1.0), (b, w)])
            combos[f"rrf d, b smooth 0.5 wb={w}"] = f
            combos[f"rrf d, b smooth 0.5 wb={w} speaker x1.05"] = f * (1 + 0.05 * (named > 0))
            g = rrf([(smooth(dense["date"], 0.5), 1.0), (b, w)])
            combos[f"rrf d smooth, b smooth 0.5 wb={w}"] = g
            combos[f"rrf d, b-date-prev wb={w}"] = rrf(
                [(dense["date"], 1.0), (sparse["date-prev"], w)]
            )
        b = sparse["date"]
        wide = b + 0.5 * shift(b, prev_of) + 0.25 * shift(b, prev2) + 0.25 * shift(b, next_of)
        combos["bm25-date prev .5, prev2 .25, next .25"] = wide
        for w in (4.0, 6.0):
            both = rrf([(dense["date"], 1.0), (wide, w)])
            combos[f"rrf d, b prev .5 prev2 .25 next .25 wb={w}"] = both
        for name, sc in combos.items():
            top = np.argsort(-sc, axis=1)[:, :K]
            for n, q in enumerate(qs):
                gold = {pos[e] for e in q.evidence if e in pos}
                r = len(gold & set(top[n].tolist())) / len(gold)
                results[name].append((conv.id, q.category, r))
    halves = ({"conv-26", "conv-30"}, {"conv-41", "conv-42"})
    print(f"{'variant':45s} all   A     B     c1    c2    c3    c4    c5")
    for name, rows in results.items():
        a = np.mean([r for _, _, r in rows])
        h = [np.mean([r for c, _, r in rows if c in half]) for half in halves]
        cats = [np.mean([r for _, cat, r in rows if cat == k]) for k in range(1, 6)]
        print(f"{name:45s} {a:.3f} {h[0]:.3f} {h[1]:.3f} " + " ".join(f"{c:.3f}" for c in cats))


if __name__ == "__main__":
    main(sys.argv[1])
