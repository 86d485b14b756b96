"""A local Ray runtime for the Ray engine's tests: 2 CPUs, no dashboard, workers that can import
the tests package and run offline with the tests' embedding precision."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@contextmanager
def local_ray() -> Iterator[None]:
    """Start Ray for one test module and shut it down after."""
    import ray

    env = {"PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    env["RAG_EMBEDDER__PRECISION"] = os.environ.get("RAG_EMBEDDER__PRECISION", "bf16")
    ray.init(num_cpus=2, include_dashboard=False, runtime_env={"env_vars": env})
    try:
        yield
    finally:
        ray.shutdown()
