"""Where a Milvus index's vectors live: a Milvus Lite folder the index owns, or a server by URI.

Milvus Lite (milvus-lite 3.x) is a pure-Python engine behind pymilvus: `MilvusClient("x.db")`
starts an in-process gRPC server whose data dir is the folder `x.db` (WAL, Parquet segments,
FAISS `.idx` files and a LOCK file held while open). Opening a Lite folder writes to it (the
LOCK, WAL recovery), and an index dir is never written by a reader, so each index works on a
private copy: `load` copies the saved folder into a temporary one, and `save` closes the
engine (flushing it to Parquet) and copies the folder, minus LOCK, into the kind's folder. A
server URI (`http://host:19530`) is used in place: the collection is shared state.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import weakref
from pathlib import Path
from typing import Any

from rag.errors import ConfigError, MemragError, MissingExtraError

logger = logging.getLogger(__name__)

#: The Lite data folder's name inside a kind's folder (pymilvus wants the `.db` suffix).
LITE_FOLDER = "milvus.db"
#: Written by Milvus Lite while a folder is open; meaningless in a saved copy.
LITE_LOCK = "LOCK"


def _client_class() -> Any:
    """pymilvus' MilvusClient, imported when first needed (it loads grpc and reads `.env`)."""
    try:
        from pymilvus import MilvusClient
    except ImportError:
        raise MissingExtraError("pymilvus", "milvus") from None
    return MilvusClient


def check_uri(uri: str | None) -> None:
    """ConfigError for a URI this kind cannot use (None means Milvus Lite in the kind folder)."""
    if uri is None:
        return
    if uri.endswith(".db"):
        raise ConfigError(
            f"milvus.uri {uri!r}: a Milvus Lite file outside the index dir is not supported; "
            "leave milvus.uri unset and the index keeps its Lite folder inside its own folder"
        )
    if not uri.startswith(("http://", "https://", "tcp://", "unix:")):
        raise ConfigError(f"milvus.uri {uri!r}: expected http(s)://host:port, tcp:// or unix:")


def _release_lite(path: str) -> None:
    """Stop the in-process Lite server of `path`, which closes its engine and frees its LOCK."""
    try:
        from milvus_lite.server_manager import server_manager_instance
    except ImportError:
        return
    server_manager_instance.release_server(path)


def _cleanup(holder: dict[str, Any], workdir: str | None) -> None:
    """Close the client and remove the private Lite copy (at close, collection or exit)."""
    client = holder.pop("client", None)
    if client is not None:
        client.close()
    if workdir is not None:
        _release_lite(os.path.join(workdir, LITE_FOLDER))
        shutil.rmtree(workdir, ignore_errors=True)


class MilvusConnection:
    """A pymilvus client, opened on first use, over a private Lite folder or a server URI."""

    def __init__(self, uri: str | None, token: str = "", seed: Path | None = None) -> None:
        """`uri` None: Milvus Lite in a fresh temporary folder, copied from `seed` if given."""
        check_uri(uri)
        self.uri, self._token = uri, token
        self._holder: dict[str, Any] = {}
        self._workdir: str | None = None
        if uri is None:
            _client_class()  # fail now, with the extra's name, rather than at the first add
            self._workdir = tempfile.mkdtemp(prefix="memrag-milvus-")
            if seed is not None:
                shutil.copytree(seed, self.lite_path, ignore=shutil.ignore_patterns(LITE_LOCK))
        self._finalizer = weakref.finalize(self, _cleanup, self._holder, self._workdir)

    @property
    def is_lite(self) -> bool:
        """Whether the vectors live in a Milvus Lite folder this object owns."""
        return self._workdir is not None

    @property
    def lite_path(self) -> Path:
        """The private Lite folder (only for Lite)."""
        assert self._workdir is not None
        return Path(self._workdir) / LITE_FOLDER

    @property
    def client(self) -> Any:
        """The MilvusClient, connected on first use."""
        if "client" not in self._holder:
            from pymilvus.exceptions import MilvusException

            target = str(self.lite_path) if self.is_lite else self.uri
            try:
                self._holder["client"] = _client_class()(uri=target, token=self._token)
            except MilvusException as exc:
                raise MemragError(f"{target}: cannot open Milvus ({exc.message})") from exc
        return self._holder["client"]

    def close_engine(self) -> None:
        """Close the client; for Lite also the engine, so its folder is complete on disk."""
        client = self._holder.pop("client", None)
        if client is not None:
            client.close()
        if self.is_lite:
            _release_lite(str(self.lite_path))

    def copy_lite_to(self, destination: Path) -> None:
        """Close the Lite engine and copy its folder (minus LOCK) to `destination`."""
        self.close_engine()
        if self.lite_path.exists():
            shutil.copytree(self.lite_path, destination, ignore=shutil.ignore_patterns(LITE_LOCK))

    def close(self) -> None:
        """Close the client and drop the private Lite copy now."""
        self._finalizer()
