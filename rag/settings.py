"""Typed settings: a TOML or YAML file, then RAG_* variables, then explicit overrides."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsConfigDict

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
    precision: Literal["fp32", "bf16"] = Field(
        "bf16", description="bf16 is lossless for retrieval here and ~2x faster; fp32 is exact."
    )
    batch_size: int = Field(32, ge=1)
    base_url: str | None = Field(None, description="Endpoint for 'openai:' models.")
    api_key_env: str = Field("OPENAI_API_KEY", description="Variable holding the endpoint's key.")
    cache: bool = Field(True, description="Cache embeddings on disk by (model, text hash).")


class ChunkSettings(_Section):
    """How documents are split into passages."""

    chunk_size: int = Field(512, ge=16, description="Tokens per passage (tiktoken cl100k).")
    chunk_overlap: int = Field(64, ge=0)


class VectorSettings(_Section):
    """The FAISS index behind dense retrieval."""

    kind: Literal["flat", "hnsw", "ivf"] = "flat"
    hnsw_m: int = 32
    hnsw_ef_search: int = 128
    hnsw_ef_construction: int = Field(
        40, description="Higher builds slower and finds more (FAISS default 40)."
    )
    ivf_nlist: int = 1024
    ivf_nprobe: int = 32
    device: Literal["auto", "cpu", "gpu"] = Field("auto", description="gpu needs memrag[gpu].")


class LLMSettings(_Section):
    """The generative model, if any; provider 'none' selects the offline operators."""

    provider: Literal["none", "openai", "transformers"] = "none"
    model: str = ""
    base_url: str | None = Field(None, description="e.g. http://127.0.0.1:8000/v1 for vLLM.")
    api_key_env: str = "OPENAI_API_KEY"
    temperature: float = 0.0
    max_tokens: int = 512
    seed: int | None = 0
    timeout_s: float = 60.0
    max_retries: int = 3
    max_concurrency: int = 4
    cache: bool = True


class GraphSettings(_Section):
    """The knowledge-graph index: how passages become triples and how entities are linked."""

    extractor: str = Field(
        "auto",
        description="'offline' (pattern-based), 'llm', 'cache:PATH' (a HippoRAG OpenIE file), "
        "or 'auto': llm when an LLM is configured, else offline.",
    )
    synonymy_threshold: float = Field(0.8, ge=-1.0, le=1.0, description="Cosine for an edge.")
    synonymy_max_neighbors: int = Field(100, ge=0, description="Synonymy edges per new entity.")
    synonymy_method: Literal["auto", "flat", "hnsw"] = Field(
        "auto", description="Exact FAISS search, HNSW, or auto by size."
    )

    @field_validator("extractor")
    @classmethod
    def _known_extractor(cls, value: str) -> str:
        """Reject extractor names that no code handles."""
        if value in ("auto", "offline", "pattern", "llm") or value.startswith("cache:"):
            return value
        raise ValueError(f"unknown extractor {value!r}: use auto, offline, llm or cache:PATH")


class RetrievalSettings(_Section):
    """Query-time defaults."""

    top_k: int = Field(5, ge=1)
    rrf_k: int = Field(60, ge=1, description="Reciprocal-rank-fusion constant.")


class Settings(BaseSettings):
    """All memrag settings; saved beside every index so a build can be reproduced."""

    model_config = SettingsConfigDict(
        env_prefix="RAG_", env_nested_delimiter="__", extra="forbid", validate_assignment=True
    )

    embedder: EmbedderSettings = Field(default_factory=EmbedderSettings)
    chunking: ChunkSettings = Field(default_factory=ChunkSettings)
    vector: VectorSettings = Field(default_factory=VectorSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    graph: GraphSettings = Field(default_factory=GraphSettings)
    cache_dir: Path = Field(
        default_factory=lambda: Path(os.path.expanduser("~/.cache/memrag")),
        description="Embedding and LLM caches.",
    )
    show_progress: bool = True

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


def load_settings(
    config: str | Path | None = None, overrides: dict[str, Any] | None = None
) -> Settings:
    """Resolve settings from a file, then RAG_* variables, then overrides (strongest last)."""
    data = _read_config_file(Path(config)) if config else {}
    data = _deep_merge(data, EnvSettingsSource(Settings)())
    data = _deep_merge(data, overrides or {})
    try:
        return Settings(**data)
    except ValidationError as exc:
        where = str(config) if config else "settings"
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"{where}: {problems}") from exc
