"""Read JSON and JSONL files of records (dataset corpora) into one Document per record."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from rag.errors import InputError
from rag.ingest.decoding import decode_text
from rag.types import Document

logger = logging.getLogger(__name__)

TEXT_FIELDS = ("text", "content", "paragraph_text", "body", "passage")
TITLE_FIELD = "title"
LIST_KEYS = ("data", "documents", "corpus")


class _BadRecord(ValueError):
    """A record that cannot become a Document; the message says where and why."""


def _decode(path: Path) -> str:
    """Read a JSON file's text in whatever encoding it has (see `decode_text`)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    return decode_text(data, path)


def _parse(text: str) -> Any:
    """json.loads, raising ValueError or RecursionError with a message that says what is wrong."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise RecursionError("nested too deeply to parse") from None
    except ValueError as exc:  # e.g. an integer beyond Python's 4,300-digit conversion limit
        raise ValueError(" ".join(str(exc).split(";")[0].split())) from None


def _lone_surrogate(record: dict[str, Any]) -> str | None:
    """The first string field holding a lone UTF-16 surrogate (\\udXXX), which is not text."""
    for key, value in record.items():
        for text in (str(key), value):
            if isinstance(text, str):
                try:
                    text.encode("utf-8")
                except UnicodeEncodeError as exc:
                    return f"{key!r} holds a lone surrogate \\u{ord(text[exc.start]):04x}"
    return None


def _record_document(record: Any, index: int, path: Path, where: str) -> Document:
    """Turn one parsed record into a Document, or raise _BadRecord naming what is wrong."""
    if not isinstance(record, dict):
        raise _BadRecord(f"{where} is a JSON {type(record).__name__}, not an object")
    surrogate = _lone_surrogate(record)
    if surrogate:
        raise _BadRecord(f"{where}: {surrogate}, not valid Unicode text")
    field = next((f for f in TEXT_FIELDS if isinstance(record.get(f), str)), None)
    if field is None:
        keys = ", ".join(sorted(map(str, record))) or "none"
        raise _BadRecord(
            f"{where} has no text field (one of {', '.join(TEXT_FIELDS)}); found keys: {keys}"
        )
    text: str = record[field]
    if not text.strip():
        raise _BadRecord(f"{where} has an empty '{field}'")
    title = record.get(TITLE_FIELD)
    # Only scalar extras are kept: nested values (e.g. question decompositions) would bloat
    # every passage's metadata and the passage store.
    extras = {
        k: v
        for k, v in record.items()
        if k not in (field, TITLE_FIELD) and isinstance(v, (str, int, float, bool))
    }
    return Document(
        text=text,
        source=f"{path}#{index}",
        title=title if isinstance(title, str) and title.strip() else None,
        metadata={**extras, "file_name": path.name, "record": index},
    )


def _try_record(record: Any, index: int, path: Path, where: str) -> Document | str:
    """A Document for a good record, or the reason it is unusable."""
    try:
        return _record_document(record, index, path, where)
    except _BadRecord as exc:
        return str(exc)


def _collect(path: Path, results: list[Document | str], unit: str) -> list[Document]:
    """Keep the good records; warn once about the bad ones, and fail if none is good."""
    docs = [r for r in results if isinstance(r, Document)]
    bad = [r for r in results if isinstance(r, str)]
    if not results:
        raise InputError(f"{path}: no records")
    if not docs:
        raise InputError(f"{path}: no usable {unit}s; {bad[0]}")
    if bad:
        logger.warning(
            "%s: skipped %d of %d %ss that are not usable (first: %s)",
            path,
            len(bad),
            len(results),
            unit,
            bad[0],
        )
    return docs


def _title_mapping(data: dict[str, Any]) -> list[dict[str, str]] | None:
    """Records of a {title: sentences} object (HippoRAG 1's HotpotQA corpus), else None.

    Sentences are joined as HotpotQA writes them: each after the first starts with its space.
    """
    if not data or not all(
        isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v))
        for v in data.values()
    ):
        return None
    return [
        {"title": str(title), "text": value if isinstance(value, str) else "".join(value)}
        for title, value in data.items()
    ]


def _records_of(data: Any, path: Path) -> list[Any]:
    """Find the list of records in a parsed JSON value, accepting the common corpus shapes."""
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        for key in LIST_KEYS:
            if isinstance(data.get(key), list):
                return list(data[key])
        by_title = _title_mapping(data)
        if by_title is not None:
            return by_title
        keys = ", ".join(sorted(map(str, data))) or "none"
        raise InputError(
            f"{path}: expected a list of records or an object with a "
            f"{' / '.join(repr(k) for k in LIST_KEYS)} list; found keys: {keys}"
        )
    raise InputError(f"{path}: expected a list of records, got a JSON {type(data).__name__}")


def read_json(path: Path) -> list[Document]:
    """Read a .json list of records, or an object holding one under data/documents/corpus."""
    try:
        data = _parse(_decode(path))
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{path}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from exc
    except (ValueError, RecursionError) as exc:
        raise InputError(f"{path}: cannot parse JSON: {exc}") from exc
    records = _records_of(data, path)
    results = [_try_record(r, i, path, f"record {i}") for i, r in enumerate(records)]
    return _collect(path, results, "record")


def read_jsonl(path: Path) -> list[Document]:
    """Read a .jsonl file, one record per line; a record's index is its 0-based line number."""
    results: list[Document | str] = []
    # Not splitlines(): JSON strings may hold a raw U+2028, which it would take for a line break.
    for index, line in enumerate(_decode(path).split("\n")):
        if not line.strip():
            continue
        where = f"line {index + 1}"
        try:
            record = _parse(line)
        except json.JSONDecodeError as exc:
            results.append(f"{where} is not valid JSON (column {exc.colno}: {exc.msg})")
            continue
        except (ValueError, RecursionError) as exc:
            results.append(f"{where} cannot be parsed ({exc})")
            continue
        results.append(_try_record(record, index, path, where))
    return _collect(path, results, "line")
