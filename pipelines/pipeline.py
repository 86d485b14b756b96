"""Pipeline: an ordered list of steps, loadable from and savable to YAML; runs a query."""

from __future__ import annotations

import time
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

import pipelines.steps  # noqa: F401  (registers the built-in step types)
from pipelines.state import QueryState, Resources
from pipelines.step import Step, step_from_config
from rag.errors import ConfigError
from rag.types import Answer


def preset_names() -> list[str]:
    """Names of the pipeline presets shipped with memrag."""
    folder = resources.files("pipelines") / "presets"
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


def _llm_usage(res: Resources) -> tuple[int, int]:
    """Total LLM (calls, tokens) so far, when the LLM keeps metrics."""
    metrics = getattr(res.llm, "metrics", None)
    if metrics is None:
        return 0, 0
    total = metrics.total()
    return total.calls, total.prompt_tokens + total.completion_tokens


class Pipeline:
    """Steps run in order over one QueryState; every step's time and LLM use is traced."""

    def __init__(self, steps: list[Step], name: str = "custom", description: str = "") -> None:
        """Create a pipeline from step objects."""
        self.steps = steps
        self.name = name
        self.description = description

    @classmethod
    def from_config(cls, config: dict[str, Any], where: str = "pipeline") -> Pipeline:
        """Build from a mapping {name, description, steps: [{type, ...}]}."""
        try:
            steps = [step_from_config(s) for s in config["steps"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: invalid pipeline ({exc})") from exc
        return cls(steps, config.get("name", "custom"), config.get("description", ""))

    @classmethod
    def load(cls, name_or_path: str | Path) -> Pipeline:
        """Load a preset by name (`dense`, `bm25`, `hybrid`, ...) or a YAML file by path."""
        path = Path(name_or_path)
        if path.suffix in (".yaml", ".yml"):
            if not path.is_file():
                raise ConfigError(f"{path}: pipeline file not found")
            text, where = path.read_text(encoding="utf-8"), str(path)
        elif str(name_or_path) in preset_names():
            preset = resources.files("pipelines") / "presets" / f"{name_or_path}.yaml"
            text, where = preset.read_text(encoding="utf-8"), f"preset {name_or_path}"
        else:
            raise ConfigError(
                f"unknown pipeline {str(name_or_path)!r}: use a preset "
                f"({', '.join(preset_names())}) or a .yaml file"
            )
        try:
            config = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"{where}: not valid YAML ({exc})") from exc
        if not isinstance(config, dict):
            raise ConfigError(f"{where}: a pipeline must be a mapping with a 'steps' list")
        return cls.from_config(config, where)

    def index_kinds(self) -> set[str]:
        """The indexes this pipeline's steps search (an index dir must hold them)."""
        return {name for s in self.steps if isinstance(name := getattr(s, "index", None), str)}

    def to_config(self) -> dict[str, Any]:
        """This pipeline as a YAML-ready mapping."""
        config: dict[str, Any] = {"name": self.name}
        if self.description:
            config["description"] = self.description
        config["steps"] = [s.to_config() for s in self.steps]
        return config

    def save(self, path: Path) -> None:
        """Write the pipeline as YAML."""
        path.write_text(yaml.safe_dump(self.to_config(), sort_keys=False), encoding="utf-8")

    def run(self, query: str, res: Resources) -> QueryState:
        """Run every step on a fresh state for `query`."""
        state = QueryState(query=query, resources=res)
        for step in self.steps:
            calls0, tokens0 = _llm_usage(res)
            n_events, start = len(state.trace), time.perf_counter()
            state = step.run(state)
            calls1, tokens1 = _llm_usage(res)
            for event in state.trace[n_events:]:
                event.seconds = time.perf_counter() - start
                event.llm_calls, event.llm_tokens = calls1 - calls0, tokens1 - tokens0
        return state

    def ask(self, query: str, res: Resources) -> Answer:
        """Run the pipeline and return its answer, with hits and trace attached."""
        state = self.run(query, res)
        answer = state.answer or Answer(question=query, text="")
        return answer.model_copy(update={"hits": state.hits, "trace": state.trace})
