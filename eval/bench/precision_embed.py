"""Embedding speed and dense retrieval quality per backend and precision, on multi-hop sets.

Run with `rag bench precision SET...`; each configuration runs as a child process of this
module (`python -m eval.bench.precision_embed --child NAME`). Per configuration: passages/s on
each set, phrases/s on the MuSiQue graph's entity and fact phrases, single-query latency p50,
Recall@2/5 and cosine to OpenVINO fp32 (whole graph builds per configuration: eval.bench.precision).
Each configuration runs in its own process so that one backend's idle threads (torch's
OpenMP pool spins for a while after work) do not slow the next.
"""

from __future__ import annotations

import argparse
import functools
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from eval.bench.embed_sets import load_embed_set, recall_at

REFERENCE = "openvino-fp32"
CONFIGS: dict[str, tuple[str, str]] = {
    "st-fp32": ("torch", "fp32"),
    "torch-bf16": ("torch", "bf16"),
    "openvino-fp32": ("openvino", "fp32"),
    "openvino-bf16": ("openvino", "bf16"),
    "openvino-int8": ("openvino", "int8"),
}
#: The int8 quality guard of issue 14: Recall@5 within this of fp32 on every set ...
MAX_RECALL_DROP = 0.005
#: ... and mean cosine to fp32 at least this.
MIN_MEAN_COSINE = 0.99


def _rate(n: int, run: Any) -> tuple[float, float, Any]:
    """Texts per wall second and per CPU second of this process, and run()'s result."""
    started, cpu_started = time.perf_counter(), time.process_time()
    result = run()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    return n / wall, n / max(cpu, 1e-9), result


def measure(name: str, sets: list[Path], phrases: Path | None, out: Path, args: Any) -> None:
    """Child process: embed every set (and the phrases) with one configuration; save results."""
    from rag.embed import make_embedder
    from rag.settings import EmbedderSettings

    backend, precision = CONFIGS[name]
    settings = EmbedderSettings(
        backend=backend, precision=precision, batch_size=args.batch_size, cache=False
    )
    embedder = make_embedder(settings, args.cache_dir)
    result: dict[str, Any] = {"cache_key": embedder.cache_key, "sets": {}}
    for folder in sets:
        data = load_embed_set(folder)
        embedder.embed(data.texts[:64])  # warm-up: first batches pay for allocation and kernels
        run = functools.partial(embedder.embed, data.texts)
        runs = [_rate(len(data.texts), run) for _ in range(args.repeats)]
        np.save(out / f"{name}.{data.name}.corpus.npy", runs[-1][2])
        np.save(out / f"{name}.{data.name}.questions.npy", embedder.embed(data.questions))
        # Query time: one short text per call, as `ask` embeds it.
        latencies = []
        for question in data.questions[: args.queries]:
            started = time.perf_counter()
            embedder.embed_query(question)
            latencies.append(time.perf_counter() - started)
        result["sets"][data.name] = {
            "per_s": max(r[0] for r in runs),
            "per_cpu_s": max(r[1] for r in runs),
            "query_p50_ms": 1000 * float(np.median(latencies[1:])),
        }
    if phrases is not None:
        texts = json.loads(phrases.read_text(encoding="utf-8"))
        if 0 < args.phrase_sample < len(texts):
            # A fixed sample: the rate is per phrase, and every configuration embeds the same.
            picked = np.random.default_rng(0).choice(len(texts), args.phrase_sample, replace=False)
            texts = [texts[i] for i in sorted(picked)]
        per_s, per_cpu_s, vectors = _rate(len(texts), functools.partial(embedder.embed, texts))
        np.save(out / f"{name}.phrases.npy", vectors)
        result["phrases"] = {"n": len(texts), "per_s": per_s, "per_cpu_s": per_cpu_s}
    (out / f"{name}.json").write_text(json.dumps(result), encoding="utf-8")


def _score(name: str, sets: list[Path], out: Path) -> dict[str, dict[str, float]]:
    """Recall@2/5 per set, and cosine of passage and question vectors to the reference's."""
    scores = {}
    for folder in sets:
        data = load_embed_set(folder)
        vectors = [
            np.load(out / f"{name}.{data.name}.{part}.npy") for part in ("corpus", "questions")
        ]
        reference = [
            np.load(out / f"{REFERENCE}.{data.name}.{p}.npy") for p in ("corpus", "questions")
        ]
        cosines = np.concatenate([(a * b).sum(1) for a, b in zip(vectors, reference, strict=True)])
        ranked = vectors[1] @ vectors[0].T
        scores[data.name] = {
            "recall@2": recall_at(ranked, data.golds, 2),
            "recall@5": recall_at(ranked, data.golds, 5),
            "mean_cos": float(cosines.mean()),
            "min_cos": float(cosines.min()),
        }
    return scores


