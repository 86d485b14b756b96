"""What each step records on its trace event (the search details are in `rag.search_details`).

Steps produce these models and the inspector and the evaluation harness read their attributes,
so renaming a field fails type-checking and tests rather than a page at run time. In JSON each
output carries a `type` tag and otherwise the keys traces have always had (a retrieve step's
search details sit beside its hits, tagged with `kind`), so saved traces read both ways.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_serializer, model_validator

from rag.search_details import SearchDetails

#: Ranked (passage id, score) pairs, best first, as a trace keeps them.
Ranked = list[tuple[str, float]]


class _Output(BaseModel):
    """Base of a step's trace output."""

    model_config = ConfigDict(extra="forbid")


class RetrieveOutput(_Output):
    """A retrieve step: its ranking and, for one searched text, what the index found."""

    type: Literal["retrieve"] = "retrieve"
    hits: Ranked = Field(default_factory=list)
    search: SearchDetails | None = None

    @model_validator(mode="before")
    @classmethod
    def _nest_details(cls, data: Any) -> Any:
        """Read the flat JSON form: keys beside `hits`, tagged by `kind`, are the details."""
        if not isinstance(data, dict) or "kind" not in data:
            return data
        own = {"type", "hits", "search"}
        details = {k: v for k, v in data.items() if k not in own and k != "kind"}
        return {
            **{k: v for k, v in data.items() if k in own},
            "search": {"type": data["kind"], **details},
        }

    @model_serializer(mode="wrap")
    def _flat(self, handler: Any) -> dict[str, Any]:
        """Write the details beside the hits, as traces always had them."""
        data = dict(handler(self))
        search = data.pop("search", None)
        if search:
            search = dict(search)
            data.update({"kind": search.pop("type"), **search})
        return data


class FuseOutput(_Output):
    """A fuse step's ranking."""

    type: Literal["fuse"] = "fuse"
    hits: Ranked = Field(default_factory=list)


class RerankMove(BaseModel):
    """One scored hit of a rerank: its score and its rank before and after (1-based)."""

    passage_id: str
    score: float
    before: int
    after: int


class RerankOutput(_Output):
    """A rerank step: what scored, how many hits, the new ranking and each scored hit's move."""

    type: Literal["rerank"] = "rerank"
    scorer: str
    top_n: int
    hits: Ranked = Field(default_factory=list)
    moves: list[RerankMove] = Field(default_factory=list)


class GroupOutput(_Output):
    """A group records nothing of its own: its steps are its children."""

    type: Literal["group"] = "group"


class ClueTrace(BaseModel):
    """One drafted clue, who drafted it, and what it found (nothing for a draft answer)."""

    text: str
    kind: str
    drafter: str
    hits: list[str] = Field(default_factory=list)


class CluesOutput(_Output):
    """A draft_clues step: the memory read, the drafters run, the clues and the fused hits."""

    type: Literal["draft_clues"] = "draft_clues"
    memory: str = ""
    memory_texts: int | None = None
    drafters: list[str] = Field(
        default_factory=list, description="Drafters that ran, whether or not they found clues."
    )
    clues: list[ClueTrace] = Field(default_factory=list)
    question_hits: list[str] = Field(default_factory=list)
    hits: Ranked = Field(default_factory=list)


class RoundOutput(_Output):
    """One round of an iterate step: the text searched, the thought, and what was new.

    The reasoner's own details (its prompt examples, the chain it followed) are kept as extra
    keys, since each reasoner has its own.
    """

    model_config = ConfigDict(extra="allow")

    type: Literal["iteration"] = "iteration"
    round: int
    query: str | None = Field(None, description="The text searched: the question or a thought.")
    thought: str | None = None
    stop: bool = False
    stop_reason: str | None = None
    answer: str | None = None
    reasoner: str | None = None
    top: list[str] = Field(default_factory=list)
    new: list[str] = Field(default_factory=list)


class IterateOutput(_Output):
    """An iterate step: the top ids after each round, the thoughts, and why it stopped."""

    type: Literal["iterate"] = "iterate"
    rounds: list[list[str]] = Field(default_factory=list)
    thoughts: list[str] = Field(default_factory=list)
    stop_reason: str = ""
    answer: str | None = None
    hits: Ranked = Field(default_factory=list)


class GenerateOutput(_Output):
    """A generate step: the answer and the cited ids; the reader's own details as extra keys."""

    model_config = ConfigDict(extra="allow")

    type: Literal["generate"] = "generate"
    answer: str = ""
    citations: list[str] = Field(default_factory=list)


class OtherOutput(_Output):
    """Outputs of a step defined outside memrag, or not recorded (a step that failed)."""

    model_config = ConfigDict(extra="allow")

    type: Literal["other"] = "other"


StepOutput = Annotated[
    RetrieveOutput
    | FuseOutput
    | RerankOutput
    | GroupOutput
    | CluesOutput
    | RoundOutput
    | IterateOutput
    | GenerateOutput
    | OtherOutput,
    Field(discriminator="type"),
]

#: Step-label prefixes of traces written before outputs were tagged, by output type.
_LEGACY_TYPES = {
    "retrieve",
    "fuse",
    "group",
    "draft_clues",
    "iteration",
    "iterate",
    "generate",
}


def legacy_outputs(step: str, inputs: dict[str, Any], outputs: dict[str, Any]) -> dict[str, Any]:
    """Tag the untagged outputs of a trace written before they were typed, by the step label."""
    prefix, _, rest = step.partition(":")
    if prefix not in _LEGACY_TYPES:
        return {"type": "other", **outputs}
    tagged = {"type": prefix, **outputs}
    if prefix == "retrieve" and set(outputs) - {"hits"}:
        tagged["kind"] = rest.split(":", 1)[0]
    if prefix == "iteration":
        tagged["round"] = int(rest or 0)
        tagged.setdefault("query", inputs.get("query") or outputs.get("thought"))
    return tagged
