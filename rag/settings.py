"""Typed settings: a TOML or YAML file, then RAG_* variables, then explicit overrides."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsConfigDict, SettingsError

from rag.errors import ConfigError

DEFAULT_EMBEDDER = "all-MiniLM-L6-v2"


class _Section(BaseModel):
    """A settings section; unknown keys are errors so that typos do not pass silently."""

    model_config = ConfigDict(extra="forbid")


class EmbedderSettings(_Section):
    """Which embedding model to use and how to run it."""

    model: str = Field(
        DEFAULT_EMBEDDER,
        description="'all-MiniLM-L6-v2' (bundled), a local sentence-transformers folder, "
        "or 'openai:<model>' for an OpenAI-compatible embeddings endpoint.",
    )
    backend: Literal["auto", "torch", "openvino"] = Field(
        "auto", description="auto = openvino when installed, else torch."
    )
    precision: Literal["auto", "fp32", "bf16", "int8"] = Field(
        "auto",
        description="auto = bf16 where the CPU has it (lossless for retrieval here, ~2x "
        "faster), else int8 (OpenVINO, quantized once with nncf; ~2x faster than fp32, "
        "Recall@5 within 0.005); fp32 is exact.",
    )
    batch_size: int = Field(32, ge=1)
    base_url: str | None = Field(None, description="Endpoint for 'openai:' models.")
    api_key_env: str = Field("OPENAI_API_KEY", description="Variable holding the endpoint's key.")
    cache: bool = Field(True, description="Cache embeddings on disk by (model, text hash).")


class ChunkSettings(_Section):
    """How documents are split into passages."""

    chunk_size: int = Field(512, ge=16, description="Tokens per passage (tiktoken cl100k).")
    chunk_overlap: int = Field(64, ge=0)

    @model_validator(mode="after")
    def _overlap_below_size(self) -> ChunkSettings:
        """An overlap as long as a passage would never advance."""
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError(
                f"chunk_overlap ({self.chunk_overlap}) must be smaller than "
                f"chunk_size ({self.chunk_size})"
            )
        return self


class LLMSettings(_Section):
    """The generative model, if any; provider 'none' selects the offline operators."""

    provider: Literal["none", "openai", "transformers", "local"] = "none"
    model: str = Field(
        "",
        description="The model name; for provider 'local', a bundled model "
        "('gemma-270m', 'smollm2-135m') or a path to a .gguf file.",
    )
    base_url: str | None = Field(None, description="e.g. http://127.0.0.1:8000/v1 for vLLM.")
    api_key_env: str = "OPENAI_API_KEY"
    temperature: float = 0.0
    max_tokens: int = 512
    seed: int | None = 0
    timeout_s: float = Field(60.0, gt=0, description="Seconds one LLM request may take.")
    max_retries: int = 3
    max_concurrency: int = Field(4, ge=1, description="LLM requests in flight at once.")
    cache: bool = True
    n_threads: int = Field(1, ge=1, description="CPU threads of a 'local' GGUF model.")
    n_ctx: int = Field(4096, ge=256, description="Context window of a 'local' GGUF model.")
    prompt_style: Literal["auto", "chat", "completion"] = Field(
        "auto",
        description="'local' only: auto = chat when the GGUF has a chat template, "
        "else completion prompts with the operators' examples as few-shot examples.",
    )


class RetrievalSettings(_Section):
    """Query-time defaults."""

    top_k: int = Field(5, ge=1)
    rrf_k: int = Field(60, ge=1, description="Reciprocal-rank-fusion constant.")


class EngineSettings(_Section):
    """Where a build's batch stages (parse, embed, extract) and an eval's questions run."""

    name: Literal["local", "ray"] = Field(
        "local", description="local = in this process; ray = Ray Data stages (memrag[ray])."
    )
    address: str | None = Field(
        None, description="Ray cluster to join (host:port, 'auto'); none starts a local one."
    )
    embed_actors: int = Field(1, ge=1, description="Embedding actors (each loads the model once).")
    embed_cpus: float = Field(1.0, gt=0, description="CPUs reserved per embedding actor.")
    embed_gpus: float = Field(0.0, ge=0, description="GPUs reserved per embedding actor.")
    extract_actors: int = Field(1, ge=1, description="OpenIE actors (spaCy, pattern or LLM).")
    extract_cpus: float = Field(1.0, gt=0, description="CPUs reserved per OpenIE actor.")
    files_per_task: int = Field(8, ge=1, description="Files one parse task reads and chunks.")
    eval_actors: int = Field(1, ge=1, description="Eval actors (each opens the index once).")


class Settings(BaseSettings):
    """All memrag settings; saved beside every index so a build can be reproduced.

    Besides the core sections below, each index kind reads its own section (`[vector]`,
    `[graph]`, ...): kept here as a mapping and validated by the kind's typed build config
    (`indexers.registry.kind_settings`), so that a new kind needs no edit of the core.
    """

    model_config = SettingsConfigDict(
        env_prefix="RAG_", env_nested_delimiter="__", extra="allow", validate_assignment=True
    )

    embedder: EmbedderSettings = Field(default_factory=EmbedderSettings)
    chunking: ChunkSettings = Field(default_factory=ChunkSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    engine: EngineSettings = Field(default_factory=EngineSettings)
    cache_dir: Path = Field(
        default_factory=lambda: Path(os.path.expanduser("~/.cache/memrag")),
        description="Embedding and LLM caches.",
    )
    show_progress: bool = True
    _source: str = PrivateAttr(default="settings")

    @property
    def source(self) -> str:
        """Where these settings came from (the config file, or 'settings'), for error messages."""
        return self._source

    @model_validator(mode="after")
    def _kind_sections_are_mappings(self) -> Settings:
        """Any other top-level key must be an index kind's section (a mapping)."""
        for key, value in (self.model_extra or {}).items():
            if not isinstance(value, dict):
                raise ValueError(f"unknown setting {key!r}")
        return self

    def section(self, name: str) -> dict[str, Any]:
        """An index kind's section as given (empty when absent)."""
        return dict((self.model_extra or {}).get(name) or {})

    def sections(self) -> dict[str, dict[str, Any]]:
        """Every index kind's section as given."""
        return {k: dict(v) for k, v in (self.model_extra or {}).items()}

    def with_section(self, name: str, **values: Any) -> Settings:
        """A copy whose section `name` has `values` set (other sections shared)."""
        data = self.model_dump()
        data[name] = {**self.section(name), **values}
        copy = type(self)(**data)
        copy._source = self._source
        return copy

    @classmethod
    def settings_customise_sources(  # type: ignore[override]
        cls, settings_cls: type[BaseSettings], init_settings: Any, **_: Any
    ) -> tuple[Any, ...]:
        """Read only what is passed in: load_settings() layers file, env and overrides itself."""
        return (init_settings,)


