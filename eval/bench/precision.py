"""The precision benchmark of issue 14: whole MuSiQue graph builds per embedder precision, then
embed-only speed and quality (eval.bench.precision_embed), all in one run with the CPU's flags."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any

from eval.bench.precision_embed import CONFIGS, embed_table, quality_guard, run_embed_bench

#: CPU flags that decide which precisions run natively.
CPU_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8")


def cpu_flags() -> list[str]:
    """The CPU_FLAGS this machine's /proc/cpuinfo lists (empty where there is none)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        return []
    found = set(re.findall(r"\b\w+\b", " ".join(re.findall(r"^flags\s*:(.*)$", text, re.M))))
    return [flag for flag in CPU_FLAGS if flag in found]


def default_configs() -> list[str]:
    """OpenVINO fp32 and int8, and bf16 where the CPU has it."""
    from rag.embed.openvino_encoder import cpu_has_bf16

    bf16 = ["openvino-bf16"] if cpu_has_bf16() else []
    return ["openvino-fp32", *bf16, "openvino-int8"]


def _graph_set(sets: list[Path]) -> tuple[Path, Path]:
    """The first set with a cached OpenIE file (musique-100), and that file."""
    for folder in sets:
        cached = sorted(folder.glob("openie*.json"))
        if cached:
            return folder, cached[0]
    raise FileNotFoundError("--build needs a set with a cached OpenIE file (openie*.json)")


def bench_graph_builds(
    configs: list[str], folder: Path, openie: Path, cache_dir: Path, work: Path
) -> tuple[list[dict[str, Any]], Path]:
    """Build the set's dense + graph index from scratch once per configuration (fresh process,
    empty embedding cache); rows of timings, and a file of the graph's phrases."""
    from eval.bench.build import bench_build
    from graphs.storage import load_graph
    from rag.settings import Settings

    base = Settings(cache_dir=cache_dir, show_progress=False)
    base = base.with_section("graph", extractor=f"cache:{openie}")
    rows, phrases_file = [], work / "phrases.json"
    for name in configs:
        backend, precision = CONFIGS[name]
        settings = base.with_section("embedder", backend=backend, precision=precision)
        index = work / f"index-{name}"
        build = bench_build([folder / "corpus.json"], index, settings, kinds=["dense", "graph"])
        graph = load_graph(index / "graph")
        phrases = [*graph.entities, *graph.fact_texts]
        if not phrases_file.exists():
            phrases_file.write_text(json.dumps(phrases), encoding="utf-8")
        stages = build["stages"]
        phrase_s = stages.get("graph:embed", {}).get("seconds") or float("nan")
        rows.append({
            "config": name, "embedder": build["embedder"], "passages": build["passages"],
            "phrases": len(phrases), "build_s": build["seconds"],
            "build_passages_per_s": build["passages_per_s"],
            "embed_passages_per_s": stages.get("embed", {}).get("passages_per_s"),
            "graph_s": stages.get("index:graph", {}).get("seconds"),
            "graph_embed_s": phrase_s, "phrases_per_s": round(len(phrases) / phrase_s, 1),
        })  # fmt: skip
    return rows, phrases_file


def build_table(rows: list[dict[str, Any]]) -> str:
    """Markdown: one line per configuration's graph build."""
    lines = [
        "| config | passages | phrases | build s | passages/s (build) | passages/s (embed stage) "
        "| graph stage s | phrase embed s | phrases/s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['config']} | {r['passages']} | {r['phrases']} | {r['build_s']:.1f} | "
            f"{r['build_passages_per_s']} | {r['embed_passages_per_s']} | {r['graph_s']} | "
            f"{r['graph_embed_s']} | {r['phrases_per_s']} |"
        )
    return "\n".join(lines)


def run_precision_bench(args: Any) -> str:
    """Builds (with args.build), then embed-only runs; markdown, and JSON at args.json_out."""
    from eval.bench.system import machine_info, machine_line

    configs = args.configs or default_configs()
    sets = [Path(s) for s in args.data]
    summary: dict[str, Any] = {"machine": machine_info(), "cpu_flags": cpu_flags()}
    parts = [f"machine: {machine_line(summary['machine'])}; flags: {' '.join(cpu_flags())}"]
    with tempfile.TemporaryDirectory(prefix="memrag-precision-") as tmp:
        phrases = None
        if args.build:
            folder, openie = _graph_set(sets)
            builds, phrases = bench_graph_builds(configs, folder, openie, args.cache_dir, Path(tmp))
            summary["builds"] = builds
            parts.append(f"## Whole build: {folder.name}, dense + graph\n\n{build_table(builds)}")
        rows = run_embed_bench(configs, sets, phrases, args)
    summary["embed"] = rows
    parts.append(f"## Embedding only\n\n{embed_table(rows)}")
    for name in rows:
        if CONFIGS[name][1] == "int8":
            failures = quality_guard(rows, name)
            summary.setdefault("guard", {})[name] = failures
            verdict = "passes" if not failures else "FAILS: " + "; ".join(failures)
            parts.append(f"{name} quality guard (R@5 within 0.005, mean cos >= 0.99): {verdict}")
    if args.json_out:
        args.json_out.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return "\n\n".join(parts)
