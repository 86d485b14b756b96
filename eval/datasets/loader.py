"""load_dataset: resolve a dataset's files, parse its questions, select some, check the gold."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from eval.datasets.corpus import CorpusIndex, read_corpus
from eval.datasets.files import (
    content_hash,
    find_corpus,
    find_openie,
    find_questions,
    read_records,
)
from eval.datasets.gold import mark_unmatched
from eval.datasets.locomo import load_locomo
from eval.datasets.locomo_layout import find_conversations
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
    missing: dict[str, list[str]] = {}
    without_gold = 0
    for item in items:
        if not item.gold_ids and not item.gold_titles:
            without_gold += 1
            continue
        lacking = [g for g in item.gold_ids if g not in corpus.ids]
        lacking += [t for t in item.gold_titles if t not in corpus.by_title]
        if lacking or not item.gold_ids:
            missing[item.id] = lacking
    mark_unmatched(
        items,
        missing,
        corpus_path,
        "have gold passages not in the corpus; they keep the gold they have, and recall counts "
        "the missing ones as misses",
    )
    if without_gold:
        logger.info("%d questions have no gold passages; retrieval metrics skip them", without_gold)


def _own_layout(path: Path, find: Callable[[Path], Path | None]) -> Path | None:
    """The file of a layout `find` recognizes that `path` is, or holds when it has no corpus."""
    if path.is_file():
        return find(path)
    if path.is_dir() and find_corpus(path) is None:
        return find(path)
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
    turns_per_passage: int | None = None,
) -> Dataset:
    """Load a question set (a dataset folder, or a questions file with corpus=) and its gold.

    A QMSum meetings file (or a folder holding one, and no corpus) is recognized by its
    records' `meeting_transcripts`: each meeting becomes its own corpus and each query is
    evaluated against its own meeting only (see `eval.datasets.qmsum`). A LoCoMo file (or a
    folder holding one, and no corpus) is recognized by its records' `conversation` and `qa`:
    each sample is its own corpus, with passages of `turns_per_passage` turns (default 1; see
    `eval.datasets.locomo`). Their corpus files go under `settings.cache_dir`, and their gold
    ids follow `settings.chunking`.
    """
    selection = validated_selection(limit, sample, seed)
    given = Path(path)
    meetings = _own_layout(given, find_meetings) if corpus is None else None
    conversations = (
        _own_layout(given, find_conversations) if corpus is None and meetings is None else None
    )
    if turns_per_passage is not None and conversations is None:
        raise ConfigError(f"{path}: turns_per_passage applies to LoCoMo conversations only")
    own = meetings or conversations
    if own is not None:
        if questions is not None:
            raise ConfigError(f"{own}: this file holds its own questions; drop questions=")
        name = given.name if given.is_dir() else own.stem
        settings = settings or load_settings()
        if conversations is not None:
            per_passage = 1 if turns_per_passage is None else turns_per_passage
            return load_locomo(conversations, name, selection, settings, per_passage)
        return load_qmsum(own, name, selection, settings)
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
