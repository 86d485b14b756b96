"""One-time int8 post-training quantization of the ONNX export with NNCF, cached as OpenVINO IR."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import importlib.util
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from rag.embed.calibration import calibration_hash, calibration_texts
from rag.embed.onnx_export import build_once
from rag.errors import ConfigError

logger = logging.getLogger(__name__)

#: Bump when the quantization recipe changes, so old int8 models are not reused.
QUANTIZE_VERSION = 1
IR_FILE = "model.xml"
NNCF_MISSING = "embedder.precision=int8 needs nncf: pip install nncf"


def nncf_available() -> bool:
    """Whether NNCF is installed (it is imported only to quantize: importing it takes seconds)."""
    return importlib.util.find_spec("nncf") is not None


def int8_folder(onnx_path: Path) -> Path:
    """Cache folder of the int8 model: beside the ONNX export, keyed by everything that shapes it
    (the export, the calibration texts, the NNCF and OpenVINO versions, the recipe)."""
    import openvino

    parts = [
        onnx_path.parent.name,
        calibration_hash(),
        importlib.metadata.version("nncf"),
        openvino.get_version(),
        str(QUANTIZE_VERSION),
    ]
    key = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:12]
    return onnx_path.parent.parent / f"{onnx_path.parent.name}-int8-{key}"


def ensure_int8(onnx_path: Path, core: Any, feeds: Callable[[str], dict[str, np.ndarray]]) -> Path:
    """Path of the int8 IR of `onnx_path`, quantizing it first if no cached one exists.

    `feeds` turns one calibration text into the model's inputs, exactly as embedding does.
    """
    try:
        final = int8_folder(onnx_path)
    except importlib.metadata.PackageNotFoundError as exc:
        raise ConfigError(NNCF_MISSING) from exc
    build_once(final, IR_FILE, lambda tmp: _quantize(core, onnx_path, feeds, tmp))
    return final / IR_FILE


def _quantize(
    core: Any,
    onnx_path: Path,
    feeds: Callable[[str], dict[str, np.ndarray]],
    out: Path,
) -> None:
    """Static int8 quantization calibrated on every text, one text per batch, saved as IR."""
    import nncf
    import openvino

    texts = calibration_texts()
    logger.info("quantizing %s to int8 once (%d calibration texts)", onnx_path, len(texts))

    # NNCF logs to its own stdout handler and draws progress bars on stdout; stdout belongs
    # to the caller (`rag ... --json`), so both go to stderr, and only warnings are kept.
    nncf_logger = logging.getLogger("nncf")
    level = nncf_logger.level
    nncf_logger.setLevel(logging.WARNING)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            quantized = nncf.quantize(
                core.read_model(str(onnx_path)),
                nncf.Dataset(texts, feeds),
                # All texts, in order: sampling a subset would make the result depend on a seed.
                subset_size=len(texts),
                # Leaves the parts of a transformer that int8 hurts (softmax, normalization) in
                # float and first moves activation outliers into the weights (SmoothQuant).
                model_type=nncf.ModelType.TRANSFORMER,
            )
    finally:
        nncf_logger.setLevel(level)
    # fp16 compression would round the weights left in float (embeddings, norms) once more.
    openvino.save_model(quantized, str(out / IR_FILE), compress_to_fp16=False)
