"""Parse a corpus with spaCy once, then re-run only the triple rules into the OpenIE cache.

Usage: python experiments/spacy_openie/prefill_cache.py DATASET_DIR PARSED.spacy CACHE_DIR

Rule changes are tried many times on the same parses: the parse (most of the extraction time)
is kept in a spaCy DocBin file outside the repository, made on the first run, and each run
writes the current rules' extractions into CACHE_DIR's OpenIE cache under the key
`SpacyOpenIE.cache_key` uses. `RAG_CACHE_DIR=CACHE_DIR rag eval --extractor spacy ...` then
reads them instead of parsing (remove CACHE_DIR/eval-indexes first: its key has no rules
version). The extractions are exactly what `SpacyOpenIE.extract` gives for the same parses.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from rag.operators.openie import CachedExtractor
from rag.operators.openie.parse_triples import passage_facts
from rag.operators.openie.spacy_extractor import SpacyOpenIE
from rag.operators.openie.types import Extraction
from rag.types import Passage


def parsed_docs(extractor: SpacyOpenIE, texts: list[str], path: Path) -> list[object]:
    """The parses of `texts`, read from `path` when it holds them, else parsed and saved."""
    from spacy.tokens import DocBin

    nlp = extractor.nlp
    if path.is_file():
        docs = list(DocBin().from_disk(path).get_docs(nlp.vocab))
        if [d.text for d in docs] == texts:
            return docs
        print(f"{path}: holds other texts; parsing again", file=sys.stderr)
    start = time.perf_counter()
    docs = list(nlp.pipe(texts, batch_size=extractor.batch_size))
    print(f"parsed {len(texts)} passages in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    DocBin(docs=docs, store_user_data=False).to_disk(path)
    return docs


def main() -> None:
    """Fill the cache with the current rules' extractions of every corpus passage."""
    folder, parsed, cache_dir = (Path(a) for a in sys.argv[1:4])
    corpus = json.loads((folder / "corpus.json").read_text(encoding="utf-8"))
    passages = [Passage.from_text(d["text"], title=d["title"]) for d in corpus]
    extractor = SpacyOpenIE()
    docs = parsed_docs(extractor, [p.text for p in passages], parsed)
    start = time.perf_counter()
    cache = CachedExtractor(extractor, cache_dir)
    triples = 0
    for passage, doc in zip(passages, docs, strict=True):
        found = passage_facts(doc, (passage.title or "").strip())
        triples += len(found.triples)
        extraction = Extraction(
            passage_id=passage.id,
            entities=found.entities,
            triples=found.triples,
            literals=found.literals,
            extractor=extractor.name,
        )
        cache._cache.set((cache.key, passage.id), extraction.model_dump_json())
    cache.close()
    print(
        f"{cache.key}: {len(passages)} passages, {triples / len(passages):.1f} triples/passage, "
        f"rules {time.perf_counter() - start:.1f} s",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
