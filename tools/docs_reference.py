"""MkDocs hook: reference tables generated from the code, so the docs cannot drift from it.

A page asks for a table with a marker line; the hook replaces the marker when the site builds:

- `<!-- memrag:steps -->`: every pipeline step type and its fields (from the pydantic models);
- `<!-- memrag:index-kinds -->`: every index kind, its build settings and its search options;
- `<!-- memrag:presets -->`: every bundled preset with its description;
- `<!-- memrag:readme -->`: the README's first example, methods and results (one source for both).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

MARKER = re.compile(r"^<!-- memrag:([a-z-]+) -->$", re.MULTILINE)


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def _type_name(annotation: Any) -> str:
    """A readable name for a field's type."""
    name = getattr(annotation, "__name__", None)
    text = name if name and not getattr(annotation, "__args__", None) else repr(annotation)
    return text.replace("typing.", "").replace("NoneType", "None")


def _default(info: FieldInfo) -> str:
    """A field's default as shown in the docs ('required' when it has none)."""
    if info.default_factory is not None:
        try:
            return repr(info.default_factory())  # type: ignore[call-arg]
        except TypeError:
            return "(computed)"
    if info.default is PydanticUndefined:
        return "required"
    return repr(info.default)


def fields_table(model: type[BaseModel]) -> str:
    """One row per field of a pydantic model: name, type, default, description."""
    rows = ["| field | type | default | meaning |", "| --- | --- | --- | --- |"]
    for name, info in model.model_fields.items():
        description = info.description or ""
        rows.append(
            f"| `{name}` | `{_cell(_type_name(info.annotation))}` | "
            f"`{_cell(_default(info))}` | {_cell(description)} |"
        )
    return "\n".join(rows)


def steps_reference() -> str:
    """Every registered step type with its fields."""
    import pipelines.steps  # noqa: F401  (registers the built-in steps)
    from pipelines.step import STEP_TYPES

    parts = []
    for type_name in sorted(STEP_TYPES):
        cls = STEP_TYPES[type_name]
        summary = (cls.__doc__ or "").strip().splitlines()[0]
        parts.append(f"### `{type_name}`\n\n{summary}\n\n{fields_table(cls)}\n")
    return "\n".join(parts)


def index_kinds_reference() -> str:
    """Every index kind: its settings section and build config, then its search options."""
    from indexers.registry import INDEX_KINDS

    parts = []
    for name, cls in INDEX_KINDS.items():
        summary = (cls.__doc__ or "").strip().splitlines()[0]
        parts.append(f"### `{name}`\n\n{summary}\n")
        if cls.settings_section:
            parts.append(
                f"Build settings, section `[{cls.settings_section}]`:\n\n"
                f"{fields_table(cls.build_config)}\n"
            )
        parts.append("Search options (`search:` of a `retrieve` step):\n\n")
        parts.append(fields_table(cls.search_config) + "\n")
    return "\n".join(parts)


def presets_reference() -> str:
    """Every bundled preset with its description."""
    from pipelines.pipeline import Pipeline, preset_names

    rows = ["| preset | what it runs |", "| --- | --- |"]
    for name in preset_names():
        rows.append(f"| `{name}` | {_cell(Pipeline.load(name).description)} |")
    return "\n".join(rows)


README = Path(__file__).resolve().parents[1] / "README.md"


def readme_sections() -> str:
    """The README from its first example up to its documentation links, links made site-relative."""
    text = README.read_text(encoding="utf-8")
    start, end = text.index("## A first example"), text.index("## Documentation")
    return text[start:end].replace("](docs/", "](")


GENERATORS: dict[str, Callable[[], str]] = {
    "steps": steps_reference,
    "index-kinds": index_kinds_reference,
    "presets": presets_reference,
    "readme": readme_sections,
}


def on_page_markdown(markdown: str, **_: Any) -> str:
    """Replace each marker line with its generated table (an unknown marker fails the build)."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in GENERATORS:
            raise ValueError(f"unknown reference marker {name!r} (known: {sorted(GENERATORS)})")
        return GENERATORS[name]()

    return MARKER.sub(replace, markdown)
