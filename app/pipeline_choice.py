"""Choosing a pipeline in a page: a preset or a YAML file under the roots, shown as YAML the
user may edit. YAML is parsed as data (safe_load); nothing typed is ever executed."""

from __future__ import annotations

from pathlib import Path

import streamlit as st
import yaml

from app import resources
from app.widgets import error_card
from pipelines.pipeline import Pipeline, preset_names
from pipelines.resolve import resolve_pipeline
from rag.errors import ConfigError


@st.cache_data(show_spinner=False)
def preset_yaml(name: str) -> str:
    """A preset as the YAML text the editor starts from."""
    return yaml.safe_dump(resolve_pipeline(name).to_config(), sort_keys=False)


def parse_pipeline(text: str, where: str) -> Pipeline:
    """A pipeline from YAML typed in the page (safe_load: data only, no code)."""
    return Pipeline.from_yaml(text, where)


@st.cache_data(show_spinner=False)
def file_yaml(path: str, stamp: int) -> str:
    """A pipeline file's text (re-read when it changes)."""
    return Path(path).read_text(encoding="utf-8")


def pipeline_input(label: str, key: str, default: str = "dense") -> Pipeline | None:
    """A preset or pipeline file, with an editable YAML view; unchanged, it is the cached one.

    Edited YAML that does not parse into a pipeline shows an error card and gives None.
    """
    roots = resources.roots()
    names: list[str] = preset_names()
    files = {roots.label(p): p for p in resources.found().pipelines}
    choice = st.selectbox(label, [*names, *files], index=names.index(default), key=f"{key}_preset")
    if choice in files:
        path = roots.check(files[choice])
        spec: str | Path = path
        original = file_yaml(str(path), path.stat().st_mtime_ns)
    else:
        spec, original = choice, preset_yaml(choice)
    with st.expander(f"{choice} as YAML (edit to try a variant)"):
        text = st.text_area("Pipeline YAML", original, height=220, key=f"{key}_yaml_{choice}")
    try:
        if text.strip() == original.strip():
            return resolve_pipeline(spec)
        return parse_pipeline(text, f"{label} (edited {choice})")
    except ConfigError as exc:
        error_card(f"The pipeline {choice}", exc)
        return None
