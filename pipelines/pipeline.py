"""Pipeline: an ordered list of steps, loadable from and savable to YAML; runs a query."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import yaml

import pipelines.steps  # noqa: F401  (registers the built-in step types)
from pipelines.build_requirements import build_requirements, check_built_with
from pipelines.presets import preset_names, preset_text
from pipelines.state import QueryState, Resources
from pipelines.step import Step, check_references, in_run_order, step_from_config
from rag.errors import ConfigError, InputError
from rag.query import Query
from rag.types import Answer

__all__ = ["Pipeline", "preset_names"]


def _one_line(exc: Exception) -> str:
    """An exception's message on one line (pydantic's are multi-line)."""
    return " ".join(str(exc).split())


def _read_pipeline_file(path: Path) -> str:
    """The text of a pipeline file, or a ConfigError naming the file and the problem."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: pipeline file not found") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte {exc.start}: {exc.reason}); save it as UTF-8"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read pipeline file ({exc.strerror})") from None


class Pipeline:
    """Steps run in order over one QueryState; every step traces its own time and LLM use."""

    def __init__(
        self,
        steps: list[Step],
        name: str = "custom",
        description: str = "",
        build: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        """Create a pipeline from step objects, checking that every reference resolves.

        `build` names index build settings the pipeline relies on, by settings section (e.g.
        {'tree': {'builder': 'memwalker'}}): `rag eval` builds with them, and running against
        an index dir built otherwise is a ConfigError.
        """
        check_references(steps, f"pipeline {name!r}")
        self.steps = steps
        self.name = name
        self.description = description
        self.build = build_requirements(build or {}, f"pipeline {name!r}")

    @classmethod
    def from_config(cls, config: dict[str, Any], where: str = "pipeline") -> Pipeline:
        """Build from a mapping {name, description, steps: [{type, ...}]}."""
        steps_config = config.get("steps")
        if not isinstance(steps_config, list) or not steps_config:
            raise ConfigError(f"{where}: invalid pipeline (it needs a non-empty 'steps' list)")
        steps = []
        for n, step in enumerate(steps_config, start=1):
            try:
                steps.append(step_from_config(step))
            except ConfigError as exc:
                raise ConfigError(f"{where}: invalid pipeline, step {n}: {exc}") from None
            except (TypeError, ValueError) as exc:
                raise ConfigError(
                    f"{where}: invalid pipeline, step {n}: {_one_line(exc)}"
                ) from None
        try:
            return cls(
                steps,
                config.get("name", "custom"),
                config.get("description", ""),
                config.get("build"),
            )
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None

    @classmethod
    def load(cls, name_or_path: str | Path) -> Pipeline:
        """Load a preset by name (`dense`, `bm25`, `hybrid`, ...) or a YAML file by path."""
        path = Path(name_or_path)
        if path.suffix in (".yaml", ".yml"):
            text, where = _read_pipeline_file(path), str(path)
        elif str(name_or_path) in preset_names():
            text, where = preset_text(str(name_or_path)), f"preset {name_or_path}"
        else:
            raise ConfigError(
                f"unknown pipeline {str(name_or_path)!r}: use a preset "
                f"({', '.join(preset_names())}) or a .yaml file"
            )
        return cls.from_yaml(text, where)

    @classmethod
    def from_yaml(cls, text: str, where: str) -> Pipeline:
        """Parse a pipeline from YAML text (safe_load: data only); `where` names it in errors."""
        try:
            config = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"{where}: not valid YAML ({_one_line(exc)})") from exc
        except RecursionError:
            raise ConfigError(f"{where}: YAML nested too deeply to read") from None
        if not isinstance(config, dict):
            raise ConfigError(f"{where}: a pipeline must be a mapping with a 'steps' list")
        try:
            return cls.from_config(config, where)
        except RecursionError:
            # A self-referencing alias (`&a [*a]`) or a pipeline nested hundreds deep.
            raise ConfigError(
                f"{where}: invalid pipeline (it refers to itself or is nested too deeply)"
            ) from None

    def index_kinds(self) -> set[str]:
        """The indexes this pipeline's steps search (an index dir must hold them)."""
        return set().union(*(s.index_names() for s in self.steps))

    def to_config(self) -> dict[str, Any]:
        """This pipeline as a YAML-ready mapping."""
        config: dict[str, Any] = {"name": self.name}
        if self.description:
            config["description"] = self.description
        if self.build:
            config["build"] = {section: dict(values) for section, values in self.build.items()}
        config["steps"] = [s.to_config() for s in self.steps]
        return config

    def save(self, path: Path) -> None:
        """Write the pipeline as YAML."""
        path.write_text(yaml.safe_dump(self.to_config(), sort_keys=False), encoding="utf-8")

    def check(self, res: Resources, *, answer: bool = True) -> None:
        """Fail with a ConfigError when the opened index lacks an index or model a step needs,
        or was built with other settings than the pipeline's `build` names."""
        check_built_with(self.build, res, self.name)
        for _, step in in_run_order(self.steps):
            if answer or not step.answers:
                step.check_resources(res)

    def run(
        self,
        question: str,
        res: Resources,
        *,
        answer: bool = True,
        query_vector: np.ndarray | None = None,
    ) -> QueryState:
        """Run every step on a fresh state; `answer=False` skips answering (retrieval only).

        `query_vector` is the question's embedding when the caller computed it (in a batch).
        """
        if not question.strip():
            raise InputError("the question is empty")
        self.check(res, answer=answer)
        query = Query(
            question,
            embedder=res.embedder,
            llm=res.llm,
            vector=query_vector,
            rrf_k=res.settings.retrieval.rrf_k,
        )
        state = QueryState(question=query, resources=res, retrieval_only=not answer)
        for step in self.steps:
            state = step.run(state)
        return state

    def ask(self, question: str, res: Resources, **options: Any) -> Answer:
        """Run the pipeline and return its answer, with hits and trace attached."""
        state = self.run(question, res, **options)
        result = state.answer or Answer(question=question, text="")
        return result.model_copy(update={"hits": state.hits, "trace": state.trace})
