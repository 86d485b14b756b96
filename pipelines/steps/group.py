"""GroupStep: run several steps as one named unit, traced as a parent of theirs."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from pipelines.state import QueryState
from pipelines.step import Step, step_from_config
from rag.trace_outputs import GroupOutput


class GroupStep(Step):
    """A named sequence of steps (say, the candidate retrievals of a hybrid) whose trace event
    holds theirs as children, with the group's own time and LLM use including them."""

    type_name = "group"

    name: str = Field(description="Label of the group in traces.")
    steps: list[Step] = Field(min_length=1, description="The steps, run in order.")

    @field_validator("steps", mode="before")
    @classmethod
    def _build_steps(cls, value: Any) -> Any:
        """Steps given as mappings (from YAML) are built by type."""
        if not isinstance(value, list):
            return value
        return [step_from_config(s) if isinstance(s, dict) else s for s in value]

    @property
    def label(self) -> str:
        """E.g. 'group:candidates'."""
        return f"group:{self.name}"

    def substeps(self) -> list[Step]:
        """The steps it runs."""
        return list(self.steps)

    def index_names(self) -> set[str]:
        """Every index its steps search."""
        return set().union(*(s.index_names() for s in self.steps))

    def _run(self, state: QueryState) -> QueryState:
        """Run the steps in order; each records its own event under this one."""
        for step in self.steps:
            state = step.run(state)
        state.record(inputs={"steps": [s.label for s in self.steps]}, outputs=GroupOutput())
        return state

    def to_config(self) -> dict[str, Any]:
        """This group, with its steps as YAML-ready mappings."""
        return {
            "type": self.type_name,
            "name": self.name,
            "steps": [s.to_config() for s in self.steps],
        }
