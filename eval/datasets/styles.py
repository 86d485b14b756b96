"""Turn question records of each known style into QAItems with gold passage ids."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from eval.datasets.corpus import CorpusIndex, record_passage_id
from eval.datasets.model import QAItem
from rag.errors import InputError

HOPS = re.compile(r"^(\d+)hop")
# Scalar fields worth keeping per question (HotpotQA: type, level; 2Wiki: type; MuSiQue:
# answerable); nested ones such as decompositions stay in the source file.
KEPT_FIELDS = ("type", "level", "answerable")

Parser = Callable[[dict[str, Any], int, str, CorpusIndex], QAItem]


def _unique(items: Iterable[str]) -> list[str]:
    """Items in first-seen order without repeats."""
    return list(dict.fromkeys(items))


def _require(record: dict[str, Any], key: str, where: str) -> Any:
    """A record's field, or an InputError naming the record and the field."""
    if key not in record:
        raise InputError(f"{where} has no '{key}' field")
    return record[key]


def _answers(*values: Any) -> list[str]:
    """Answer strings from str or list values, in order, without blanks or repeats."""
    found: list[str] = []
    for value in values:
        items = value if isinstance(value, list) else [value]
        found += [str(v).strip() for v in items if v is not None and str(v).strip()]
    return _unique(found)


def _kept(record: dict[str, Any]) -> dict[str, Any]:
    """The scalar metadata fields of a record that reports group questions by."""
    return {k: record[k] for k in KEPT_FIELDS if isinstance(record.get(k), (str, int, bool))}


def parse_musique(record: dict[str, Any], index: int, where: str, corpus: CorpusIndex) -> QAItem:
    """A MuSiQue record: gold are its paragraphs with is_supporting, hashed by title and text."""
    qid = str(_require(record, "id", where))
    paragraphs = _require(record, "paragraphs", where)
    if not isinstance(paragraphs, list):
        raise InputError(f"{where}: 'paragraphs' must be a list")
    supporting = [p for p in paragraphs if isinstance(p, dict) and p.get("is_supporting")]
    gold: list[tuple[str, str]] = []
    for p in supporting:
        text = p.get("paragraph_text", p.get("text"))
        if not isinstance(text, str):
            raise InputError(f"{where}: a supporting paragraph has no 'paragraph_text'")
        gold.append((text, p.get("title") or ""))
    metadata = _kept(record)
    match = HOPS.match(qid)
    if match:
        metadata["hops"] = int(match.group(1))
        metadata["composition"] = qid.split("__")[0]
    elif isinstance(record.get("question_decomposition"), list):
        metadata["hops"] = len(record["question_decomposition"])
    return QAItem(
        id=qid,
        question=str(_require(record, "question", where)),
        answers=_answers(record.get("answer"), record.get("answer_aliases", [])),
        gold_ids=_unique(record_passage_id(text, title) for text, title in gold),
        gold_titles=_unique(title for _, title in gold if title),
        metadata=metadata,
    )


def _pairs(value: Any, second: str, where: str) -> list[tuple[str, Any]]:
    """(title, x) pairs from [[title, x], ...] or the Hugging Face {"title": [...], ...} form."""
    if isinstance(value, dict):
        return list(zip(value.get("title", []), value.get(second, []), strict=False))
    if isinstance(value, list) and all(isinstance(v, list) and len(v) >= 2 for v in value):
        return [(str(v[0]), v[1]) for v in value]
    raise InputError(f"{where}: expected a list of [title, {second}] pairs")


def parse_supporting_facts(
    record: dict[str, Any], index: int, where: str, corpus: CorpusIndex
) -> QAItem:
    """A HotpotQA or 2WikiMultiHopQA record: gold are all corpus passages of a supporting title."""
    qid = record.get("_id", record.get("id"))
    if qid is None:
        raise InputError(f"{where} has no '_id' or 'id' field")
    facts = _pairs(_require(record, "supporting_facts", where), "sent_id", where)
    titles = _unique(title for title, _ in facts)
    context = dict(_pairs(record.get("context", []), "sentences", where))
    gold_ids: list[str] = []
    for title in titles:
        if title in corpus.by_title:
            gold_ids += corpus.by_title[title]
        elif isinstance(context.get(title), list):
            # The corpus lacks this passage: keep an id for it anyway (the context paragraph's
            # hash), so that recall still counts it as a gold passage never retrieved.
            text = " ".join(str(s).strip() for s in context[title])
            gold_ids.append(record_passage_id(text, title))
    return QAItem(
        id=str(qid),
        question=str(_require(record, "question", where)),
        answers=_answers(record.get("answer")),
        gold_ids=_unique(gold_ids),
        gold_titles=titles,
        metadata=_kept(record),
    )


def parse_generic(record: dict[str, Any], index: int, where: str, corpus: CorpusIndex) -> QAItem:
    """A user's record: question, answers, gold_ids and/or gold_titles (matched by title)."""
    ids = record.get("gold_ids", [])
    titles = record.get("gold_titles", [])
    for key, value in (("gold_ids", ids), ("gold_titles", titles)):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InputError(f"{where}: '{key}' must be a list of strings")
    from_titles = [pid for title in titles for pid in corpus.by_title.get(title, [])]
    metadata = record.get("metadata")
    return QAItem(
        # Without an id, the record's position names it: stable as long as the file is.
        id=str(record.get("id") or f"q{index}"),
        question=str(_require(record, "question", where)),
        answers=_answers(record.get("answers", record.get("answer"))),
        gold_ids=_unique([*ids, *from_titles]),
        gold_titles=_unique(titles),
        metadata=dict(metadata) if isinstance(metadata, dict) else {},
    )


def style_of(record: dict[str, Any], path: str) -> tuple[str, Parser]:
    """The style name and parser for a file, judged by its first record's keys."""
    if "paragraphs" in record:
        return "musique", parse_musique
    if "supporting_facts" in record:
        return "hotpotqa", parse_supporting_facts
    if "question" in record and any(
        k in record for k in ("answers", "answer", "gold_ids", "gold_titles")
    ):
        return "jsonl", parse_generic
    keys = ", ".join(sorted(map(str, record))) or "none"
    raise InputError(
        f"{path}: unknown question style; the first record has keys: {keys}. Expected MuSiQue "
        "(question, answer, paragraphs), HotpotQA/2Wiki (question, answer, supporting_facts, "
        "context) or JSONL (question, answers, gold_ids or gold_titles)"
    )
