"""The Step contract: a small validated config object with `run(state) -> state`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from pipelines.state import QueryState

STEP_TYPES: dict[str, type[Step]] = {}


class Step(BaseModel, ABC):
    """One stage of a pipeline; constructing it is cheap, heavy work happens in `run`."""

    model_config = ConfigDict(extra="forbid")

    #: The name used for this step type in pipeline YAML (`type: retrieve`).
    type_name: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Register concrete step classes under their `type_name`."""
        super().__init_subclass__(**kwargs)
        if "type_name" in cls.__dict__:
            STEP_TYPES[cls.type_name] = cls

    @property
    def label(self) -> str:
        """A short label for traces, e.g. 'retrieve:dense'."""
        return self.type_name

    @abstractmethod
    def run(self, state: QueryState) -> QueryState:
        """Do this step's work on the state and return it."""

    def to_config(self) -> dict[str, Any]:
        """This step as a YAML-ready mapping."""
        return {"type": self.type_name, **self.model_dump(exclude_defaults=True)}


def step_from_config(config: dict[str, Any]) -> Step:
    """Build a step from a mapping with a `type` key, naming the known types on error."""
    params = dict(config)
    type_name = params.pop("type", None)
    if type_name not in STEP_TYPES:
        raise ValueError(f"unknown step type {type_name!r} (known: {sorted(STEP_TYPES)})")
    return STEP_TYPES[type_name](**params)
