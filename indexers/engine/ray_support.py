"""Ray, imported only here and only when the Ray engine is asked for (`memrag[ray]`)."""

from __future__ import annotations

import logging
import os
import time
from types import ModuleType

from rag.errors import MissingExtraError

logger = logging.getLogger(__name__)

#: Set in every Ray worker this process starts: the offline switches and the embedding precision.
FORWARDED_ENV = (
    "HF_HUB_OFFLINE",
    "TRANSFORMERS_OFFLINE",
    "TOKENIZERS_PARALLELISM",
    "RAG_EMBEDDER__PRECISION",
)


def import_ray() -> ModuleType:
    """The `ray` module with Ray Data, or an error naming the extra to install."""
    try:
        import ray
        import ray.data  # Ray Data is what the engine runs on
    except ImportError as exc:
        raise MissingExtraError("ray[data]", "ray") from exc
    return ray


def connect(address: str | None, *, quiet: bool = True) -> tuple[ModuleType, bool, float]:
    """Join the Ray cluster at `address` (none: start a local one, unless one is running).

    Returns the module, whether this call started the runtime (so it should shut it down), and
    the seconds it took: Ray's start-up overhead, reported apart from the build's own stages.
    """
    ray = import_ray()
    if ray.is_initialized():
        return ray, False, 0.0
    start = time.perf_counter()
    env = {name: os.environ[name] for name in FORWARDED_ENV if name in os.environ}
    ray.init(
        address=address,
        include_dashboard=False,
        logging_level=logging.WARNING,
        log_to_driver=not quiet,
        runtime_env={"env_vars": env} if env else None,
    )
    seconds = time.perf_counter() - start
    logger.info("ray: joined %s in %.1f s", address or "a new local runtime", seconds)
    return ray, True, seconds


def quiet_data(show_progress: bool) -> None:
    """Ray Data's progress bars only when the build shows its own."""
    ray = import_ray()
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = show_progress
    context.enable_operator_progress_bars = show_progress
