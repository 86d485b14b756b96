"""ANN benchmark: FAISS flat, HNSW and IVF on real embeddings and on real-like vectors around them.

Recall@10 is measured against exact (flat) search. Latency is per query, one query at a time
on one FAISS thread, as wall time (p50/p95) and as the thread's CPU time (cpu_p50/p95): on a
shared machine the wall time measures the other tenants, the CPU time what the query costs.
Builds use FAISS's default threads. Memory is the process's RSS growth while the index is
built (each plan runs in a fresh process) beside the estimate of `indexers.faiss_kinds`.

Real-like vectors (`--size`) are drawn around the real ones: see `eval.bench.real_like`.

    python -m eval.bench.ann --vectors V.npy --queries Q.npy [--size 1000000] [--preset quick]
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from eval.bench.isolated import run_isolated
from eval.bench.queries import latency_ms
from eval.bench.real_like import real_like
from eval.bench.system import machine_info, machine_line, peak_rss_mb, round_sig, rss_mb
from eval.bench.tables import markdown_table
from indexers.faiss_kinds import FaissPlan, ivf_nlist, make_index, memory_bytes

logger = logging.getLogger(__name__)

TOP_K = 10
#: Rows generated or added per step, which bounds the temporary float32 copies.
STEP = 65_536
#: Per plan kind, the query-time values swept on one built index.
HNSW_EF_SEARCH = (32, 64, 128, 256)
IVF_NPROBE = (8, 16, 32, 64, 128)


def plans_for(n: int, preset: str) -> list[FaissPlan]:
    """The plans a preset measures: 'quick' (one of each kind), 'no-hnsw' or 'full' (a sweep)."""
    nlist = ivf_nlist(n)
    flat = FaissPlan("flat")
    ivf = [FaissPlan("ivf", nlist=nlist, storage=s) for s in ("flat", "sq8")]
    if preset == "no-hnsw":
        # HNSW's build is the slow one: at a million vectors, an hour and more on 2 shared cores.
        return [flat, *ivf]
    if preset == "quick":
        return [flat, FaissPlan("hnsw", hnsw_m=32, ef_construction=80), *ivf]
    hnsw = [
        FaissPlan("hnsw", hnsw_m=m, ef_construction=ef)
        for m, ef in ((16, 40), (32, 40), (32, 80), (48, 120))
    ]
    return [flat, *hnsw, *ivf, FaissPlan("ivf", nlist=nlist // 2, storage="sq8")]


def exact_top(vectors: np.ndarray, queries: np.ndarray, k: int = TOP_K) -> np.ndarray:
    """Row numbers of each query's exact top k by inner product (flat search, in steps)."""
    index = faiss.IndexFlatIP(vectors.shape[1])
    for start in range(0, len(vectors), STEP):
        index.add(np.ascontiguousarray(vectors[start : start + STEP], dtype=np.float32))
    _, rows = index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
    return rows


def _params(plan: FaissPlan, value: int) -> faiss.SearchParameters | None:
    """Search parameters setting efSearch or nprobe to `value`."""
    if plan.kind == "hnsw":
        hnsw = faiss.SearchParametersHNSW()  # type: ignore[attr-defined]
        hnsw.efSearch = value
        return hnsw
    if plan.kind == "ivf":
        ivf = faiss.SearchParametersIVF()
        ivf.nprobe = value
        return ivf
    return None


