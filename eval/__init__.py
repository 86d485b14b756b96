"""Evaluation and benchmarks: retrieval quality, answer quality, speed and memory.

import eval
table = eval.run("../shared/data/musique-100", pipelines=["dense", "bm25", "hybrid"])
print(table)
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from eval.datasets import Dataset, load_dataset
    from eval.report import ResultTable
    from eval.runner import run

__all__ = ["Dataset", "ResultTable", "load_dataset", "run"]

_LAZY = {
    "Dataset": "eval.datasets",
    "load_dataset": "eval.datasets",
    "ResultTable": "eval.report",
    "run": "eval.runner",
}


def __getattr__(name: str) -> Any:
    """Import public names on first use, so `import eval` stays light."""
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'eval' has no attribute {name!r}")
