"""The road not taken: ONNX Runtime static int8 of the same export, against OpenVINO int8.

Run from the repository root (needs `pip install onnxruntime`, which memrag does not depend on):
    HF_HUB_OFFLINE=1 python experiments/int8_onnxruntime.py ../shared/data/musique-100
Quantizes the cached ONNX export with onnxruntime.quantization.quantize_static on the same
calibration texts as memrag's NNCF path, then embeds the set's passages with both int8 models
and with OpenVINO fp32: passages/s (wall and per CPU-second), Recall@2/5, cosine to fp32.
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from eval.bench.embed_sets import load_embed_set, recall_at
from rag.embed.calibration import calibration_texts
from rag.embed.local_model import resolve_model_dir
from rag.embed.onnx_export import ensure_onnx
from rag.embed.openvino_encoder import OpenVINOEmbedder
from rag.errors import ConfigError
from rag.settings import load_settings


def quantize_with_onnxruntime(fp32: OpenVINOEmbedder, onnx_path: Path, out: Path) -> Path:
    """Static QDQ int8 of the MatMuls (per-channel weights, MinMax activations), calibrated
    on memrag's texts."""
    try:
        from onnxruntime.quantization import (
            CalibrationDataReader,
            QuantFormat,
            QuantType,
            quantize_static,
        )
        from onnxruntime.quantization.shape_inference import quant_pre_process
    except ImportError as exc:
        raise ConfigError("this comparison needs onnxruntime: pip install onnxruntime") from exc

    class _Reader(CalibrationDataReader):
        """One calibration text per batch, fed as OpenVINOEmbedder feeds it."""

        def __init__(self) -> None:
            self.items: Iterator[dict[str, np.ndarray]] = iter(
                fp32._calibration_feeds(t) for t in calibration_texts()
            )

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.items, None)

    prepared, quantized = out / "prepared.onnx", out / "int8.onnx"
    quant_pre_process(str(onnx_path), str(prepared), skip_symbolic_shape=True)
    quantize_static(
        str(prepared),
        str(quantized),
        _Reader(),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        # Only the matrix products, as NNCF does; quantizing LayerNorm and Softmax too gave
        # cosine 0.83 to fp32. Unsigned activations with signed weights suit x86 int8 kernels.
        op_types_to_quantize=["MatMul"],
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
    )
    return quantized


def embed_with_onnxruntime(fp32: OpenVINOEmbedder, model: Path, texts: list[str]) -> np.ndarray:
    """Mean-pooled unit vectors from an ONNX Runtime session, batches as memrag forms them."""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    encodings = fp32._tokenizer.encode_batch(texts)
    order = np.argsort([-len(e.ids) for e in encodings], kind="stable")
    out = np.empty((len(texts), fp32.dim), dtype=np.float32)
    for start in range(0, len(texts), fp32.batch_size):
        rows = order[start : start + fp32.batch_size]
        feeds, mask = fp32._feeds([encodings[i] for i in rows])
        hidden = session.run(None, feeds)[0]
        weights = mask.astype(np.float32)
        pooled = np.einsum("bl,blh->bh", weights, hidden) / weights.sum(1, keepdims=True)
        out[rows] = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
    return out


def _timed(run: Any) -> tuple[np.ndarray, float, float]:
    """run()'s vectors, wall seconds and CPU seconds."""
    started, cpu = time.perf_counter(), time.process_time()
    vectors = run()
    return vectors, time.perf_counter() - started, time.process_time() - cpu


def main() -> None:
    """Print one line per engine: speed, recall and cosine to OpenVINO fp32."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("data", type=Path, help="a HippoRAG-layout set, e.g. musique-100")
    args = parser.parse_args()
    cache = load_settings().cache_dir
    data = load_embed_set(args.data)
    fp32 = OpenVINOEmbedder("all-MiniLM-L6-v2", cache_dir=cache, precision="fp32")
    int8 = OpenVINOEmbedder("all-MiniLM-L6-v2", cache_dir=cache, precision="int8")
    model_dir = resolve_model_dir("all-MiniLM-L6-v2")
    onnx_path = ensure_onnx(fp32.layout.transformer_dir, model_dir, cache / "openvino")
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        # onnxruntime's shape inference writes its scratch files to the working directory.
        with contextlib.chdir(tmp):
            model = quantize_with_onnxruntime(fp32, onnx_path, Path(tmp))
        print(f"onnxruntime quantize_static: {time.perf_counter() - started:.1f}s")
        engines = {
            "openvino-fp32": lambda t: fp32.embed(t),
            "openvino-int8 (nncf)": lambda t: int8.embed(t),
            "onnxruntime-int8": lambda t: embed_with_onnxruntime(fp32, model, t),
        }
        reference = None
        print("| engine | passages/s | per CPU-s | R@2 | R@5 | mean cos | min cos |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for name, embed in engines.items():
            embed(data.texts[:64])
            corpus, wall, cpu = _timed(lambda e=embed: e(data.texts))
            ranked = embed(data.questions) @ corpus.T
            reference = corpus if reference is None else reference
            cos = (corpus * reference).sum(1)
            print(
                f"| {name} | {len(corpus) / wall:.1f} | {len(corpus) / cpu:.1f} | "
                f"{recall_at(ranked, data.golds, 2):.4f} | {recall_at(ranked, data.golds, 5):.4f}"
                f" | {cos.mean():.4f} | {cos.min():.4f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
