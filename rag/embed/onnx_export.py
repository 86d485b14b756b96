"""One-time ONNX export of a model's transformer, cached per model content."""

from __future__ import annotations

import hashlib
import inspect
import logging
import os
import shutil
import time
import uuid
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rag.embed.local_model import no_load_bars
from rag.errors import ConfigError

logger = logging.getLogger(__name__)

#: Bump when the exported graph changes shape or meaning, so old exports are not reused.
EXPORT_VERSION = 1
ONNX_FILE = "model.onnx"
_HASH_SPAN = 1 << 20
_STALE_TMP_S = 3600.0


def model_fingerprint(model_dir: Path) -> str:
    """Short content hash of a model folder (names, sizes, small files, ends of large ones)."""
    digest = hashlib.sha256(f"memrag-onnx-v{EXPORT_VERSION}".encode())
    files = sorted(p for p in model_dir.rglob("*") if p.is_file() and not p.name.startswith("."))
    for path in files:
        size = path.stat().st_size
        digest.update(f"{path.relative_to(model_dir).as_posix()}\0{size}\0".encode())
        with path.open("rb") as fh:
            # Reading both ends of the weights is enough to tell checkpoints apart, and
            # keeps start-up fast for models of several GB.
            if size <= 2 * _HASH_SPAN:
                digest.update(fh.read())
            else:
                digest.update(fh.read(_HASH_SPAN))
                fh.seek(-_HASH_SPAN, os.SEEK_END)
                digest.update(fh.read())
    return digest.hexdigest()[:20]


def ensure_onnx(transformer_dir: Path, model_dir: Path, export_root: Path) -> Path:
    """Path of the model's ONNX export under export_root, exporting it first if absent."""
    final = export_root / model_fingerprint(model_dir)
    if not (final / ONNX_FILE).is_file():
        # Said before the export, not after: otherwise the first run is silent for ~10 s.
        logger.info("preparing the embedder (one time, ~10 s): exporting it to %s", final)
    build_once(final, ONNX_FILE, lambda tmp: _export(transformer_dir, tmp / ONNX_FILE))
    return final / ONNX_FILE


def build_once(final: Path, marker: str, build: Callable[[Path], None]) -> None:
    """Create folder `final` by `build(tmp)` on a temp folder renamed into place, unless
    `final/marker` exists; concurrent builders race harmlessly and one result wins."""
    if (final / marker).is_file():
        return
    final.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_tmp(final.parent, final.name)
    # A killed build leaves only a temp folder, never a half-written `final`.
    tmp = final.parent / f".{final.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        started = time.perf_counter()
        build(tmp)
        os.rename(tmp, final)
        logger.info("wrote %s in %.1fs", final, time.perf_counter() - started)
    except OSError:
        if not (final / marker).is_file():
            raise
        logger.debug("another process wrote %s first", final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _remove_stale_tmp(export_root: Path, name: str) -> None:
    """Delete temp folders that killed exports of this model left behind."""
    for tmp in export_root.glob(f".{name}.tmp-*"):
        if time.time() - tmp.stat().st_mtime > _STALE_TMP_S:
            shutil.rmtree(tmp, ignore_errors=True)


def _export(transformer_dir: Path, out: Path) -> None:
    """Trace the transformer to ONNX with dynamic batch and sequence axes."""
    import torch
    from transformers import AutoModel

    try:
        # Eager attention traces to plain MatMul/Softmax, which OpenVINO fuses well and
        # which keeps the attention mask a real graph input.
        with no_load_bars():
            model = AutoModel.from_pretrained(
                transformer_dir,
                attn_implementation="eager",
                dtype=torch.float32,
                local_files_only=True,
            ).eval()
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{transformer_dir}: cannot load the transformer: {exc}") from exc
    names = ["input_ids", "attention_mask"]
    if "token_type_ids" in inspect.signature(model.forward).parameters:
        names.append("token_type_ids")

    class _LastHidden(torch.nn.Module):
        """Positional-argument wrapper that returns the token embeddings only."""

        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, *args: torch.Tensor) -> torch.Tensor:
            return self.inner(**dict(zip(names, args, strict=True))).last_hidden_state

    # A padded second row makes the trace keep the masking path.
    ids = torch.tensor([[1, 5, 6, 7, 2], [1, 8, 2, 0, 0]], dtype=torch.long)
    mask = (ids != 0).long()
    example = (ids, mask, torch.zeros_like(ids))[: len(names)]
    axes = {name: {0: "batch", 1: "sequence"} for name in [*names, "last_hidden_state"]}
    with warnings.catch_warnings(), torch.no_grad():
        # The tracer warns about Python-side shape checks that are constant for encoders.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _LastHidden(model),
            example,
            str(out),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
