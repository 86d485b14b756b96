"""The Step contract: a small validated config whose public `run` traces its private `_run`."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from pipelines.state import BUILTIN_SOURCES, QueryState, Resources
from pipelines.trace import traced
from rag.errors import ConfigError

logger = logging.getLogger(__name__)

STEP_TYPES: dict[str, type[Step]] = {}


class Step(BaseModel, ABC):
    """One stage of a pipeline; constructing it is cheap, heavy work happens in `_run`.

    A step names what it reads and writes (`reads`, `writes`, `reads_texts`, `writes_texts`),
    so a pipeline checks its references when it loads, not halfway through a query.
    """

    model_config = ConfigDict(extra="forbid")

    #: The name used for this step type in pipeline YAML (`type: retrieve`).
    type_name: ClassVar[str]
    #: Whether the step produces the answer (skipped when a pipeline runs retrieval-only).
    answers: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Register concrete step classes under their `type_name`."""
        super().__init_subclass__(**kwargs)
        if "type_name" in cls.__dict__:
            STEP_TYPES[cls.type_name] = cls

    @property
    def label(self) -> str:
        """A short label for traces, e.g. 'retrieve:dense'."""
        return self.type_name

    def run(self, state: QueryState) -> QueryState:
        """Run the step, recording its trace event (time, LLM use, nested steps).

        A step that answers is skipped when the state is retrieval-only, wherever it stands.
        """
        if self.answers and state.retrieval_only:
            return state
        with traced(state, self.label):
            return self._run(state)

    @abstractmethod
    def _run(self, state: QueryState) -> QueryState:
        """Do this step's work on the state and return it."""

    def reads(self) -> list[str]:
        """Names of hit lists this step needs from earlier steps."""
        return []

    def writes(self) -> list[str]:
        """Names of hit lists this step produces."""
        return []

    def reads_texts(self) -> list[str]:
        """Names of query-text sources this step searches with."""
        return []

    def writes_texts(self) -> list[str]:
        """Names of query-text fields this step fills."""
        return []

    def substeps(self) -> list[Step]:
        """Steps this one runs inside its own (a group, an iteration); none by default."""
        return []

    def index_names(self) -> set[str]:
        """Indexes this step (and any step it wraps) searches."""
        return set()

    def check_resources(self, resources: Resources) -> None:
        """Fail with a ConfigError when the opened index lacks what this step needs."""
        for name in self.index_names():
            resources.index(name)

    def to_config(self) -> dict[str, Any]:
        """This step as a YAML-ready mapping."""
        return {"type": self.type_name, **self.model_dump(exclude_defaults=True)}


def _legacy(type_name: Any, params: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """Map step types of earlier releases onto today's (graph_retrieve is retrieve on graph)."""
    if type_name == "graph_retrieve":
        logger.warning("step type 'graph_retrieve' is now 'retrieve' with index: graph")
        params.setdefault("index", "graph")
        return "retrieve", params
    return type_name, params


def step_from_config(config: dict[str, Any]) -> Step:
    """Build a step from a mapping with a `type` key, naming the known types on error."""
    if not isinstance(config, dict):
        raise ValueError(f"a step must be a mapping with a 'type', got {config!r}")
    type_name, params = _legacy(
        config.get("type"), {k: v for k, v in config.items() if k != "type"}
    )
    if type_name not in STEP_TYPES:
        raise ValueError(f"unknown step type {type_name!r} (known: {sorted(STEP_TYPES)})")
    return STEP_TYPES[type_name](**params)


def in_run_order(steps: list[Step], prefix: str = "") -> list[tuple[str, Step]]:
    """Steps with their numbers ('2', '2.1', ...), wrapped steps before their wrapper."""
    ordered = []
    for n, step in enumerate(steps, start=1):
        number = f"{prefix}{n}"
        ordered.extend(in_run_order(step.substeps(), f"{number}."))
        ordered.append((number, step))
    return ordered


def check_references(steps: list[Step], where: str) -> None:
    """Every hit list and text source a step reads is produced by an earlier step."""
    lists: set[str] = set()
    texts: set[str] = set(BUILTIN_SOURCES)
    for n, step in in_run_order(steps):
        missing = [name for name in step.reads() if name not in lists]
        if missing:
            known = ", ".join(sorted(lists)) or "none yet"
            raise ConfigError(
                f"{where}: step {n} ({step.label}) reads {', '.join(missing)}, which no earlier "
                f"step produces (available: {known})"
            )
        unknown = [name for name in step.reads_texts() if name not in texts]
        if unknown:
            raise ConfigError(
                f"{where}: step {n} ({step.label}) searches with {', '.join(unknown)}, which is "
                f"not a query source (known: {', '.join(sorted(texts))})"
            )
        lists.update(step.writes())
        texts.update(step.writes_texts())
