"""Recognize and validate LoCoMo's conversation records (dated sessions of turns, questions)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval.datasets.files import find_by_content, first_record, string_field
from rag.errors import InputError

#: A record is a LoCoMo sample when it has `qa` and `conversation` (or, so that a sample
#: missing its conversation gets a clear error, `qa` and `sample_id`).
CONVERSATION = "conversation"
QA = "qa"
SAMPLE_ID = "sample_id"
#: LoCoMo's question categories (its evaluation code: 1 multi-hop, 2 temporal, 3 open-domain,
#: 4 single-hop, 5 adversarial); 5 asks what the conversation never says.
CATEGORIES = (1, 2, 3, 4, 5)
ADVERSARIAL = 5

_SESSION = re.compile(r"session_(\d+)")
# Evidence lists sometimes hold two ids in one string ("D8:6; D9:17").
_EVIDENCE_SEPARATOR = re.compile(r"[;,\s]+")


@dataclass(frozen=True)
class Turn:
    """One turn of a session: its dialogue id (D<session>:<n>), speaker and text."""

    dia_id: str
    speaker: str
    text: str


@dataclass(frozen=True)
class Session:
    """A session of the conversation: its number, when it took place, and its turns in order."""

    number: int
    date_time: str
    turns: list[Turn]


@dataclass(frozen=True)
class Question:
    """A question on one conversation with its answer, evidence dia_ids and category."""

    question: str
    answer: str | None
    adversarial_answer: str | None
    evidence: list[str]
    category: int


@dataclass(frozen=True)
class Conversation:
    """One LoCoMo sample: its id, its sessions in numeric order, and its questions."""

    id: str
    sessions: list[Session]
    questions: list[Question]


def is_conversations_file(path: Path) -> bool:
    """Whether a .json/.jsonl file holds LoCoMo samples (judged by its first record)."""
    first = first_record(path)
    return isinstance(first, dict) and QA in first and (CONVERSATION in first or SAMPLE_ID in first)


def find_conversations(path: Path) -> Path | None:
    """The LoCoMo conversations file that `path` is or that its folder holds, or None."""
    return find_by_content(path, is_conversations_file, "LoCoMo conversation")


def _answer(value: Any, key: str, where: str) -> str | None:
    """An answer field as text (LoCoMo writes some numbers as JSON numbers); None if absent."""
    if value is None or value == "":
        return None
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value).strip() or None
    raise InputError(f"{where}: '{key}' must be a string or a number, got {value!r}")


def _turn(value: Any, where: str) -> Turn:
    """One turn; a shared photo's caption is kept as text, since questions may ask about it."""
    if not isinstance(value, dict):
        raise InputError(f"{where} is a JSON {type(value).__name__}, not a turn object")
    if not isinstance(value.get("dia_id"), str) or not value["dia_id"].strip():
        raise InputError(f"{where} has no 'dia_id' (its D<session>:<turn> id)")
    dia_id = value["dia_id"].strip()
    at = f"{where} ({dia_id})"
    text = string_field(value, "text", at).strip()
    caption = value.get("blip_caption")
    if isinstance(caption, str) and caption.strip():
        text = f"{text} [shares a photo: {caption.strip()}]".strip()
    return Turn(dia_id, string_field(value, "speaker", at).strip(), text)


def _sessions(conversation: dict[str, Any], where: str) -> list[Session]:
    """The non-empty sessions (numbers may be missing), in numeric order, each with its date."""
    numbers = sorted(int(m[1]) for key in conversation if (m := _SESSION.fullmatch(key)))
    sessions = []
    for n in numbers:
        turns = conversation[f"session_{n}"]
        at = f"{where}, session_{n}"
        if not isinstance(turns, list):
            raise InputError(f"{at} must be a list of turns")
        if not turns:
            continue  # an empty session has no passage to date
        date = conversation.get(f"session_{n}_date_time")
        if not isinstance(date, str) or not date.strip():
            raise InputError(f"{at} has no date: 'session_{n}_date_time' must be a string")
        parsed = [_turn(t, f"{at}, turn {i}") for i, t in enumerate(turns)]
        sessions.append(Session(n, date.strip(), parsed))
    if not sessions:
        raise InputError(f"{where}: the conversation has no turns (no non-empty 'session_<n>')")
    return sessions


def _category(value: Any, where: str) -> int:
    """The question's category, one of 1-5."""
    if not isinstance(value, int) or isinstance(value, bool) or value not in CATEGORIES:
        raise InputError(f"{where}: 'category' must be one of 1-5, got {value!r}")
    return value


def _evidence(value: Any, where: str) -> list[str]:
    """The evidence dia_ids, split where one string holds several; absent means none."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(e, str) for e in value):
        raise InputError(f"{where}: 'evidence' must be a list of dia_id strings")
    return [e for item in value for e in _EVIDENCE_SEPARATOR.split(item) if e]


def _question(value: Any, where: str) -> Question:
    """One qa entry; an adversarial one (category 5) answers through `adversarial_answer`."""
    if not isinstance(value, dict):
        raise InputError(f"{where} is a JSON {type(value).__name__}, not a question object")
    question = value.get("question")
    if not isinstance(question, str) or not question.strip():
        raise InputError(f"{where} has no question: 'question' must be a non-empty string")
    category = _category(value.get("category"), where)
    adversarial = category == ADVERSARIAL
    return Question(
        question=question.strip(),
        answer=None if adversarial else _answer(value.get("answer"), "answer", where),
        adversarial_answer=_answer(value.get("adversarial_answer"), "adversarial_answer", where),
        evidence=_evidence(value.get("evidence"), where),
        category=category,
    )


def parse_conversation(record: Any, default_id: str, where: str) -> Conversation:
    """Validate one sample into a Conversation; errors name the sample and the field."""
    if not isinstance(record, dict):
        raise InputError(f"{where} is a JSON {type(record).__name__}, not a sample object")
    sample_id = record.get(SAMPLE_ID)
    sample = sample_id.strip() if isinstance(sample_id, str) and sample_id.strip() else default_id
    at = f"{where} ({sample})"
    conversation = record.get(CONVERSATION)
    if not isinstance(conversation, dict):
        raise InputError(
            f"{at} has no conversation: '{CONVERSATION}' must be an object of speaker_a, "
            "speaker_b, session_<n> and session_<n>_date_time"
        )
    qa = record.get(QA)
    if not isinstance(qa, list):
        raise InputError(f"{at}: '{QA}' must be a list of questions")
    return Conversation(
        id=sample,
        sessions=_sessions(conversation, at),
        questions=[_question(q, f"{at}, qa[{n}]") for n, q in enumerate(qa)],
    )