def _read_config_file(path: Path) -> dict[str, Any]:
    """Parse a TOML or YAML settings file into a dict, naming the file on any error."""
    if not path.is_file():
        raise ConfigError(f"{path}: settings file not found")
    try:
        if path.suffix == ".toml":
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        elif path.suffix in (".yaml", ".yml"):
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        else:
            raise ConfigError(f"{path}: settings must be .toml, .yaml or .yml")
    except (tomllib.TOMLDecodeError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid {path.suffix[1:].upper()}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings, got {type(data).__name__}")
    return data


def _deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    """Merge nested dicts, values in `top` winning."""
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _kind_sections_from_env(prefix: str = "RAG_") -> dict[str, Any]:
    """RAG_<SECTION>__<KEY> variables of sections the core does not declare (index kinds')."""
    found: dict[str, Any] = {}
    for name, value in os.environ.items():
        if not name.startswith(prefix) or "__" not in name:
            continue
        section, *path = name[len(prefix) :].lower().split("__")
        if section in Settings.model_fields or not section or not all(path):
            continue
        node = found.setdefault(section, {})
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return found


def _core_sections_from_env() -> dict[str, Any]:
    """RAG_* variables of the core settings, a malformed one named in a ConfigError."""
    try:
        return EnvSettingsSource(Settings)()
    except SettingsError as exc:
        # pydantic-settings names the field ('error parsing value for field "llm" ...').
        field = re.search(r'field "([^"]+)"', str(exc))
        name = f"RAG_{field.group(1).upper()}" if field else "a RAG_* variable"
        raise ConfigError(
            f"{name}: not valid JSON ({exc.__cause__ or exc}); set one value with "
            f"{name}__<KEY>=..., or a whole section as a JSON object"
        ) from None


def check_cache_dir(settings: Settings) -> Path:
    """The cache folder, created if missing; a ConfigError when it cannot be one."""
    path = settings.cache_dir
    where = f"cache_dir {path} (RAG_CACHE_DIR or the settings file)"
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{where}: is a file, not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{where}: cannot create it ({exc.strerror})") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise ConfigError(f"{where}: not writable")
    return path


def load_settings(
    config: str | Path | None = None, overrides: dict[str, Any] | None = None
) -> Settings:
    """Resolve settings from a file, then RAG_* variables, then overrides (strongest last)."""
    data = _read_config_file(Path(config)) if config else {}
    data = _deep_merge(data, _core_sections_from_env())
    data = _deep_merge(data, _kind_sections_from_env())
    data = _deep_merge(data, overrides or {})
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        where = str(config) if config else "settings"
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"{where}: {problems}") from exc
    if config:
        settings._source = str(config)
    return settings
