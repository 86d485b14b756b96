"""`rag bench ppr`: memrag's PageRank and synonymy kNN against reference libraries.

    rag bench ppr --sizes 100000,1000000 --edges-per-node 5 --queries 20 \\
        --synonymy 100000 --out /tmp/pprbench

PageRank, per size n: a random weighted undirected graph of `edges-per-node` × n edges between
uniform random node pairs (weights uniform in [0.1, 1.1); duplicates summed, so a few self-loops
and isolated nodes occur), and `queries` reset vectors of 5–20 random seed nodes with weights in
[0.5, 1.5), as a HippoRAG query lights up its entities. Per-query time of memrag's
`PersonalizedPageRank.run` in float64 to L1 change < 1e-8 (row `memrag`, the reference; operator
precompute reported apart), memrag's default (what the graph index runs: float32 from 1M stored
entries, to 1e-6), igraph's PRPACK (graph built once, untimed per query) and `networkx.pagerank`
(stopped once it has used --networkx-budget seconds, its graph build included). Each row reports
its max |difference| from the reference and the share of queries whose top-10 and top-100 nodes,
in order, equal the reference's. The libraries solve to 1e-8 (networkx's tol is per node, so it
gets 1e-8 / n). igraph comes with `pip install memrag[bench]`; without it its row says so.

Synonymy (--synonymy N): see `eval.bench.synonymy`. Writes results.json and results.md into --out.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from eval.bench.queries import latency_ms
from eval.bench.suite import parse_sizes
from eval.bench.synonymy import bench_synonymy, synonymy_markdown
from eval.bench.system import machine_info, machine_line, round_sig
from eval.bench.tables import markdown_table
from graphs.csr import CSRGraph
from graphs.ppr import DEFAULT_TOL, PersonalizedPageRank

logger = logging.getLogger(__name__)

TOL = 1e-8
PPR_COLUMNS = (
    "size", "edges", "method", "setup_s", "queries", "p50_ms", "p95_ms", "p50_vs_memrag",
    "max_abs_diff", "top10_same", "top100_same", "note",
)  # fmt: skip
#: Cut-offs at which a row's ranking is compared with the reference's.
TOP_KS = (10, 100)


def random_graph(n: int, edges_per_node: int, seed: int) -> CSRGraph:
    """Uniform random weighted undirected graph with `edges_per_node` × n edges drawn."""
    rng = np.random.default_rng(seed)
    m = edges_per_node * n
    return CSRGraph.from_edges(n, rng.integers(0, n, m), rng.integers(0, n, m), rng.random(m) + 0.1)


def random_resets(n: int, count: int, seed: int) -> list[np.ndarray]:
    """Sparse reset vectors on 5–20 random seed nodes each."""
    rng = np.random.default_rng(seed + 1)
    resets = []
    for _ in range(count):
        seeds = rng.choice(n, int(rng.integers(5, 21)), replace=False)
        reset = np.zeros(n)
        reset[seeds] = rng.random(seeds.size) + 0.5
        resets.append(reset)
    return resets


Runner = Callable[[np.ndarray], Any]


def _timed(runners: dict[str, Runner], resets: list[np.ndarray], budget_s: float) -> dict:
    """Seconds and scores per method over `resets`, stopping once `budget_s` has been spent."""
    # The methods take turns on each reset, so that a busy machine slows them alike.
    found: dict[str, tuple[list, list]] = {name: ([], []) for name in runners}
    spent = 0.0
    for reset in resets:
        for name, run in runners.items():
            start = time.perf_counter()
            scores = np.asarray(run(reset), dtype=np.float64)
            found[name][0].append(time.perf_counter() - start)
            found[name][1].append(scores)
            spent += found[name][0][-1]
        if spent > budget_s:
            break
    return found


def _igraph(graph: CSRGraph, damping: float) -> tuple[float, Runner] | None:
    """igraph PRPACK: graph build seconds and a per-query runner, or None without igraph."""
    try:
        import igraph
    except ImportError:
        return None
    start = time.perf_counter()
    upper = graph.to_scipy().tocoo()
    keep = upper.row <= upper.col
    g = igraph.Graph(n=graph.n_nodes, edges=np.column_stack([upper.row, upper.col])[keep])
    weights = upper.data[keep]
    # igraph walks an undirected self-loop in both directions (networkx and memrag once), so
    # half its weight gives the same graph.
    weights[upper.row[keep] == upper.col[keep]] /= 2
    g.es["weight"] = weights

    def run(reset: np.ndarray) -> list[float]:
        return g.personalized_pagerank(
            reset=reset, damping=damping, weights="weight", directed=False,
            implementation="prpack",
        )  # fmt: skip

    return time.perf_counter() - start, run


def _networkx(graph: CSRGraph, damping: float) -> tuple[float, Runner]:
    """networkx: graph build seconds and a per-query runner."""
    start = time.perf_counter()
    g = nx.from_scipy_sparse_array(graph.to_scipy())
    n = graph.n_nodes

    def run(reset: np.ndarray) -> np.ndarray:
        personalization = dict(enumerate(reset))
        scores = nx.pagerank(g, damping, personalization, tol=TOL / n, max_iter=1000)
        return np.fromiter((scores[i] for i in range(n)), np.float64, n)

    return time.perf_counter() - start, run


@dataclass(frozen=True)
class PPRBenchOptions:
    """What `rag bench ppr` measures (see the module docstring)."""

    out: Path
    sizes: str = "100000,1000000"
    edges_per_node: int = 5
    queries: int = 20
    damping: float = 0.5
    networkx_budget: float = 60.0
    synonymy: int = 0
    dim: int = 384
    loose_tol: float = 1e-6
    seed: int = 0


def bench_ppr(n: int, args: PPRBenchOptions) -> list[dict[str, Any]]:
    """All PageRank rows at one size."""
    start = time.perf_counter()
    graph = random_graph(n, args.edges_per_node, args.seed)
    logger.info("ppr: graph of %d nodes built in %.1f s", n, time.perf_counter() - start)
    resets = random_resets(n, args.queries, args.seed)
    start = time.perf_counter()
    ppr = PersonalizedPageRank(graph, precision="float64")
    setup = {"memrag": time.perf_counter() - start}
    runners: dict[str, Runner] = {"memrag": lambda r: ppr.run(r, args.damping, tol=TOL)}
    if args.loose_tol:
        # A ranking needs far less than 1e-8: this row shows what a looser stop buys.
        loose = f"memrag tol {args.loose_tol:g}"
        setup[loose] = setup["memrag"]
        runners[loose] = lambda r: ppr.run(r, args.damping, tol=args.loose_tol)
    start = time.perf_counter()
    fast = PersonalizedPageRank(graph)
    default = f"memrag default ({fast.precision}, tol {DEFAULT_TOL[fast.precision]:g})"
    setup[default] = time.perf_counter() - start
    runners[default] = lambda r: fast.run(r, args.damping)
    igraph = _igraph(graph, args.damping)
    if igraph is not None:
        setup["igraph prpack"], runners["igraph prpack"] = igraph
    found = _timed(runners, resets, float("inf"))
    if args.networkx_budget > 0:
        setup["networkx"], run = _networkx(graph, args.damping)
        budget = args.networkx_budget - setup["networkx"]
        found |= _timed({"networkx": run}, resets, budget)
    rows = _rows(n, graph, found, setup)
    rows[0]["note"] = f"{ppr.threads} thread(s); setup = operator precompute"
    next(r for r in rows if r["method"] == default)["note"] = "what the graph index runs"
    if args.networkx_budget > 0 and len(found["networkx"][0]) < len(resets):
        rows[-1]["note"] = f"stopped at the {args.networkx_budget:g} s budget (build included)"
    if igraph is None:
        rows.append({"size": n, "method": "igraph", "note": "not installed: memrag[bench]"})
    return rows


def _rows(n: int, graph: CSRGraph, found: dict, setup: dict[str, float]) -> list[dict]:
    """One row per method: latency, and its largest difference from memrag's scores."""
    ours, our_p50 = found["memrag"][1], latency_ms(found["memrag"][0])["p50"]
    rows = []
    for method, (seconds, results) in found.items():
        lat = latency_ms(seconds)
        pairs = list(zip(results, ours, strict=False))
        diff = max(float(np.abs(a - b).max()) for a, b in pairs)
        same = {f"top{k}_same": round(top_k_same(pairs, k), 3) for k in TOP_KS}
        rows.append({
            "size": n, "edges": graph.n_edges, "method": method,
            "setup_s": round_sig(setup[method]), "queries": len(seconds), "p50_ms": lat["p50"],
            "p95_ms": lat["p95"], "p50_vs_memrag": round(lat["p50"] / our_p50, 2),
            "max_abs_diff": None if method == "memrag" else float(f"{diff:.2e}"), **same,
            "note": None,
        })  # fmt: skip
    return rows


