"""Find a dataset's files in a folder, read question records, and hash what was loaded."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rag.errors import ConfigError, InputError

logger = logging.getLogger(__name__)

PREFERRED_QUESTIONS = "questions.json"
DATA_SUFFIXES = (".json", ".jsonl")


def _data_files(folder: Path) -> list[Path]:
    """The JSON and JSONL files directly in a folder, sorted by name."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in DATA_SUFFIXES)


def _is_openie(path: Path) -> bool:
    """Whether a file is a cached OpenIE output by its name (openie*.json)."""
    return path.name.lower().startswith("openie") and path.suffix.lower() == ".json"


def _is_corpus(path: Path) -> bool:
    """Whether a file is a corpus by its name (*corpus*.json or .jsonl)."""
    return "corpus" in path.name.lower()


def _holds_questions(path: Path) -> bool:
    """Whether a file parses as a list of records with a 'question' field."""
    try:
        records = read_records(path)
    except InputError:
        return False
    return bool(records) and "question" in records[0]


def find_questions(folder: Path) -> Path:
    """The questions file of a dataset folder: questions.json, else the one question list."""
    if (folder / PREFERRED_QUESTIONS).is_file():
        return folder / PREFERRED_QUESTIONS
    candidates = [p for p in _data_files(folder) if not _is_corpus(p) and not _is_openie(p)]
    if len(candidates) > 1:
        # Parsing is the only way to tell a question list from other JSON kept beside it.
        candidates = [p for p in candidates if _holds_questions(p)]
    if not candidates:
        raise InputError(
            f"{folder}: no questions file (questions.json, or another .json/.jsonl list of "
            "question records that is not *corpus* or openie*)"
        )
    if len(candidates) > 1:
        names = ", ".join(p.name for p in candidates)
        raise ConfigError(f"{folder}: several question files ({names}); pass questions=<file>")
    return candidates[0]


def find_corpus(folder: Path) -> Path | None:
    """The corpus file of a dataset folder (*corpus*.json or .jsonl), or None when there is none."""
    candidates = [p for p in _data_files(folder) if _is_corpus(p) and not _is_openie(p)]
    if len(candidates) > 1:
        names = ", ".join(p.name for p in candidates)
        raise ConfigError(f"{folder}: several corpus files ({names}); pass corpus=<file>")
    return candidates[0] if candidates else None


def find_openie(folder: Path) -> Path | None:
    """A cached OpenIE file (openie*.json) in the folder; the first by name if there are several."""
    found = [p for p in _data_files(folder) if _is_openie(p)]
    if len(found) > 1:
        logger.warning(
            "%s: several OpenIE files (%s); using %s",
            folder,
            ", ".join(p.name for p in found),
            found[0].name,
        )
    return found[0] if found else None


def _decode(path: Path) -> str:
    """A file's UTF-8 text (BOM tolerated), or an InputError naming the file."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise InputError(f"{path}: file not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from exc


def _parse_jsonl(path: Path, text: str) -> list[Any]:
    """Parse one JSON value per non-blank line, naming the line that fails."""
    values = []
    # Not splitlines(): JSON strings may hold a raw U+2028, which it would take for a line break.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            values.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}: line {number} is not valid JSON: {exc.msg}") from exc
    return values


def read_records(path: Path) -> list[dict[str, Any]]:
    """Read a .json list or a .jsonl file of question records (JSON objects)."""
    text = _decode(path)
    if path.suffix.lower() == ".jsonl":
        data: Any = _parse_jsonl(path, text)
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"{path}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
            ) from exc
    if not isinstance(data, list):
        raise InputError(f"{path}: expected a list of question records, got {type(data).__name__}")
    for index, record in enumerate(data):
        if not isinstance(record, dict):
            raise InputError(f"{path}: record {index} is a {type(record).__name__}, not an object")
    return data


def content_hash(corpus: Path, questions: Path, selection: dict[str, Any]) -> str:
    """SHA-256 over the corpus bytes, the questions bytes and the selection, as hex."""
    digest = hashlib.sha256()
    for path in (corpus, questions):
        # Each file's length goes first, so that moving bytes between the files changes the hash.
        digest.update(path.stat().st_size.to_bytes(8, "big"))
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    digest.update(json.dumps(selection, sort_keys=True).encode())
    return digest.hexdigest()


def first_record(path: Path) -> Any:
    """The first JSON record of a .jsonl or .json list file, or None when it has none (or is
    not such a file)."""
    if not path.is_file() or path.suffix.lower() not in DATA_SUFFIXES:
        return None
    try:
        with path.open(encoding="utf-8-sig") as handle:
            if path.suffix.lower() == ".jsonl":
                # Only the first line is parsed: enough to recognize the layout, cheap on big files.
                line = next((x for x in handle if x.strip()), "")
                return json.loads(line) if line else None
            data = json.load(handle)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return data[0] if isinstance(data, list) and data else None


def find_by_content(path: Path, is_kind: Callable[[Path], bool], kind: str) -> Path | None:
    """The file of a layout recognized by content that `path` is or its folder holds, or None.

    `kind` names the layout in the error raised when a folder holds several such files.
    """
    if path.is_file():
        return path if is_kind(path) else None
    found = sorted(p for p in path.iterdir() if is_kind(p))
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        raise ConfigError(f"{path}: several {kind} files ({names}); pass one of them")
    return found[0] if found else None


def string_field(value: Any, key: str, where: str) -> str:
    """A record's string field, or an InputError naming where it is missing."""
    if not isinstance(value, dict) or not isinstance(value.get(key), str):
        raise InputError(f"{where}: '{key}' must be a string")
    text: str = value[key]
    return text
