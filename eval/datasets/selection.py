"""Which questions of a dataset to evaluate: the first N, a seeded sample, or all."""

from __future__ import annotations

import random
from typing import Any

from rag.errors import ConfigError


def validated_selection(limit: int | None, sample: int | None, seed: int) -> dict[str, Any]:
    """The validated selection, as recorded in the content hash."""
    if limit is not None and sample is not None:
        raise ConfigError("load_dataset: give limit or sample, not both")
    for name, value in (("limit", limit), ("sample", sample)):
        if value is not None and value < 1:
            raise ConfigError(f"load_dataset: {name} must be at least 1, got {value}")
    # The seed only matters, and is only recorded, when sampling.
    return {"limit": limit} if limit else {"sample": sample, "seed": seed} if sample else {}


def selected_indices(count: int, selection: dict[str, Any]) -> list[int]:
    """Indices of the chosen records, in file order."""
    if "limit" in selection:
        return list(range(min(count, selection["limit"])))
    if "sample" in selection:
        size = min(count, selection["sample"])
        return sorted(random.Random(selection["seed"]).sample(range(count), size))
    return list(range(count))
