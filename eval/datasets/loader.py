"""load_dataset: resolve a dataset's files, parse its questions, select some, check the gold."""

from __future__ import annotations

import logging
from pathlib import Path

from eval.datasets.corpus import CorpusIndex, read_corpus
from eval.datasets.files import (
    content_hash,
    find_corpus,
    find_openie,
    find_questions,
    read_records,
)
from eval.datasets.model import Dataset, QAItem
from eval.datasets.qmsum import load_qmsum
from eval.datasets.qmsum_layout import find_meetings
from eval.datasets.selection import selected_indices, validated_selection
from eval.datasets.styles import style_of
from rag.errors import ConfigError, InputError
from rag.settings import Settings, load_settings

logger = logging.getLogger(__name__)


def _resolve(
    path: Path, questions: str | Path | None, corpus: str | Path | None
) -> tuple[Path, Path, Path]:
    """The questions file, the corpus file and the dataset folder for the given paths."""
    if path.is_dir():
        folder = path
        if questions is None:
            questions_path = find_questions(folder)
        else:
            # A bare name is looked up in the dataset folder first.
            given = Path(questions)
            in_folder = folder / given
            questions_path = in_folder if not given.is_absolute() and in_folder.exists() else given
        corpus_path = Path(corpus) if corpus is not None else find_corpus(folder)
        if corpus_path is None:
            raise InputError(f"{folder}: no corpus file (*corpus*.json or .jsonl); pass corpus=")
    elif path.is_file():
        if questions is not None:
            raise ConfigError(f"{path} is a questions file already; questions= is for folders")
        folder, questions_path = path.parent, path
        if corpus is None:
            raise InputError(f"{path}: no corpus given for this questions file; pass corpus=<file>")
        corpus_path = Path(corpus)
    else:
        raise InputError(f"{path}: no such dataset folder or questions file")
    for label, file in (("questions", questions_path), ("corpus", corpus_path)):
        if not file.is_file():
            raise InputError(f"{file}: {label} file not found")
    return questions_path, corpus_path, folder


def _check_gold(items: list[QAItem], corpus: CorpusIndex, corpus_path: Path) -> None:
    """Note on each question the gold the corpus lacks; warn once with the count."""
    unmatched, without_gold = [], 0
    for item in items:
        if not item.gold_ids and not item.gold_titles:
            without_gold += 1
            continue
        missing = [g for g in item.gold_ids if g not in corpus.ids]
        missing += [t for t in item.gold_titles if t not in corpus.by_title]
        if missing or not item.gold_ids:
            item.metadata["unmatched_gold"] = missing
            unmatched.append(item.id)
    if unmatched:
        logger.warning(
            "%s: %d of %d questions have gold passages not in the corpus; they keep the gold "
            "they have, and recall counts the missing ones as misses (first: %s)",
            corpus_path,
            len(unmatched),
            len(items),
            unmatched[0],
        )
    if without_gold:
        logger.info("%d questions have no gold passages; retrieval metrics skip them", without_gold)


def _meetings_file(path: Path) -> Path | None:
    """The QMSum meetings file `path` is, or holds when it has no HippoRAG-layout corpus."""
    if path.is_file():
        return find_meetings(path)
    if path.is_dir() and find_corpus(path) is None:
        return find_meetings(path)
    return None


def load_dataset(
    path: str | Path,
    *,
    questions: str | Path | None = None,
    corpus: str | Path | None = None,
    limit: int | None = None,
    sample: int | None = None,
    seed: int = 0,
    settings: Settings | None = None,
) -> Dataset:
    """Load a question set (a dataset folder, or a questions file with corpus=) and its gold.

    A QMSum meetings file (or a folder holding one, and no corpus) is recognized by its
    records' `meeting_transcripts`: each meeting becomes its own corpus and each query is
    evaluated against its own meeting only (see `eval.datasets.qmsum`). Its corpus files go
    under `settings.cache_dir`, and its gold ids follow `settings.chunking`.
    """
    selection = validated_selection(limit, sample, seed)
    meetings = _meetings_file(Path(path)) if corpus is None else None
    if meetings is not None:
        if questions is not None:
            raise ConfigError(f"{meetings}: QMSum meetings hold their own queries; drop questions=")
        name = Path(path).name if Path(path).is_dir() else meetings.stem
        return load_qmsum(meetings, name, selection, settings or load_settings())
    questions_path, corpus_path, folder = _resolve(Path(path), questions, corpus)
    records = read_records(questions_path)
    if not records:
        raise InputError(f"{questions_path}: no questions")
    style, parse = style_of(records[0], str(questions_path))
    index = read_corpus(corpus_path)
    items = [
        parse(records[i], i, f"{questions_path}: record {i}", index)
        for i in selected_indices(len(records), selection)
    ]
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise InputError(f"{questions_path}: question id {item.id!r} appears twice")
        seen.add(item.id)
    _check_gold(items, index, corpus_path)
    logger.info(
        "%s: %d %s-style questions, %d corpus passages", folder, len(items), style, len(index.ids)
    )
    return Dataset(
        name=folder.name if Path(path).is_dir() else questions_path.stem,
        corpus_path=corpus_path,
        questions_path=questions_path,
        questions=items,
        openie_path=find_openie(folder),
        corpus_size=len(index.ids),
        content_hash=content_hash(corpus_path, questions_path, selection),
    )
