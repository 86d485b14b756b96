"""Entity and triple precision/recall of the offline extractors against GPT-3.5 OpenIE.

Usage: python experiments/spacy_openie/triple_quality.py [DATASET_DIR] [--n-process N]

Per passage, an entity matches when its normalized form (lowercase, punctuation and leading
articles dropped) equals one of the GPT entities; a triple matches when its subject and object
match a GPT triple's (in either order; the relation is free text and not compared). The table
gives the mean per-passage precision and recall, the pooled (micro) figures, and seconds.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path
from typing import Any

from rag.operators.openie import PatternOpenIE
from rag.operators.openie.spacy_extractor import SpacyOpenIE
from rag.types import Passage

_ARTICLE = re.compile(r"\A(?:the|a|an)\s+")


def key(text: str) -> str:
    """Lowercase, punctuation-free, without a leading article."""
    return _ARTICLE.sub("", " ".join(re.sub(r"[\W_]+", " ", text.lower()).split()))


def pair(triple: list[str] | tuple[str, str, str]) -> frozenset[str]:
    """A triple's subject and object, unordered."""
    return frozenset((key(triple[0]), key(triple[2])))


def prf(found: set[Any], gold: set[Any]) -> tuple[float, float, int]:
    """(precision, recall, matches) of one passage; an empty side counts as perfect."""
    hits = len(found & gold)
    precision = hits / len(found) if found else 1.0
    recall = hits / len(gold) if gold else 1.0
    return precision, recall, hits


def main() -> None:
    """Print a markdown table of both extractors' figures against the GPT-3.5 file."""
    args = sys.argv[1:]
    n_process = int(args[args.index("--n-process") + 1]) if "--n-process" in args else 1
    folder = Path(
        next(
            (a for a in args if not a.startswith("--") and not a.isdigit()),
            "/work/shared/data/musique-100",
        )
    )
    docs = json.loads((folder / "openie-gpt-3.5-turbo.json").read_text())["docs"]
    passages = [Passage.from_text(d["text"], title=d["title"]) for d in docs]
    rows = []
    for extractor in (PatternOpenIE(), SpacyOpenIE(n_process=n_process)):
        if isinstance(extractor, SpacyOpenIE):
            _ = extractor.nlp  # loaded before timing: model loading is a one-off second
        start = time.perf_counter()
        extractions = extractor.extract(passages)
        seconds = time.perf_counter() - start
        sums = {"ep": 0.0, "er": 0.0, "tp": 0.0, "tr": 0.0}
        pooled = {"e_hit": 0, "e_found": 0, "e_gold": 0, "t_hit": 0, "t_found": 0, "t_gold": 0}
        n_triples = 0
        for doc, ext in zip(docs, extractions, strict=True):
            gold_e = {key(e) for e in doc["extracted_entities"]} - {""}
            found_e = {key(e) for e in ext.entities} - {""}
            gold_t = {pair(t) for t in doc["extracted_triples"] if len(t) == 3}
            found_t = {pair(t) for t in ext.triples}
            n_triples += len(ext.triples)
            p, r, h = prf(found_e, gold_e)
            sums["ep"] += p
            sums["er"] += r
            pooled["e_hit"] += h
            pooled["e_found"] += len(found_e)
            pooled["e_gold"] += len(gold_e)
            p, r, h = prf(found_t, gold_t)
            sums["tp"] += p
            sums["tr"] += r
            pooled["t_hit"] += h
            pooled["t_found"] += len(found_t)
            pooled["t_gold"] += len(gold_t)
        n = len(docs)
        rows.append(
            f"| {extractor.name} | {sums['ep'] / n:.3f} | {sums['er'] / n:.3f} "
            f"| {pooled['e_hit'] / pooled['e_found']:.3f} "
            f"| {pooled['e_hit'] / pooled['e_gold']:.3f} "
            f"| {sums['tp'] / n:.3f} | {sums['tr'] / n:.3f} "
            f"| {pooled['t_hit'] / pooled['t_found']:.3f} "
            f"| {pooled['t_hit'] / pooled['t_gold']:.3f} "
            f"| {n_triples / n:.1f} | {seconds:.1f} | {1000 * seconds / n:.1f} |"
        )
    print(
        f"{len(docs)} passages; GPT-3.5 triples per passage: "
        f"{sum(len(d['extracted_triples']) for d in docs) / len(docs):.1f}\n"
    )
    print(
        "| extractor | entity P (mean) | entity R (mean) | entity P (pooled) | entity R (pooled) "
        "| triple P (mean) | triple R (mean) | triple P (pooled) | triple R (pooled) "
        "| triples / passage | seconds | s / 1,000 passages |"
    )
    print("| --- " * 12 + "|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
