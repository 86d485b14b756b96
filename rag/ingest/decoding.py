"""Text files in any common encoding: BOMs, UTF-8 with stray bytes, Western and other legacy code
pages; only data no text encoding explains is binary."""

from __future__ import annotations

import codecs
import logging
from pathlib import Path

from rag.errors import InputError

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
_HIGH_BYTES = bytes(range(0x80, 0x100))
_NOT_ASCII_LETTERS = bytes(b for b in range(0x100) if not (97 <= (b | 0x20) <= 122))
#: Western text has a few accented letters among many ASCII ones; above this share of non-ASCII
#: bytes among letters the file is more likely Cyrillic, Greek or CJK, and detection decides.
_WESTERN_HIGH_SHARE = 0.3


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

    A BOM decides (and is dropped). Otherwise strict UTF-8; failing that, Western text (few
    non-ASCII bytes) is read as UTF-8 with each stray byte taken as Windows-1252, which is right
    for Latin-1 and cp1252 files and for UTF-8 files with a few such bytes alike; other text is
    decoded with charset-normalizer's best guess. Both fallbacks log the file and the choice.
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
    high = len(data) - len(data.translate(None, _HIGH_BYTES))
    letters = len(data.translate(None, _NOT_ASCII_LETTERS))
    if high <= _WESTERN_HIGH_SHARE * (letters + high):
        _register_handler()
        logger.warning(
            "%s: not UTF-8 from byte %d; bytes that are not UTF-8 read as Windows-1252",
            path,
            first_bad,
        )
        return data.decode("utf-8", errors=_STRAY_HANDLER)
    return _detected(data, path)


def _detected(data: bytes, path: Path | str) -> str:
    """Decode with charset-normalizer's best match, naming the encoding in a warning."""
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise InputError(f"{path}: binary content (no text encoding fits), not text")
    logger.warning("%s: not UTF-8; decoded as %s (detected)", path, best.encoding)
    return str(best)
