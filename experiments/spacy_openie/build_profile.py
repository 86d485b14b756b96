"""Time a spaCy graph build stage by stage, with an empty embedding cache (and optionally cProfile).

Usage: python experiments/spacy_openie/build_profile.py [DATASET_DIR] [--limit N]
       [--extractor spacy|offline] [--profile OUT.prof] [--batch-size B] [--n-process N]
       [--embed-cache DIR]

Builds a GraphIndex over the dataset's corpus the way `rag index` does (passage vectors from a
separate dense pass, so `embed` is the entities' and facts' only), without the OpenIE disk
cache, and prints CPU seconds per stage (extract, graph, embed, synonymy: the process's CPU
time, all its threads, read by the index's own stage timer), the extraction's share of
extract + graph + synonymy, the build's wall time, and the counts of entities, facts and
triples per passage. CPU seconds are what an idle machine would take with one process; on a
shared machine the wall time is longer by however much the others take.
With --profile the extraction alone runs under cProfile and the top functions are printed.
With --embed-cache the embeddings come from (and go to) that cache dir instead of an empty one:
the embed stage then costs only what the cache lacks.
"""

from __future__ import annotations

import cProfile
import json
import pstats
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import indexers.graph.index as graph_index_module
from indexers.graph.config import GraphSettings
from indexers.graph.index import GraphIndex
from rag.embed import make_embedder
from rag.operators.openie import Extractor, PatternOpenIE
from rag.operators.openie.spacy_extractor import SpacyOpenIE
from rag.settings import EmbedderSettings
from rag.types import Passage


def option(args: list[str], flag: str, default: str) -> str:
    """The value after `flag` in args, else default."""
    return args[args.index(flag) + 1] if flag in args else default


def load_passages(folder: Path, limit: int) -> list[Passage]:
    """The corpus of a HippoRAG-layout dataset folder as passages (first `limit`, 0 = all)."""
    docs = json.loads((folder / "corpus.json").read_text(encoding="utf-8"))
    if limit:
        docs = docs[:limit]
    return [Passage.from_text(d["text"], title=d["title"]) for d in docs]


def main() -> None:
    """Build once and print the stage table."""
    args = sys.argv[1:]
    positional = [a for i, a in enumerate(args) if not a.startswith("--") and (
        i == 0 or not args[i - 1].startswith("--"))]  # fmt: skip
    folder = Path(positional[0] if positional else "/work/shared/data/musique-100")
    passages = load_passages(folder, int(option(args, "--limit", "0")))
    name = option(args, "--extractor", "spacy")
    extractor: Extractor
    if name == "spacy":
        spacy_extractor = SpacyOpenIE(
            batch_size=int(option(args, "--batch-size", "64")),
            n_process=int(option(args, "--n-process", "1")),
        )
        _ = spacy_extractor.nlp  # the model loads once per process: not part of the build
        extractor = spacy_extractor
    else:
        extractor = PatternOpenIE()
    profile_out = option(args, "--profile", "")
    with tempfile.TemporaryDirectory(prefix="memrag-profile-") as empty:
        cache = Path(option(args, "--embed-cache", empty))
        embedder = make_embedder(EmbedderSettings(precision="bf16"), cache)
        embedder.embed(["warm up"])
        start = time.perf_counter()
        vectors = embedder.embed([p.embedding_text for p in passages])
        dense_seconds = time.perf_counter() - start
        index = GraphIndex(embedder, GraphSettings(), extractor)
        if profile_out:
            profiler = cProfile.Profile()
            profiler.enable()
            extractor.extract(passages)
            profiler.disable()
            profiler.dump_stats(profile_out)
            pstats.Stats(profile_out).sort_stats("cumulative").print_stats(35)
            return
        # The index's stage timer reads this clock: CPU time of the process, not wall time.
        graph_index_module.time = SimpleNamespace(perf_counter=time.process_time)  # type: ignore[assignment]
        start = time.perf_counter()
        index.add(passages, vectors)
        wall = time.perf_counter() - start
    seconds = dict(index.stage_seconds)
    core = seconds["extract"] + seconds["graph"] + seconds["synonymy"]
    triples = sum(len(e.triples) for e in index.extractions.values())
    print(f"{folder.name}: {len(passages)} passages, extractor {name}")
    print(f"passage vectors (dense, not a graph stage): {dense_seconds:.1f} s")
    for stage in ("extract", "graph", "embed", "synonymy"):
        print(f"{stage:>9}: {seconds[stage]:7.1f} CPU-s")
    share = seconds["extract"] / core
    print(f"extract + graph + synonymy: {core:.1f} CPU-s (extraction {share:.0%})")
    print(f"with embed: {core + seconds['embed']:.1f} CPU-s; wall {wall:.1f} s")
    print(
        f"entities {index.graph.n_entities}, facts {len(index.graph.facts)}, "
        f"triples/passage {triples / len(passages):.1f}, "
        f"CPU-s/1,000 passages extraction {1000 * seconds['extract'] / len(passages):.1f}"
    )


if __name__ == "__main__":
    main()
