"""Run a measurement in a fresh interpreter, so its peak memory is its own and nothing else's."""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from rag.errors import MemragError

logger = logging.getLogger(__name__)
T = TypeVar("T")


def run_isolated(func: Callable[..., T], *args: Any) -> T:
    """Call `func(*args)` in a newly spawned process and return its (picklable) result.

    Spawn, not fork: a forked child would start with the parent's pages (models, earlier
    indexes) and its peak RSS would count them. `func` must be a module-level function.
    """
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        try:
            return pool.submit(func, *args).result()
        except BrokenProcessPool as exc:
            # The usual cause is the kernel's OOM killer; say so instead of a bare pool error.
            raise MemragError(
                f"the benchmark process running {func.__name__} died (out of memory?)"
            ) from exc
