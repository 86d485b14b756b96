"""Peak memory of synonymy kNN (graphs.synonymy.synonymy_edges) as the entity count grows.

    python experiments/ppr_scale/synonymy_memory.py --sizes 20000,40000,60000

Each size runs in its own process: clustered synthetic 384-d entity vectors (the shape
eval/bench/synonymy.py uses), every entity queried against all (a full graph build), method
auto. Prints the vectors' own size, the peak RSS above the process's baseline, the edges and
the seconds: a search whose memory grew with n² would show it here.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time


def _status_kb(field: str) -> int:
    """A kB figure of /proc/self/status (VmRSS, VmHWM)."""
    with open("/proc/self/status") as handle:
        line = next(line for line in handle if line.startswith(field + ":"))
    return int(line.split()[1])


def one(n: int) -> dict[str, float]:
    """Measure one size in this process."""
    import numpy as np

    from eval.bench.synonymy import clustered_unit_vectors
    from graphs.synonymy import synonymy_edges

    vectors = clustered_unit_vectors(n, 384, 0)
    # Linux: "5" resets the peak (VmHWM) to the current RSS, so the peak read after the search
    # is the search's own, not that of making the vectors.
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")
    base_kb = _status_kb("VmRSS")
    start = time.perf_counter()
    src, _, _ = synonymy_edges(vectors, np.arange(n), vectors)
    seconds = time.perf_counter() - start
    return {
        "entities": n,
        "vectors_mb": round(vectors.nbytes / 1e6, 1),
        "peak_above_baseline_mb": round((_status_kb("VmHWM") - base_kb) / 1e3, 1),
        "edges": int(src.size),
        "seconds": round(seconds, 1),
    }


def main() -> None:
    """Command line: --sizes, or --one N (the child process)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="20000,40000,60000")
    parser.add_argument("--one", type=int, default=0)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one)))  # read by the parent process
        return
    for n in (int(s) for s in args.sizes.split(",")):
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(n)], capture_output=True, text=True, check=True
        )
        print(out.stdout.strip().splitlines()[-1])  # a script's report, not library code


if __name__ == "__main__":
    main()
