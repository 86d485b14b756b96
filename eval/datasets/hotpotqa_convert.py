"""Convert HotpotQA's JSON into a dataset folder (questions.json, corpus.json), and check samples.

The corpus pools the distinct (title, text) paragraphs of all questions' contexts, in
first-seen order: the layout of `../shared/data/hotpotqa-dev-500`, whose sample came from the
same file (`check_sample` proves it).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from rag.errors import InputError

RECORD_KEYS = ("_id", "question", "answer", "supporting_facts", "context")


def _check_record(record: Any, where: str) -> None:
    """An InputError unless the record has HotpotQA's fields with [title, [sentences]] context."""
    if not isinstance(record, dict):
        raise InputError(f"{where}: not an object")
    missing = [k for k in RECORD_KEYS if k not in record]
    if missing:
        raise InputError(f"{where}: missing {', '.join(missing)}")
    for pair in record["context"]:
        ok = isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)
        if not ok or not all(isinstance(s, str) for s in pair[1]):
            raise InputError(f"{where}: context entries must be [title, [sentences]]")


def pooled_corpus(records: list[dict[str, Any]], source: str) -> list[dict[str, str]]:
    """The distinct (title, text) paragraphs of all contexts, in first-seen order."""
    seen: dict[tuple[str, str], None] = {}
    for i, record in enumerate(records):
        _check_record(record, f"{source}: record {i}")
        for title, sentences in record["context"]:
            # HotpotQA's sentences carry their own leading spaces, so joining on "" restores
            # the paragraph as written (the shared 500-question sample was pooled the same way).
            seen.setdefault((title, "".join(sentences)), None)
    return [{"title": title, "text": text} for title, text in seen]


def _write_json(path: Path, value: Any) -> None:
    """Write JSON compactly but one record per line, so the file stays greppable."""
    with path.open("w", encoding="utf-8") as out:
        out.write("[\n")
        for i, item in enumerate(value):
            out.write(("," if i else "") + json.dumps(item, ensure_ascii=False) + "\n")
        out.write("]\n")


def convert(
    raw: bytes, target: Path, source: str, expect: tuple[int, int] | None = None
) -> tuple[int, int]:
    """Write questions.json and corpus.json for HotpotQA's JSON into `target`; the two counts.

    The folder is written beside `target` and renamed into place, so a failed conversion
    leaves an earlier one intact. `expect` is (questions, paragraphs) to check against.
    """
    try:
        records = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InputError(f"{source}: not JSON ({exc})") from None
    if not isinstance(records, list) or not records:
        raise InputError(f"{source}: expected a non-empty list of question records")
    corpus = pooled_corpus(records, source)
    counts = (len(records), len(corpus))
    if expect is not None and counts != expect:
        raise InputError(
            f"{source}: {counts[0]} questions and {counts[1]} paragraphs, "
            f"expected {expect[0]} and {expect[1]}"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; a dataset folder is for every reader
    try:
        _write_json(staging / "questions.json", records)
        _write_json(staging / "corpus.json", corpus)
        (staging / "README.md").write_text(
            f"HotpotQA dev distractor, converted by eval.datasets.hotpotqa_full from {source}: "
            f"{counts[0]} questions, {counts[1]} paragraphs. CC BY-SA 4.0.\n",
            encoding="utf-8",
        )
        old = target.with_name(f".{target.name}-old")
        if target.exists():
            os.replace(target, old)
        os.replace(staging, target)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return counts


def check_sample(full: Path, sample: Path) -> tuple[int, int]:
    """Check that a sample folder's questions and passages all lie in the full set; the counts.

    Passages are compared by id (the content hash `rag index` gives them), questions by their
    whole record, so a sample drawn from another version of HotpotQA is an InputError.
    """
    from eval.datasets.corpus import read_corpus

    full_ids = read_corpus(full / "corpus.json").ids
    sample_ids = read_corpus(sample / "corpus.json").ids
    outside = sample_ids - full_ids
    if outside:
        raise InputError(f"{sample}: {len(outside)} of {len(sample_ids)} passages not in {full}")
    records = {r["_id"]: r for r in json.loads((full / "questions.json").read_bytes())}
    sampled = json.loads((sample / "questions.json").read_bytes())
    differ = [r.get("_id") for r in sampled if records.get(r.get("_id")) != r]
    if differ:
        first = differ[0]
        raise InputError(f"{sample}: {len(differ)} questions differ from {full} (first {first})")
    return len(sampled), len(sample_ids)
