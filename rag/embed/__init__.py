"""Embedders: the bundled MiniLM on OpenVINO (fp32, bf16, int8) or torch, local models,
OpenAI-compatible endpoints.

Importing this package is cheap: backends import torch, openvino or httpx only when built.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from rag.embed.base import Embedder
from rag.errors import ConfigError

if TYPE_CHECKING:
    from rag.settings import EmbedderSettings

logger = logging.getLogger(__name__)

__all__ = ["Embedder", "embedder_name", "make_embedder"]


def _local_embedder(settings: EmbedderSettings, cache_dir: Path) -> Embedder:
    """A local model on the configured backend; auto prefers OpenVINO and falls back to torch."""
    backend, precision = settings.backend, settings.precision
    if backend in ("auto", "openvino") and importlib.util.find_spec("openvino") is not None:
        from rag.embed.openvino_encoder import OpenVINOEmbedder

        try:
            return OpenVINOEmbedder(
                settings.model,
                cache_dir=cache_dir,
                precision=precision,
                batch_size=settings.batch_size,
            )
        except ConfigError as exc:
            # int8 exists on OpenVINO only, so its errors (nncf missing) are the user's to see.
            if backend == "openvino" or precision == "int8":
                raise
            # e.g. a model with a Dense head that only sentence-transformers can run.
            logger.info("OpenVINO cannot run %s (%s); using torch", settings.model, exc)
    elif backend == "openvino":
        raise ConfigError("embedder.backend=openvino needs openvino: pip install openvino")
    if precision == "int8":
        raise ConfigError(
            "embedder.precision=int8 runs on OpenVINO only: set embedder.backend to auto or "
            "openvino (pip install openvino nncf), or choose precision fp32 or bf16"
        )
    if precision == "auto":
        from rag.embed.openvino_encoder import cpu_has_bf16

        # Without bf16 in the CPU, torch's bf16 autocast is emulated and slower than fp32.
        precision = "bf16" if cpu_has_bf16() else "fp32"
    from rag.embed.sentence_transformer import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(
        settings.model, precision=precision, batch_size=settings.batch_size
    )


def embedder_name(settings: EmbedderSettings) -> str:
    """The name an embedder of these settings records in manifests, without loading it."""
    if settings.model.startswith("openai:"):
        return settings.model
    from rag.embed.local_model import model_name

    return model_name(settings.model)


def make_embedder(settings: EmbedderSettings, cache_dir: Path) -> Embedder:
    """Build the embedder that settings describe, behind the disk cache when enabled."""
    embedder: Embedder
    if settings.model.startswith("openai:"):
        from rag.embed.openai_endpoint import OpenAIEndpointEmbedder

        embedder = OpenAIEndpointEmbedder(
            settings.model,
            base_url=settings.base_url,
            api_key_env=settings.api_key_env,
            batch_size=settings.batch_size,
        )
    else:
        embedder = _local_embedder(settings, Path(cache_dir))
    if not settings.cache:
        return embedder
    from rag.embed.cache import CachedEmbedder

    return CachedEmbedder(embedder, Path(cache_dir) / "embeddings")
