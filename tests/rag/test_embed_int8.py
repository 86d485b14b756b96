"""The int8 bundled embedder: close to fp32, quantized once and cached, chosen where bf16 is not."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from rag.embed import make_embedder
from rag.embed.calibration import calibration_hash, calibration_texts
from rag.embed.int8_export import IR_FILE
from rag.embed.openvino_encoder import OpenVINOEmbedder, resolve_precision
from rag.errors import ConfigError
from rag.settings import EmbedderSettings

# Texts the calibration never saw: questions and passages of other topics and lengths.
UNSEEN = [
    "Who edits the Journal of Mathematical Physics?",
    "Mount Everest, on the border of Nepal and China, is 8,849 metres high.",
    "The Amazon River carries more water than any other river on Earth, and its basin covers "
    "about seven million square kilometres across nine countries of South America.",
    "what year did the first transatlantic telegraph cable open",
    "hi",
]


@pytest.fixture(scope="module")
def export_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache folder per module, so the export and the quantization happen once."""
    return tmp_path_factory.mktemp("int8")


@pytest.fixture(scope="module")
def fp32(export_cache: Path) -> OpenVINOEmbedder:
    """The bundled model on OpenVINO in fp32, the reference."""
    return OpenVINOEmbedder("all-MiniLM-L6-v2", cache_dir=export_cache, precision="fp32")


@pytest.fixture(scope="module")
def int8(export_cache: Path) -> OpenVINOEmbedder:
    """The bundled model quantized to int8 (the first construction quantizes)."""
    return OpenVINOEmbedder("all-MiniLM-L6-v2", cache_dir=export_cache, precision="int8")


def test_int8_vectors_stay_close_to_fp32(int8: OpenVINOEmbedder, fp32: OpenVINOEmbedder) -> None:
    """On the bundled sample and unseen texts: mean cosine >= 0.99, none below 0.9, unit rows.

    A broken quantization (bad calibration, activations clipped) falls far below this. A text
    of one token ("hi") drifts most, near 0.95: int8 keeps ranking, not exact vectors.
    """
    texts = calibration_texts() + UNSEEN
    got, want = int8.embed(texts), fp32.embed(texts)
    assert got.shape == want.shape == (len(texts), 384) and got.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    cosines = (got * want).sum(1)
    assert cosines.mean() >= 0.99 and cosines.min() >= 0.9
    unseen = cosines[-len(UNSEEN) :]
    assert unseen.mean() >= 0.985


def test_int8_ranks_like_fp32(int8: OpenVINOEmbedder, fp32: OpenVINOEmbedder) -> None:
    """Each sample question finds the same best passage at int8 as at fp32."""
    passages = calibration_texts()[:7]  # the sample documents, title and text
    questions = ["Who designed the Eiffel Tower?", "When was Marie Curie born?"]
    questions += ["Where is the Great Barrier Reef?", "Who created Python?"]
    best = [(e.embed(questions) @ e.embed(passages).T).argmax(1) for e in (int8, fp32)]
    np.testing.assert_array_equal(best[0], best[1])


def test_int8_is_cached_and_not_quantized_again(
    int8: OpenVINOEmbedder, export_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The IR lies beside the ONNX export, its own cache key, and a second load reuses it."""
    assert int8.precision == "int8" and int8.cache_key == "all-MiniLM-L6-v2|openvino|int8"
    saved = list((export_cache / "openvino").glob(f"*-int8-*/{IR_FILE}"))
    assert len(saved) == 1
    assert not list((export_cache / "openvino").glob(".*tmp-*"))
    import nncf

    def refuse(*_: Any, **__: Any) -> None:
        raise AssertionError("quantized again although a cached int8 model exists")

    monkeypatch.setattr(nncf, "quantize", refuse)
    again = OpenVINOEmbedder("all-MiniLM-L6-v2", cache_dir=export_cache, precision="int8")
    np.testing.assert_allclose(again.embed(UNSEEN), int8.embed(UNSEEN), atol=1e-5)


def test_calibration_covers_passages_and_queries() -> None:
    """Real bundled text of both lengths, in a fixed order, so the hash is reproducible."""
    texts = calibration_texts()
    assert texts == calibration_texts() and calibration_hash() == calibration_hash()
    lengths = sorted(len(t) for t in texts)
    assert lengths[0] < 60 and lengths[-1] > 400 and len(texts) >= 50
    assert any(t.endswith("?") for t in texts)


class _FakeCore:
    """An OpenVINO core whose CPU reports the given capabilities."""

    def __init__(self, *capabilities: str) -> None:
        self.capabilities = ["FP32", "INT8", *capabilities]

    def get_property(self, device: str, name: str) -> list[str]:
        assert (device, name) == ("CPU", "OPTIMIZATION_CAPABILITIES")
        return self.capabilities


def test_auto_precision_follows_the_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """auto: bf16 where the CPU has it, else int8, else (no nncf) fp32; bf16 falls back."""
    with_bf16, without = _FakeCore("BF16"), _FakeCore()
    assert resolve_precision("auto", with_bf16, "m") == "bf16"
    assert resolve_precision("auto", without, "m") == "int8"
    assert resolve_precision("bf16", without, "m") == "fp32"
    assert resolve_precision("int8", with_bf16, "m") == "int8"
    assert resolve_precision("fp32", with_bf16, "m") == "fp32"
    monkeypatch.setitem(__import__("sys").modules, "nncf", None)  # import nncf now fails
    assert resolve_precision("auto", without, "m") == "fp32"
    assert resolve_precision("auto", with_bf16, "m") == "bf16"
    with pytest.raises(ConfigError, match="pip install nncf"):
        resolve_precision("int8", with_bf16, "m")


def test_int8_without_nncf_or_openvino_is_a_clear_error(
    export_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """int8 names what to install, through the factory too, and never falls back to torch."""
    with pytest.raises(ConfigError, match="OpenVINO only"):
        make_embedder(EmbedderSettings(backend="torch", precision="int8"), export_cache)
    monkeypatch.setitem(__import__("sys").modules, "nncf", None)
    with pytest.raises(ConfigError, match="pip install nncf"):
        make_embedder(EmbedderSettings(precision="int8", cache=False), export_cache)


def test_precision_setting_accepts_int8_and_auto(monkeypatch: pytest.MonkeyPatch) -> None:
    """auto is the default; RAG_EMBEDDER__PRECISION selects int8; unknown names are refused."""
    from pydantic import ValidationError

    from rag.settings import load_settings

    assert EmbedderSettings().precision == "auto"
    monkeypatch.setenv("RAG_EMBEDDER__PRECISION", "int8")
    assert load_settings().embedder.precision == "int8"
    with pytest.raises(ValidationError):
        EmbedderSettings(precision="int4")
