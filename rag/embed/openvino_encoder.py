"""Fast CPU embeddings: the model exported once to ONNX (and quantized once for int8), run by
OpenVINO."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from rag.embed.base import Embedder, Precision
from rag.embed.int8_export import NNCF_MISSING, ensure_int8, nncf_available
from rag.embed.local_model import model_name, read_layout, resolve_model_dir
from rag.embed.onnx_export import ensure_onnx
from rag.errors import ConfigError

logger = logging.getLogger(__name__)


def _compile_config(precision: Literal["fp32", "bf16", "int8"]) -> dict[str, str]:
    """OpenVINO CPU settings for batch throughput.

    Measured on 2 cores: one single-thread stream per core, each with its own batch in
    flight, beat one two-thread stream by about 10%; OpenVINO sizes streams per machine.
    int8 keeps its float parts in f32, so that it gives the same vectors on every CPU.
    """
    return {
        "INFERENCE_PRECISION_HINT": "bf16" if precision == "bf16" else "f32",
        "PERFORMANCE_HINT": "THROUGHPUT",
    }


def load_tokenizer(transformer_dir: Path, max_length: int) -> Any:
    """The model's fast tokenizer, truncating at max_length and never padding on its own."""
    from tokenizers import Tokenizer

    path = transformer_dir / "tokenizer.json"
    if path.is_file():
        tokenizer = Tokenizer.from_file(str(path))
    else:
        from transformers import AutoTokenizer

        # Only slow-tokenizer files: transformers converts them to a fast one.
        tokenizer = AutoTokenizer.from_pretrained(transformer_dir).backend_tokenizer
    # tokenizer.json files often carry fixed padding/truncation (128 for MiniLM) that
    # sentence-transformers overrides; copying them would slow short texts and cut long ones.
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length)
    return tokenizer


def cpu_has_bf16() -> bool:
    """Whether OpenVINO can run bf16 on this CPU (AVX-512 bf16 or AMX); False without openvino."""
    try:
        import openvino
    except ImportError:
        return False
    return "BF16" in openvino.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")


def resolve_precision(
    precision: Precision, core: Any, name: str
) -> Literal["fp32", "bf16", "int8"]:
    """The precision to run: auto is bf16 where the CPU has it, else int8, else fp32."""
    has_bf16 = "BF16" in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    if precision == "auto":
        if has_bf16:
            return "bf16"
        if nncf_available():
            return "int8"
        # Not a warning: it holds for every run on this CPU, and fp32 is exact.
        logger.info("this CPU has no bf16 and nncf is not installed; %s runs in fp32", name)
        return "fp32"
    if precision == "bf16" and not has_bf16:
        # Not a warning: it holds for every run on this CPU and the user can do nothing.
        logger.info("this CPU has no bf16 support; %s runs in fp32", name)
        return "fp32"
    if precision == "int8" and not nncf_available():
        raise ConfigError(NNCF_MISSING)
    return precision


