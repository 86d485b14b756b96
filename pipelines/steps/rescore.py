"""The shape every rescoring step shares: it reads one hit list and writes another."""

from __future__ import annotations

from pydantic import Field

from pipelines.step import Step


class RescoringStep(Step):
    """A step that rescores one earlier hit list (`input`) into a new one (`output`)."""

    input: str = Field(description="The hit list to rescore, e.g. fused or bm25.")
    output: str = Field(description="Name of the rescored hit list.")

    @property
    def label(self) -> str:
        """E.g. 'speaker:fused'."""
        return f"{self.type_name}:{self.input}"

    def reads(self) -> list[str]:
        """The list it rescores."""
        return [self.input]

    def writes(self) -> list[str]:
        """The rescored list."""
        return [self.output]
