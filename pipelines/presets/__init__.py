"""The pipeline presets shipped with memrag: one YAML file per preset in this folder.

Kept free of heavy imports so that the CLI can list the presets in its `--help`.
"""

from __future__ import annotations

from importlib import resources


def preset_names() -> list[str]:
    """Names of the pipeline presets shipped with memrag, sorted."""
    folder = resources.files(__name__)
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


def preset_text(name: str) -> str:
    """The YAML text of preset `name` (one of `preset_names()`)."""
    return (resources.files(__name__) / f"{name}.yaml").read_text(encoding="utf-8")