class OpenVINOEmbedder(Embedder):
    """Sentence-transformers model run by OpenVINO on CPU: fp32, bf16 or static int8."""

    def __init__(
        self,
        model: str,
        *,
        cache_dir: Path,
        precision: Precision = "auto",
        batch_size: int = 32,
    ) -> None:
        """Export the model on first use under cache_dir/openvino (and quantize it once for
        int8), then compile it."""
        try:
            import openvino
        except ImportError as exc:
            raise ConfigError(
                "embedder.backend=openvino needs openvino: pip install openvino"
            ) from exc
        model_dir = resolve_model_dir(model)
        self.name = model_name(model)
        self.layout = read_layout(model_dir)
        self.batch_size = batch_size
        core = openvino.Core()
        self.precision = resolve_precision(precision, core, self.name)
        self._tokenizer = load_tokenizer(self.layout.transformer_dir, self.layout.max_seq_length)
        model_path = ensure_onnx(self.layout.transformer_dir, model_dir, cache_dir / "openvino")
        ov_model = core.read_model(str(model_path))
        self._input_names = [port.get_any_name() for port in ov_model.inputs]
        hidden = ov_model.outputs[0].get_partial_shape()[-1]
        if not hidden.is_static:
            raise ConfigError(f"{model_path}: the exported model has no fixed hidden size")
        self.dim = hidden.get_length()
        if self.precision == "int8":
            model_path = ensure_int8(model_path, core, self._calibration_feeds)
            ov_model = core.read_model(str(model_path))
        self._compiled = core.compile_model(ov_model, "CPU", _compile_config(self.precision))
        jobs = int(self._compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS"))
        self._requests = [self._compiled.create_infer_request() for _ in range(max(1, jobs))]
        self._lock = threading.Lock()

    def _calibration_feeds(self, text: str) -> dict[str, np.ndarray]:
        """Model inputs for one calibration text, prepared as embed() prepares a batch."""
        prepared = text.lower() if self.layout.do_lower_case else text
        return self._feeds([self._tokenizer.encode(prepared)])[0]

    @property
    def cache_key(self) -> str:
        """Model name plus backend and precision: fp32, bf16 and int8 numbers differ slightly."""
        return f"{self.name}|openvino|{self.precision}"

    def embed(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """Embed texts in length-sorted batches; rows come back in input order."""
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        inputs = [t.lower() for t in texts] if self.layout.do_lower_case else list(texts)
        encodings = self._tokenizer.encode_batch(inputs)
        # Longest first: batches of similar length waste little on padding, and the
        # slowest batch shows up at the start of the progress bar rather than the end.
        order = np.argsort([-len(e.ids) for e in encodings], kind="stable")
        from tqdm.auto import tqdm

        # One batch in flight per stream; a slot's previous batch is pooled just before
        # the slot is reused, while the other streams keep the cores busy.
        pending: list[tuple[np.ndarray, np.ndarray] | None] = [None] * len(self._requests)
        bar = tqdm(total=len(texts), desc="embed", unit="text", disable=not show_progress)
        # The infer requests are shared state: one call at a time (an app may embed
        # queries from several threads).
        with self._lock, bar:
            try:
                for batch, start in enumerate(range(0, len(texts), self.batch_size)):
                    slot = batch % len(self._requests)
                    bar.update(self._collect(slot, pending, out))
                    rows = order[start : start + self.batch_size]
                    feeds, mask = self._feeds([encodings[i] for i in rows])
                    self._requests[slot].start_async(feeds)
                    pending[slot] = (rows, mask)
                for slot in range(len(self._requests)):
                    bar.update(self._collect(slot, pending, out))
            finally:
                # After an interrupt, leave no request running into the next call.
                for slot, job in enumerate(pending):
                    if job is not None:
                        self._requests[slot].wait()
        return out

    def _feeds(self, encodings: Sequence[Any]) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Model inputs for one batch, padded to its longest text, and its attention mask."""
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        types = np.zeros_like(ids)
        mask = np.zeros_like(ids)
        for row, enc in enumerate(encodings):
            n = len(enc.ids)
            ids[row, :n], types[row, :n], mask[row, :n] = enc.ids, enc.type_ids, 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        return {name: feeds[name] for name in self._input_names}, mask

    def _collect(
        self, slot: int, pending: list[tuple[np.ndarray, np.ndarray] | None], out: np.ndarray
    ) -> int:
        """Wait for the slot's batch, if any, and write its pooled unit vectors into out."""
        job = pending[slot]
        if job is None:
            return 0
        rows, mask = job
        request = self._requests[slot]
        request.wait()
        hidden = request.get_output_tensor(0).data
        if self.layout.pooling == "cls":
            pooled = np.array(hidden[:, 0], dtype=np.float32)
        else:
            weights = mask.astype(np.float32)
            pooled = np.einsum("bl,blh->bh", weights, hidden) / weights.sum(1, keepdims=True)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        out[rows] = pooled / np.maximum(norms, 1e-12)
        pending[slot] = None
        return len(rows)
