"""Text in any common encoding is read, never dropped; only binary data is refused."""

from __future__ import annotations

import codecs
import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.cli.commands import app
from rag.errors import InputError
from rag.ingest.decoding import decode_text
from rag.ingest.records import read_json


@pytest.mark.parametrize(
    ("data", "text"),
    [
        ("Café crème\n".encode("latin-1"), "Café crème\n"),
        ("“Smart” quotes – and a dash €5\n".encode("cp1252"), "“Smart” quotes – and a dash €5\n"),
        (codecs.BOM_UTF8 + "Grüße\n".encode(), "Grüße\n"),
        (codecs.BOM_UTF16_LE + "Grüße\n".encode("utf-16-le"), "Grüße\n"),
        (codecs.BOM_UTF16_BE + "Grüße\n".encode("utf-16-be"), "Grüße\n"),
        (codecs.BOM_UTF32_LE + "Grüße\n".encode("utf-32-le"), "Grüße\n"),
        (
            "Привет, мир! Это тест кодировки.\n".encode("cp1251"),
            "Привет, мир! Это тест кодировки.\n",
        ),
        ("日本語のテキストです。\n".encode("shift_jis"), "日本語のテキストです。\n"),
    ],
)
def test_each_encoding_decodes_to_its_text(data: bytes, text: str) -> None:
    assert decode_text(data, "f.txt") == text


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Maria Skłodowska-Curie urodziła się w Warszawie. Zażółć gęślą jaźń.\n", "cp1250"),
        ("Příliš žluťoučký kůň úpěl ďábelské ódy v Plzni.\n", "iso-8859-2"),
        ("Árvíztűrő tükörfúrógép. Budapest Magyarország fővárosa.\n", "iso-8859-2"),
        ("İstanbul Türkiye'nin en kalabalık şehridir. Boğaziçi köprüsü.\n", "cp1254"),
        ("Ça été déjà reçu à l'hôtel où Noël fêté.\n", "latin-1"),
        ("Größe: 25 m² bei 20°C, schön.\n", "cp1252"),
        # Detectors read short single-byte Cyrillic as CJK; its words decide instead.
        ("Москва - столица России, крупнейший город страны.\n", "koi8-r"),
        ("Москва - столица России, крупнейший город страны.\n", "cp1251"),
        ("Съешь же ещё этих мягких французских булок.\n", "iso-8859-5"),
        ("Привет, мир! Как дела?\n", "cp866"),
        ("Η Αθήνα είναι η πρωτεύουσα της Ελλάδας.\n", "iso-8859-7"),
    ],
)
def test_each_legacy_code_page_decodes_to_its_words(
    text: str, encoding: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Polish, Czech, Hungarian, Turkish, an accent-dense French line: no Windows-1252 garble."""
    with caplog.at_level(logging.WARNING):
        assert decode_text(text.encode(encoding), "legacy.txt") == text
    assert "legacy.txt: not UTF-8; decoded as" in caplog.text


def test_a_legacy_file_is_decoded_by_its_words_not_a_byte_sample(tmp_path: Path) -> None:
    """A Polish file read through the text reader keeps 'Skłodowska' in its passage."""
    from rag.ingest.readers import read_source
    from rag.ingest.sources import discover_sources

    path = tmp_path / "curie.txt"
    path.write_bytes("Maria Skłodowska-Curie była fizyczką i chemiczką.\n".encode("cp1250"))
    (doc,) = read_source(discover_sources([path])[0])
    assert "Skłodowska" in doc.text and "Sk³odowska" not in doc.text


def test_one_stray_byte_in_a_large_utf8_file_keeps_the_rest(
    caplog: pytest.LogCaptureFixture,
) -> None:
    line = "naïve changelog line, ünïcode kept\n".encode()
    data = line * 50_000 + b"caf\xe9\n" + line * 50_000
    with caplog.at_level(logging.WARNING):
        text = decode_text(data, "CHANGES.txt")
    assert text.count("naïve") == 100_000 and "café\n" in text
    assert f"CHANGES.txt: not UTF-8 from byte {len(line) * 50_000 + 3}" in caplog.text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"ELF\x00\x01\x02binary", "binary content"),
        (bytes(range(256)) * 8, "binary content"),
        (codecs.BOM_UTF16_LE + b"\x00\xd8", "starts with a utf-16-le byte-order mark"),
    ],
)
def test_binary_data_is_refused_naming_the_file(data: bytes, message: str) -> None:
    with pytest.raises(InputError, match=f"blob.txt: {message}"):
        decode_text(data, "blob.txt")


def test_a_latin_1_json_corpus_is_read(tmp_path: Path) -> None:
    path = tmp_path / "corpus.json"
    path.write_bytes('[{"title": "Café", "text": "Crème brûlée"}]'.encode("latin-1"))
    docs = read_json(path)
    assert (docs[0].title, docs[0].text) == ("Café", "Crème brûlée")


def test_rag_index_reads_the_issue_reproduction(tmp_path: Path, env: dict[str, str]) -> None:
    docs = tmp_path / "d"
    docs.mkdir()
    (docs / "a.txt").write_bytes(b"Caf\xe9 cr\xe8me\n")
    (docs / "b.md").write_bytes(codecs.BOM_UTF16_LE + "Über uns\n".encode("utf-16-le"))
    out = tmp_path / "i"
    result = CliRunner().invoke(app, ["index", str(docs), "--out", str(out), "--json"], env=env)
    assert result.exit_code == 0, result.output
    query = CliRunner().invoke(app, ["inspect", str(out), "--json"], env=env)
    assert '"passages": 2' in query.output
