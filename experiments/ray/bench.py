"""Issue 24 measurements: dataset index builds in-process and with `--engine ray`, and their recall.

    python experiments/ray/bench.py build --dataset D --cache C --label L [--address HOST:PORT]
    python experiments/ray/bench.py eval  --dataset D --cache C --label L [--address HOST:PORT]

`build` runs `rag index` (the real command) into the folder `rag eval` looks for this dataset's
index in, under `/usr/bin/time` for the driver's peak memory, while a sampler sums the resident
memory of the Ray processes (raylets, GCS, workers). `eval` runs `rag eval --no-answer` over that
index. Each appends one JSON line to experiments/ray/results.jsonl. Separate cache dirs per
variant keep one build from finding another's embeddings.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.jsonl"
PIPELINES = "dense,bm25,hybrid,hipporag2"
KINDS = ["bm25", "dense", "graph"]  # what rag eval builds for these pipelines, sorted as it does


def index_dir(dataset: Path, cache: Path) -> tuple[Path, str | None]:
    """Where `rag eval` keeps the dataset's index under `cache`, and its graph extractor."""
    from eval.datasets import load_dataset
    from eval.runner import _index_path, with_dataset_extractor
    from rag.settings import load_settings

    settings = load_settings(None, {"cache_dir": str(cache)})
    ds = load_dataset(dataset, settings=settings)
    settings = with_dataset_extractor(ds, settings)
    extractor = settings.section("graph").get("extractor")
    return _index_path(ds, settings, KINDS, None), extractor


def _ray_rss(exclude: set[int]) -> int:
    """Bytes resident in Ray's processes (raylet, GCS, workers), leaving out `exclude`."""
    total = 0
    for proc in psutil.process_iter(["pid", "cmdline"]):
        try:
            cmd = " ".join(proc.info["cmdline"] or [])
            if proc.info["pid"] in exclude:
                continue
            if cmd.startswith("ray::") or "/site-packages/ray/" in cmd:
                total += proc.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total


class RaySampler(threading.Thread):
    """Samples the Ray processes' total resident memory every half second; keeps the peak."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak, self.exclude, self.stop = 0, {os.getpid()}, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, _ray_rss(self.exclude))
            self.stop.wait(0.5)


def build(args: argparse.Namespace) -> dict[str, Any]:
    """One `rag index` of the dataset's corpus; wall time, peak memory and the build report."""
    where, extractor = index_dir(args.dataset, args.cache)
    command = ["rag", "index", "--out", str(where), str(args.dataset / "corpus.json")]
    command += ["--kinds", ",".join(KINDS), "--json"]
    if extractor:
        command += ["--extractor", extractor]
    if args.address:
        command += ["--engine", "ray", "--ray-address", args.address]
    elif args.ray_local:
        command += ["--engine", "ray"]
    env = {**os.environ, "RAG_CACHE_DIR": str(args.cache), "RAG_SHOW_PROGRESS": "false"}
    if args.embed_actors:
        env["RAG_ENGINE__EMBED_ACTORS"] = str(args.embed_actors)
    with tempfile.NamedTemporaryFile("r") as timing:
        baseline = _ray_rss({os.getpid()})
        sampler = RaySampler()
        sampler.start()
        start = time.perf_counter()
        done = subprocess.run(
            ["/usr/bin/time", "-f", "%M", "-o", timing.name, *command],
            env=env,
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - start
        sampler.stop.set()
        sampler.join()
        if done.returncode != 0:
            sys.exit(f"rag index failed:\n{done.stderr[-3000:]}")
        peak_kb = int(timing.read().strip().splitlines()[-1])
    report = json.loads(done.stdout)
    return {
        "step": "build",
        "command": " ".join(command),
        "index": str(where),
        "wall_s": wall,
        "driver_peak_mb": peak_kb / 1024,
        "ray_peak_mb": sampler.peak / 2**20,
        "ray_baseline_mb": baseline / 2**20,
        "report": report,
    }


def evaluate(args: argparse.Namespace) -> dict[str, Any]:
    """`rag eval --no-answer` over the index `build` made: Recall@2/@5 per pipeline and its ids."""
    where, _ = index_dir(args.dataset, args.cache)
    command = ["rag", "eval", "--dataset", str(args.dataset), "-p", PIPELINES, "--no-answer"]
    command += ["--k", "2,5", "--json"]
    if args.address:
        command += ["--engine", "ray", "--ray-address", args.address]
    elif args.ray_local:
        command += ["--engine", "ray"]
    env = {**os.environ, "RAG_CACHE_DIR": str(args.cache), "RAG_SHOW_PROGRESS": "false"}
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"rag eval failed:\n{done.stderr[-3000:]}")
    table = json.loads(done.stdout)
    if table["meta"]["index"] != str(where):
        sys.exit(f"rag eval used {table['meta']['index']}, not the index built at {where}")
    from rag.store import PassageStore

    store = PassageStore(where / PassageStore.FILENAME)
    ids = sorted(store.ids())
    store.close()
    recall = {r["pipeline"]: {k: r[k] for k in ("recall@2", "recall@5")} for r in table["rows"]}
    return {
        "step": "eval",
        "command": " ".join(command),
        "index": str(where),
        "wall_s": time.perf_counter() - start,
        "recall": recall,
        "passages": len(ids),
        "ids_hash": hash_ids(ids),
    }


def hash_ids(ids: list[str]) -> str:
    """One digest of the sorted passage ids, to compare two builds' ids."""
    import hashlib

    return hashlib.sha256("\n".join(ids).encode()).hexdigest()[:16]


def main() -> None:
    """Run one step and append its JSON line to results.jsonl."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("step", choices=["build", "eval"])
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--label", required=True)
    parser.add_argument("--address", help="Ray cluster (host:port); none = in-process")
    parser.add_argument("--ray-local", action="store_true", help="--engine ray, a local Ray")
    parser.add_argument("--embed-actors", type=int)
    args = parser.parse_args()
    result = build(args) if args.step == "build" else evaluate(args)
    result.update(label=args.label, dataset=args.dataset.name, at=time.strftime("%H:%M:%S"))
    result["load_avg_1m"] = os.getloadavg()[0]
    with RESULTS.open("a", encoding="utf-8") as out:
        out.write(json.dumps(result) + "\n")
    print(json.dumps(result, indent=1)[:3000])


if __name__ == "__main__":
    main()