def measure_plan(
    plan: FaissPlan, vectors_path: str, queries_path: str, truth_path: str
) -> list[dict[str, Any]]:
    """Build one plan's index over the mapped vectors and sweep its query-time knob."""
    vectors = np.load(vectors_path, mmap_mode="r")
    queries = np.load(queries_path).astype(np.float32)
    truth = np.load(truth_path)
    n, dim = vectors.shape
    before = rss_mb()
    begin = time.perf_counter()
    train = None
    if plan.kind == "ivf":
        picks = np.sort(np.random.default_rng(0).choice(n, min(n, 50 * plan.nlist), replace=False))
        train = np.ascontiguousarray(vectors[picks], dtype=np.float32)
    index = make_index(plan, dim, train)
    del train
    for start in range(0, n, STEP):
        chunk = np.ascontiguousarray(vectors[start : start + STEP], dtype=np.float32)
        index.add_with_ids(chunk, np.arange(start, start + len(chunk), dtype=np.int64))
    build_s = time.perf_counter() - begin
    grown = rss_mb() - before
    knobs = {"hnsw": HNSW_EF_SEARCH, "ivf": tuple(p for p in IVF_NPROBE if p <= plan.nlist)}
    # One thread per query: with two, OpenMP's barrier waits dominate on a loaded machine.
    faiss.omp_set_num_threads(1)
    rows = []
    for value in knobs.get(plan.kind, (0,)):
        params = _params(plan, value)
        found, seconds, cpu = np.empty_like(truth), [], []
        for i, query in enumerate(queries):
            wall0, cpu0 = time.perf_counter(), time.thread_time()
            _, ids = index.search(query[None, :], TOP_K, params=params)
            seconds.append(time.perf_counter() - wall0)
            cpu.append(time.thread_time() - cpu0)
            found[i] = ids[0]
        hits = sum(
            len(set(f) & set(t)) for f, t in zip(found.tolist(), truth.tolist(), strict=True)
        )
        shown = FaissPlan(
            **{
                **plan.__dict__,
                "ef_search": value or plan.ef_search,
                "nprobe": value or plan.nprobe,
            }
        )
        lat, lat_cpu = latency_ms(seconds), latency_ms(cpu)
        rows.append(
            {
                "n": n,
                "index": shown.label(),
                "recall@10": round(hits / truth.size, 3),
                "p50_ms": lat["p50"],
                "p95_ms": lat["p95"],
                "cpu_p50_ms": lat_cpu["p50"],
                "cpu_p95_ms": lat_cpu["p95"],
                "build_s": round_sig(build_s, 3),
                "memory_mb": round(memory_bytes(plan, n, dim) / 2**20),
                "rss_growth_mb": round(grown),
                "peak_rss_mb": round(peak_rss_mb()),
            }
        )
    return rows


def bench_ann(
    vectors: Path,
    queries: Path,
    size: int | None = None,
    preset: str = "quick",
    n_queries: int = 500,
    seed: int = 0,
    workdir: Path | None = None,
) -> dict[str, Any]:
    """Measure every plan of the preset on the real vectors, or on `size` real-like ones."""
    base = np.load(vectors, mmap_mode="r")
    asked = np.load(queries)
    rng = np.random.default_rng(seed)
    asked = asked[np.sort(rng.choice(len(asked), min(n_queries, len(asked)), replace=False))]
    with tempfile.TemporaryDirectory(prefix="memrag-ann-", dir=workdir) as tmp:
        folder = Path(tmp)
        corpus = vectors if size is None else folder / "real_like.npy"
        if size is not None:
            real_like(np.asarray(base), size, corpus, seed)
        np.save(folder / "queries.npy", asked)
        truth = exact_top(np.load(corpus, mmap_mode="r"), asked)
        np.save(folder / "truth.npy", truth)
        n = len(np.load(corpus, mmap_mode="r"))
        rows: list[dict[str, Any]] = []
        for plan in plans_for(n, preset):
            logger.info("ann: %s over %d vectors", plan.label(), n)
            rows += run_isolated(
                measure_plan,
                plan,
                str(corpus),
                str(folder / "queries.npy"),
                str(folder / "truth.npy"),
            )
    return {
        "vectors": "real" if size is None else f"real-like around {len(base)} real",
        "n": n,
        "queries": len(asked),
        "threads": faiss.omp_get_max_threads(),
        "machine": machine_line(machine_info()),
        "rows": rows,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(prog="python -m eval.bench.ann", description=__doc__)
    parser.add_argument("--vectors", type=Path, required=True, help="real passage vectors .npy")
    parser.add_argument("--queries", type=Path, required=True, help="real query vectors .npy")
    parser.add_argument("--size", type=int, help="real-like vectors to draw (default: the real)")
    parser.add_argument("--preset", choices=("quick", "no-hnsw", "full"), default="quick")
    parser.add_argument("--n-queries", type=int, default=500)
    parser.add_argument("--workdir", type=Path, help="where the temporary vectors go")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    result = bench_ann(
        args.vectors, args.queries, args.size, args.preset, args.n_queries, workdir=args.workdir
    )
    # The one place this benchmark writes to stdout: the table is its output.
    print(
        f"{result['vectors']}, n={result['n']}, {result['queries']} queries, "
        f"{result['threads']} threads; {result['machine']}\n"
    )
    print(markdown_table(result["rows"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
