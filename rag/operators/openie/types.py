"""What extraction produces: entities and (subject, relation, object) triples per passage."""

from __future__ import annotations

import logging
import math
from typing import Any

from pydantic import BaseModel, Field

logger = logging.getLogger(__name__)

Triple = tuple[str, str, str]


class Extraction(BaseModel):
    """What an extractor found in one passage."""

    passage_id: str
    entities: list[str] = Field(default_factory=list, description="Named entities as written.")
    triples: list[Triple] = Field(
        default_factory=list, description="(subject, relation, object), cleaned."
    )
    literals: list[str] = Field(
        default_factory=list,
        description="Names among the triples' parts that are values (dates, amounts), not "
        "things: a value is the same node only as its exact self, never a synonym of another.",
    )
    extractor: str = Field("", description="Name of the extractor that produced it.")
    failure: str | None = Field(
        None,
        exclude=True,
        description="Why a stage gave nothing usable (an unusable LLM reply). Such an "
        "extraction serves the build at hand but is never cached; it is not written anywhere.",
    )


def clean_part(value: Any) -> str:
    """One triple part or entity as text: a stripped string or a finite number, else ""."""
    if isinstance(value, bool):
        return ""
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        # 1963.0 read back from JSON is the year 1963, not "1963.0".
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        return " ".join(value.split())
    return ""


def clean_triples(raw: Any, *, where: str = "") -> tuple[list[Triple], int]:
    """Keep the well-formed triples of `raw`; return (kept, number dropped).

    A triple is well formed when it is a list or tuple of exactly three parts that are
    non-empty after stripping; numbers become text, other types are malformed. Exact
    duplicates are kept once and are not counted as dropped. A `raw` that is not a list at
    all counts as one dropped item (None counts as nothing).
    """
    if raw is None:
        return [], 0
    if not isinstance(raw, (list, tuple)):
        logger.debug("%s: triples are a %s, not a list", where or "triples", type(raw).__name__)
        return [], 1
    kept: dict[Triple, None] = {}
    dropped = 0
    for item in raw:
        parts = [clean_part(v) for v in item] if isinstance(item, (list, tuple)) else []
        if len(parts) == 3 and all(parts):
            kept[(parts[0], parts[1], parts[2])] = None
        else:
            dropped += 1
            logger.debug("%s: dropped malformed triple %r", where or "triples", item)
    return list(kept), dropped


def clean_entities(raw: Any) -> list[str]:
    """Entity strings from a list, stripped, empty and non-text items skipped, first kept."""
    items = raw if isinstance(raw, (list, tuple)) else []
    return list(dict.fromkeys(p for p in (clean_part(v) for v in items) if p))
