"""Embedding throughput and dense retrieval quality per backend and precision on MuSiQue-100.

Run from the repository root:  HF_HUB_OFFLINE=1 python -m eval.embed_speed
Each configuration runs in its own process so that one backend's idle threads
(torch's OpenMP pool spins for a while after work) do not slow the next.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Literal

import numpy as np

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "musique-100"
Backend = Literal["torch", "openvino"]
Precision = Literal["fp32", "bf16"]
CONFIGS: dict[str, tuple[Backend, Precision]] = {
    "st-fp32": ("torch", "fp32"),
    "torch-bf16": ("torch", "bf16"),
    "openvino-fp32": ("openvino", "fp32"),
    "openvino-bf16": ("openvino", "bf16"),
}


def load_corpus(data: Path) -> tuple[list[str], dict[tuple[str, str], int]]:
    """Passage texts (title, newline, text) and a (title, text) -> row lookup."""
    corpus = json.loads((data / "corpus.json").read_text(encoding="utf-8"))
    texts = [f"{p['title']}\n{p['text']}" for p in corpus]
    return texts, {(p["title"], p["text"]): i for i, p in enumerate(corpus)}


def load_questions(data: Path, rows: dict[tuple[str, str], int]) -> list[tuple[str, set[int]]]:
    """Each question with the corpus rows of its supporting paragraphs."""
    questions = json.loads((data / "questions.json").read_text(encoding="utf-8"))
    out = []
    for q in questions:
        gold = {
            rows[(p["title"], p["paragraph_text"])] for p in q["paragraphs"] if p["is_supporting"]
        }
        out.append((q["question"], gold))
    return out


def recall_at(scores: np.ndarray, golds: list[set[int]], k: int) -> float:
    """Mean share of gold passages among each question's top k."""
    top = np.argsort(-scores, axis=1)[:, :k]
    hits = [len(g & set(t.tolist())) / len(g) for t, g in zip(top, golds, strict=True)]
    return float(np.mean(hits))


def measure(
    name: str, data: Path, out: Path, cache_dir: Path, batch_size: int, repeats: int
) -> None:
    """Child process: embed corpus and questions with one configuration, save vectors and timing."""
    from rag.embed import make_embedder
    from rag.settings import EmbedderSettings

    backend, precision = CONFIGS[name]
    settings = EmbedderSettings(
        backend=backend, precision=precision, batch_size=batch_size, cache=False
    )
    embedder = make_embedder(settings, cache_dir)
    texts, rows = load_corpus(data)
    questions = load_questions(data, rows)
    embedder.embed(texts[:64])  # warm-up: first batches pay for allocation and kernel choice
    rates, cpu_rates = [], []
    for _ in range(repeats):
        started, cpu_started = time.perf_counter(), time.process_time()
        vectors = embedder.embed(texts)
        rates.append(len(texts) / (time.perf_counter() - started))
        cpu_rates.append(len(texts) / (time.process_time() - cpu_started))
    np.save(out / f"{name}.corpus.npy", vectors)
    np.save(out / f"{name}.questions.npy", embedder.embed([q for q, _ in questions]))
    (out / f"{name}.json").write_text(json.dumps({"rates": rates, "cpu_rates": cpu_rates}))


def main() -> None:
    """Run every configuration in a fresh process and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3, help="timed passes; the best is shown")
    parser.add_argument("--cache-dir", type=Path, default=None, help="ONNX export cache")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cache_dir = args.cache_dir or Path(tmp) / "cache"
        if args.child:
            measure(args.child, args.data, args.out, cache_dir, args.batch_size, args.repeats)
            return
        out = Path(tmp)
        texts, rows = load_corpus(args.data)
        golds = [g for _, g in load_questions(args.data, rows)]
        print(f"{len(texts)} passages, {len(golds)} questions, batch {args.batch_size}")
        # passages per CPU-second tells configurations apart even on a busy shared machine.
        header = f"{'config':<15} {'passages/s':>10} {'per cpu-s':>9} {'R@2':>6} {'R@5':>6}"
        print(f"{header} {'min cos vs st-fp32':>19}")
        reference = None
        for name in args.configs:
            cmd = [sys.executable, "-m", "eval.embed_speed", "--child", name, "--out", str(out)]
            cmd += ["--data", str(args.data), "--batch-size", str(args.batch_size)]
            cmd += ["--repeats", str(args.repeats), "--cache-dir", str(cache_dir)]
            subprocess.run(cmd, check=True)
            corpus = np.load(out / f"{name}.corpus.npy")
            scores = np.load(out / f"{name}.questions.npy") @ corpus.T
            timing = json.loads((out / f"{name}.json").read_text())
            rate, cpu_rate = max(timing["rates"]), max(timing["cpu_rates"])
            if name == "st-fp32":
                reference = corpus
            cos = f"{(corpus * reference).sum(1).min():.5f}" if reference is not None else "-"
            r2, r5 = recall_at(scores, golds, 2), recall_at(scores, golds, 5)
            row = f"{name:<15} {rate:>10.1f} {cpu_rate:>9.1f} {r2:>6.3f} {r5:>6.3f}"
            print(f"{row} {cos:>19}", flush=True)


if __name__ == "__main__":
    main()
