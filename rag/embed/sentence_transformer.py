"""Embeddings computed by sentence-transformers on torch, the reference implementation."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from typing import Literal

import numpy as np

from rag.embed.base import Embedder
from rag.embed.local_model import model_name, no_load_bars, resolve_model_dir
from rag.errors import ConfigError

logger = logging.getLogger(__name__)


class SentenceTransformerEmbedder(Embedder):
    """A local sentence-transformers model on torch, in fp32 or bf16 autocast."""

    def __init__(
        self,
        model: str,
        *,
        precision: Literal["fp32", "bf16"] = "bf16",
        batch_size: int = 32,
        device: str | None = None,
    ) -> None:
        """Load the bundled model by name or a local model folder; device None picks one."""
        model_dir = resolve_model_dir(model)
        import torch
        from sentence_transformers import SentenceTransformer

        try:
            with no_load_bars():
                self._model = SentenceTransformer(
                    str(model_dir), device=device, local_files_only=True
                )
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"{model_dir}: cannot load as a sentence-transformers model: {exc}"
            ) from exc
        self._torch = torch
        self.name = model_name(model)
        self.precision: Literal["fp32", "bf16"] = precision
        self.batch_size = batch_size
        # sentence-transformers 6 renamed the method; older releases only have the old name.
        get_dim = getattr(self._model, "get_embedding_dimension", None)
        dim = get_dim() if get_dim else self._model.get_sentence_embedding_dimension()
        # Some models only know their output size once they have produced a vector.
        self.dim = int(dim) if dim else len(self._model.encode(["dimension probe"])[0])

    @property
    def cache_key(self) -> str:
        """Model name plus backend and precision: bf16 and fp32 numbers differ slightly."""
        return f"{self.name}|torch|{self.precision}"

    def embed(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """Embed texts (sentence-transformers sorts by length and restores the order)."""
        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        autocast: contextlib.AbstractContextManager[object] = contextlib.nullcontext()
        if self.precision == "bf16":
            autocast = self._torch.autocast(self._model.device.type, dtype=self._torch.bfloat16)
        with autocast, self._torch.inference_mode():
            vectors = self._model.encode(
                list(texts),
                batch_size=self.batch_size,
                show_progress_bar=show_progress,
                convert_to_numpy=True,
                normalize_embeddings=False,
            )
        vectors = np.asarray(vectors, dtype=np.float32)
        # Normalize in fp32: under autocast the model's own Normalize runs in bf16.
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