def reference_phrases(out: Path) -> np.ndarray:
    """The reference configuration's phrase vectors."""
    return np.asarray(np.load(out / f"{REFERENCE}.phrases.npy"))


def quality_guard(rows: dict[str, dict[str, Any]], name: str) -> list[str]:
    """The ways `name` fails the int8 guard against the reference (empty when it passes)."""
    failures = []
    for set_name, got in rows[name]["quality"].items():
        want = rows[REFERENCE]["quality"][set_name]
        if got["recall@5"] < want["recall@5"] - MAX_RECALL_DROP:
            failures.append(f"{set_name}: R@5 {got['recall@5']:.4f} vs {want['recall@5']:.4f}")
        if got["mean_cos"] < MIN_MEAN_COSINE:
            failures.append(f"{set_name}: mean cosine {got['mean_cos']:.4f}")
    return failures


def run_embed_bench(
    configs: list[str], sets: list[Path], phrases: Path | None, args: Any
) -> dict[str, dict[str, Any]]:
    """Each configuration in a fresh process; rows of speed and quality per configuration."""
    if REFERENCE not in configs:
        configs = [REFERENCE, *configs]
    rows: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="memrag-embed-speed-") as tmp:
        out = Path(tmp)
        for name in configs:
            cmd = [sys.executable, "-m", "eval.bench.precision_embed", "--child", name]
            cmd += ["--out", str(out)]
            cmd += ["--data", *map(str, sets), "--batch-size", str(args.batch_size)]
            cmd += ["--repeats", str(args.repeats), "--queries", str(args.queries)]
            cmd += ["--cache-dir", str(args.cache_dir)]
            if phrases is not None:
                cmd += ["--phrases", str(phrases)]
            subprocess.run(cmd, check=True)
            rows[name] = json.loads((out / f"{name}.json").read_text(encoding="utf-8"))
        for name in configs:
            rows[name]["quality"] = _score(name, sets, out)
            if phrases is not None:
                cosines = (np.load(out / f"{name}.phrases.npy") * reference_phrases(out)).sum(1)
                rows[name]["phrases"].update(mean_cos=float(cosines.mean()))
                rows[name]["phrases"].update(min_cos=float(cosines.min()))
    return rows


def embed_table(rows: dict[str, dict[str, Any]]) -> str:
    """Markdown: one line per configuration and set."""
    lines = [
        "| config | set | passages/s | per CPU-s | query p50 ms | R@2 | R@5 | mean cos | min cos |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, row in rows.items():
        for set_name, speed in row["sets"].items():
            q = row["quality"][set_name]
            lines.append(
                f"| {name} | {set_name} | {speed['per_s']:.1f} | {speed['per_cpu_s']:.1f} | "
                f"{speed['query_p50_ms']:.2f} | {q['recall@2']:.4f} | {q['recall@5']:.4f} | "
                f"{q['mean_cos']:.4f} | {q['min_cos']:.4f} |"
            )
        if "phrases" in row:
            p = row["phrases"]
            lines.append(
                f"| {name} | {p['n']} graph phrases | {p['per_s']:.1f} | {p['per_cpu_s']:.1f} "
                f"| | | | {p['mean_cos']:.4f} | {p['min_cos']:.4f} |"
            )
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options (the child process reuses them)."""
    from rag.settings import load_settings

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data", type=Path, nargs="+", required=True)
    parser.add_argument("--configs", nargs="+", default=None, choices=list(CONFIGS),
                        help="default: OpenVINO fp32, bf16 (if the CPU has it), int8")  # fmt: skip
    parser.add_argument("--build", action="store_true", help="also time whole graph builds")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=1, help="timed passes; the best is shown")
    parser.add_argument("--queries", type=int, default=101, help="single queries timed per set")
    parser.add_argument("--cache-dir", type=Path, default=load_settings().cache_dir,
                        help="where the ONNX export and the int8 model are cached")  # fmt: skip
    parser.add_argument("--json-out", type=Path, help="also write all figures as JSON")
    parser.add_argument("--phrase-sample", type=int, default=6000,
                        help="embed-only phrases/s on this many phrases (0: all)")  # fmt: skip
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--phrases", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """One configuration of the benchmark, in its own process (`rag bench precision` runs it)."""
    args = parse_args(argv)
    if not args.child:
        raise SystemExit("run the precision benchmark with `rag bench precision SET...`")
    measure(args.child, args.data, args.phrases, args.out, args)


if __name__ == "__main__":
    main()
