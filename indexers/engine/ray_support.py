"""Ray, imported only here and only when the Ray engine is asked for (`memrag[ray]`): joining a
cluster, and reading a dataset's rows with a worker's failure turned into a StageError."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any

from indexers.engine.stages import StageError
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


def results_of(data: Any, stage: str) -> Iterator[dict[str, Any]]:
    """A dataset's rows; a failed batch raises its StageError, naming the batch's files."""
    try:
        yield from data.iter_rows()
    except Exception as exc:
        raise StageError(_stage_message(exc) or _first_line(stage, exc)) from None


def _stage_message(exc: BaseException) -> str | None:
    """The message of the StageError a worker raised, found in a Ray error's chain or text.

    Ray hands a worker's exception back wrapped (RayTaskError, UserCodeException); depending on
    the version the original survives as a cause or only in the worker's traceback text.
    """
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, StageError) and current.args:
            return str(current.args[0])
        todo += [current.__cause__, current.__context__, getattr(current, "cause", None)]
    marker = f"{StageError.__name__}: "
    lines = [line for line in str(exc).splitlines() if marker in line]
    return lines[0].split(marker, 1)[1].strip() if lines else None


def _first_line(stage: str, exc: BaseException) -> str:
    """A short error for a stage that failed without a StageError (a lost node, say)."""
    text = str(exc).strip()
    first = text.splitlines()[-1] if text else type(exc).__name__
    return f"the {stage} stage failed on Ray ({type(exc).__name__}): {first}"
