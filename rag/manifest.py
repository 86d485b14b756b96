"""The index manifest: what an index dir holds and how it was built."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from rag.errors import EmbedderMismatchError, IndexFormatError
from rag.integrity import MANIFEST, FileSum, check_folder, file_sums, verify_files

FORMAT = "memrag-index"
FORMAT_VERSION = 1
__all__ = [
    "MANIFEST",
    "EmbedderInfo",
    "Manifest",
    "read_manifest",
    "verify_saved",
    "write_manifest",
]


class EmbedderInfo(BaseModel):
    """The embedder an index was built with."""

    name: str
    dim: int
    variant: str = Field("", description="Backend and precision, e.g. openvino-bf16.")


class Manifest(BaseModel):
    """Contents of manifest.json."""

    format: str = FORMAT
    format_version: int = FORMAT_VERSION
    memrag_version: str = ""
    embedder: EmbedderInfo
    chunking: dict[str, Any] = Field(default_factory=dict)
    llm: dict[str, Any] = Field(default_factory=dict)
    operators: dict[str, str] = Field(default_factory=dict)
    indexes: list[str] = Field(default_factory=list)
    counts: dict[str, int] = Field(default_factory=dict)
    build: dict[str, Any] = Field(default_factory=dict, description="Timings of the last build.")
    sources: dict[str, str] = Field(default_factory=dict, description="Source path -> SHA-256.")
    roots: list[str] = Field(
        default_factory=list,
        description="Files and folders indexed into this dir, over all builds; a run deletes "
        "only passages of files gone from the roots it names.",
    )
    files: dict[str, FileSum] = Field(
        default_factory=dict,
        description="Every other file of the dir (POSIX path) -> size and SHA-256, written at "
        "save and checked on open; empty in manifests older than checksums.",
    )

    def check_embedder(self, name: str, dim: int | None, where: Path) -> None:
        """Raise when the index was built with another embedder than `name` (and `dim`, when
        known: a reader checks the dimension only once the model loads)."""
        if self.embedder.name != name or dim not in (None, self.embedder.dim):
            configured = name if dim is None else f"{name} (dim {dim})"
            raise EmbedderMismatchError(
                f"{where}: built with embedder {self.embedder.name} (dim {self.embedder.dim}), "
                f"but {configured} is configured; use the same embedder or rebuild "
                "into a new directory"
            )


def read_manifest(directory: Path) -> Manifest:
    """Read and validate `directory/manifest.json`, naming the directory in any error."""
    path = directory / MANIFEST
    if not directory.is_dir():
        raise IndexFormatError(f"{directory}: no such index directory")
    if not path.is_file():
        raise IndexFormatError(f"{directory}: not a memrag index (no {MANIFEST})")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise IndexFormatError(f"{path}: corrupt manifest ({exc})") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise IndexFormatError(f"{path}: not a memrag manifest (format is not '{FORMAT}')")
    if data.get("format_version", 0) > FORMAT_VERSION:
        raise IndexFormatError(
            f"{path}: format version {data['format_version']} is newer than this memrag "
            f"understands ({FORMAT_VERSION}); upgrade memrag"
        )
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        raise IndexFormatError(f"{path}: corrupt manifest ({exc.error_count()} errors)") from exc


def write_manifest(directory: Path, manifest: Manifest) -> None:
    """Write manifest.json into `directory`, with the size and hash of every file there.

    Call it last, once every other file of the dir is written: later changes read as damage.
    """
    manifest = manifest.model_copy(update={"files": file_sums(directory)})
    (directory / MANIFEST).write_text(manifest.model_dump_json(indent=2), encoding="utf-8")


def verify_saved(directory: Path) -> int:
    """Check a kind's saved folder against the checksums of its index dir's manifest.

    Refuses symlinks and empty arrays whether or not the manifest has checksums; a folder outside
    an index dir (no manifest beside it) is not checked further. Returns the bytes hashed.
    """
    check_folder(directory)
    if not (directory.parent / MANIFEST).is_file():
        return 0
    files = read_manifest(directory.parent).files
    return verify_files(directory.parent, files, f"{directory.name}/")
