"""Text files in any common encoding: BOMs, UTF-8 with stray bytes, Western and other legacy code
pages; only data no text encoding explains is binary."""

from __future__ import annotations

import codecs
import logging
from pathlib import Path

from rag.errors import InputError
from rag.ingest.languages import best_latin, best_other_script

logger = logging.getLogger(__name__)

#: Longest BOM first: the UTF-32-LE BOM begins with the UTF-16-LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_STRAY_HANDLER = "memrag-stray-bytes-as-cp1252"


def _stray_bytes_as_cp1252(exc: UnicodeError) -> tuple[str, int]:
    """Decode bytes that are not UTF-8 one by one as Windows-1252 (Latin-1 where it has none)."""
    assert isinstance(exc, UnicodeDecodeError)
    chars = []
    for byte in exc.object[exc.start : exc.end]:
        try:
            chars.append(bytes([byte]).decode("cp1252"))
        except UnicodeDecodeError:
            chars.append(bytes([byte]).decode("latin-1"))
    return "".join(chars), exc.end


def _register_handler() -> None:
    """Make the stray-byte handler known to codecs (once per process)."""
    try:
        codecs.lookup_error(_STRAY_HANDLER)
    except LookupError:
        codecs.register_error(_STRAY_HANDLER, _stray_bytes_as_cp1252)


def decode_text(data: bytes, path: Path | str) -> str:
    """The text of a file's bytes in whatever encoding it has; binary data is an InputError.

    A BOM decides (and is dropped). Otherwise strict UTF-8; failing that, a UTF-8 file with a
    few stray bytes keeps its UTF-8 and reads each stray byte as Windows-1252. A legacy file gets
    the Latin code page (Western, Central European, Turkish, Baltic) in which its words are
    plausible (see `rag.ingest.languages`), else the Cyrillic or Greek code page in which they read
    as words; other text (CJK) is decoded with charset-normalizer's best guess.
    Every fallback logs the file and the choice.
    NUL bytes without a UTF-16/32 BOM mean binary.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding)
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"{path}: starts with a {encoding} byte-order mark but is not {encoding} "
                    f"(invalid bytes at offset {exc.start + len(bom)})"
                ) from exc
    if b"\x00" in data:
        raise InputError(f"{path}: binary content (NUL bytes), not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    if _mostly_utf8(data):
        _register_handler()
        logger.warning(
            "%s: not UTF-8 from byte %d; bytes that are not UTF-8 read as Windows-1252",
            path,
            first_bad,
        )
        return data.decode("utf-8", errors=_STRAY_HANDLER)
    verdict = best_latin(data)
    if verdict is not None and verdict.plausible:
        logger.warning("%s: not UTF-8; decoded as %s (its words read best)", path, verdict.encoding)
        # The verdict saw a sample; a byte the code page lacks further on is kept visible.
        return data.decode(verdict.encoding, errors="replace")
    other = best_other_script(data)
    if other is not None:
        # Detectors guess CJK for short single-byte Cyrillic or Greek; its words decide instead.
        encoding = other.encoding
        logger.warning("%s: not UTF-8; decoded as %s (its words read best)", path, encoding)
        return data.decode(encoding, errors="replace")
    return _detected(data, path)


def _mostly_utf8(data: bytes) -> bool:
    """Whether valid UTF-8 sequences outnumber the stray bytes: a UTF-8 file with a few errors."""
    text = data.decode("utf-8", errors="surrogateescape")
    stray = sum(1 for ch in text if "\udc80" <= ch <= "\udcff")
    return sum(1 for ch in text if ord(ch) > 127) - stray > stray


def _detected(data: bytes, path: Path | str) -> str:
    """Decode with charset-normalizer's best match, naming the encoding in a warning."""
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise InputError(f"{path}: binary content (no text encoding fits), not text")
    logger.warning("%s: not UTF-8; decoded as %s (detected)", path, best.encoding)
    return str(best)