def top_k_same(pairs: list[tuple[np.ndarray, np.ndarray]], k: int) -> float:
    """Share of (scores, reference) pairs whose k best nodes, in order, are the same."""
    same = [
        np.array_equal(np.argsort(-a, kind="stable")[:k], np.argsort(-b, kind="stable")[:k])
        for a, b in pairs
    ]
    return float(np.mean(same)) if same else 0.0


def run_ppr_bench(args: PPRBenchOptions) -> str:
    """Run the benchmark, write results.json and results.md into args.out, return the text."""
    result: dict[str, Any] = {
        "machine": machine_info(),
        "args": asdict(args) | {"out": str(args.out)},
    }
    result["ppr"] = [row for n in parse_sizes(args.sizes) for row in bench_ppr(n, args)]
    parts = [
        f"Machine: {machine_line(result['machine'])}",
        f"## Personalized PageRank (damping {args.damping}, L1 tol {TOL:g})",
        f"Random weighted graphs, {args.edges_per_node} edges drawn per node; {args.queries} "
        "reset vectors of 5–20 seeds. p50_vs_memrag = p50 / memrag's p50. setup_s: memrag's "
        "operator precompute, the libraries' graph builds.",
        markdown_table(result["ppr"], PPR_COLUMNS),
    ]
    if args.synonymy > 0:
        result["synonymy"] = bench_synonymy(args.synonymy, args.dim, args.seed)
        parts.append(synonymy_markdown(result["synonymy"]))
    text = "\n\n".join(parts) + "\n"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    (args.out / "results.md").write_text(text)
    return text
