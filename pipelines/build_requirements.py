"""A pipeline's `build:` section: index build settings it relies on, checked when it runs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from indexers.base import validate_config
from indexers.registry import INDEX_KINDS
from pipelines.state import Resources
from rag.errors import ConfigError


def _owners() -> dict[str, str]:
    """Settings section -> the index kind that reads it."""
    return {k.settings_section: name for name, k in INDEX_KINDS.items() if k.settings_section}


def build_requirements(build: Mapping[str, Any], where: str) -> dict[str, dict[str, Any]]:
    """`build` checked: known sections, options valid for their kind (as partial settings)."""
    if not isinstance(build, Mapping):
        raise ConfigError(f"{where}: 'build' must map settings sections to options")
    owners = _owners()
    checked: dict[str, dict[str, Any]] = {}
    for section, values in build.items():
        if section not in owners:
            raise ConfigError(
                f"{where}: build section [{section}] is not an index kind's "
                f"(known: {', '.join(owners)})"
            )
        kind = INDEX_KINDS[owners[section]]
        validate_config(kind.build_config, values, f"{where}: build", f"{section}.")
        checked[section] = dict(values)
    return checked


def check_built_with(build: Mapping[str, Mapping[str, Any]], res: Resources, pipeline: str) -> None:
    """Fail when an index the pipeline needs was built with other settings than it names."""
    owners = _owners()
    for section, wanted in build.items():
        kind = owners[section]
        index = res.indexes.get(kind)
        if index is None:
            continue  # the step that searches it reports the missing index
        have = getattr(index, "settings", None)
        wrong = {
            key: getattr(have, key, None)
            for key, value in wanted.items()
            if getattr(have, key, None) != value
        }
        if wrong:
            needs = ", ".join(f"{section}.{k}={v}" for k, v in wanted.items())
            got = ", ".join(f"{section}.{k}={v}" for k, v in wrong.items())
            option = " ".join(f"--{kind}-{k.replace('_', '-')} {v}" for k, v in wanted.items())
            raise ConfigError(
                f"pipeline {pipeline!r} needs an index built with {needs}; this one has {got} "
                f"(rebuild it: rag index ... --kinds {kind} {option} --rebuild)"
            )
