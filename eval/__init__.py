"""Evaluation and benchmarks: retrieval quality, answer quality, speed and memory.

import eval
table = eval.run("../shared/data/musique-100", pipelines=["dense", "bm25", "hybrid"])
table.to_markdown()
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rag.lazy import lazy_attributes

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


__getattr__, __dir__ = lazy_attributes("eval", _LAZY, __all__)
