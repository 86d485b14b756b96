"""Compute settings that measurably matter on small machines."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from threadpoolctl import ThreadpoolController


@cache
def _controller() -> ThreadpoolController:
    """The process's BLAS/OpenMP thread pools (inspected once: it walks loaded libraries)."""
    return ThreadpoolController()


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Run matrix-vector products of one query on one BLAS thread.

    OpenBLAS splits a (17k x 384) float32 mat-vec over every core; on the 2-core reference
    machine that took 8 ms instead of 1 ms on one thread, because waking the second thread costs
    more than the product. Entering this context costs about 7 microseconds.
    """
    with _controller().limit(limits=1, user_api="blas"):
        yield
