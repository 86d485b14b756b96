"""Tests for rag.ingest: discovery, reading every supported format, chunking with offsets."""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from rag.errors import InputError
from rag.ingest import chunk_documents, discover_sources, read_source
from rag.ingest.sources import SourceFile
from rag.settings import ChunkSettings
from rag.types import Document, passage_id

SHARED_DATA = Path(os.environ.get("RAG_BENCH_DATA", Path(__file__).parents[3] / "shared" / "data"))
MUSIQUE_CORPUS = SHARED_DATA / "musique-100" / "corpus.json"


def _pdf_bytes(pages: list[str]) -> bytes:
    """A minimal valid PDF with one line of Helvetica text per page (offsets computed)."""
    count = len(pages)
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(count))
    bodies = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for i, text in enumerate(pages):
        stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
        bodies.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>".encode()
        )
        bodies.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(bodies, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(bodies) + 1,
        xref,
    )
    return bytes(out)


def _write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def _read(path: Path) -> list[Document]:
    (source,) = discover_sources([path])
    return read_source(source)


# --- discovery ---------------------------------------------------------------------------


def test_discovery_walks_folders_skips_hidden_and_unsupported(tmp_path: Path) -> None:
    _write(tmp_path / "b.txt", "bee")
    _write(tmp_path / "a" / "deep" / "c.md", "sea")
    _write(tmp_path / "a" / "notes.docx", "unsupported, skipped in folders")
    _write(tmp_path / ".hidden" / "d.txt", "hidden folder")
    _write(tmp_path / "a" / ".e.txt", "hidden file")
    _write(tmp_path / "f.JSONL", '{"text": "x"}')

    sources = discover_sources([tmp_path, tmp_path / "b.txt"])

    names = [Path(s.path).relative_to(tmp_path.resolve()).as_posix() for s in sources]
    assert names == ["a/deep/c.md", "b.txt", "f.JSONL"]
    assert sources[1].sha256 == hashlib.sha256(b"bee").hexdigest()
    assert sources[1].size == 3
    assert sources[0].suffix == ".md"
    assert discover_sources([str(tmp_path)]) == sources


def test_discovery_of_a_single_string_path(tmp_path: Path) -> None:
    path = _write(tmp_path / "one.txt", "one")
    assert [s.path for s in discover_sources(str(path))] == [str(path.resolve())]


def test_missing_path_is_an_input_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(InputError, match=r"nope: no such file or folder"):
        discover_sources([missing])


def test_folder_without_supported_files_names_folder_and_extensions(tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    _write(folder / "image.png", b"\x89PNG")
    with pytest.raises(InputError, match=r"empty: no supported files.*\.jsonl.*\.txt"):
        discover_sources([folder])


def test_explicit_unsupported_file_is_an_input_error(tmp_path: Path) -> None:
    path = _write(tmp_path / "report.docx", "x")
    with pytest.raises(InputError, match=r"report\.docx: unsupported file type '\.docx'"):
        discover_sources([path])


# --- reading plain files ---------------------------------------------------------------


def test_txt_reads_whole_file_titled_by_its_name(tmp_path: Path) -> None:
    """A text file has no title of its own: its name (underscores as spaces) becomes one."""
    path = _write(tmp_path / "release_notes_2.40.0.txt", "Line one.\nLine two.\n")
    (doc,) = _read(path)
    assert doc.text == "Line one.\nLine two.\n"
    assert doc.title == "release notes 2.40.0"
    assert doc.source == str(path.resolve())
    assert doc.metadata["file_name"] == "release_notes_2.40.0.txt"


def test_markdown_is_read_as_its_text_titled_by_its_first_heading(tmp_path: Path) -> None:
    """Link text stays, URLs and markup go; the first heading is the title (issue 21, 9 and 8)."""
    text = (
        "Intro before any heading.\n\n# Deployment\n\nServe it with [Hypercorn](https://"
        "hypercorn.dev) or *Uvicorn* (<https://uvicorn.org>), see `fastapi run`.\n"
        "![diagram of workers](img/workers.png)\n\n## Workers\n\n- one [two][ref]\n- three\n\n"
        "| server | kind |\n|---|---|\n| [Daphne](https://d.io) | ASGI |\n\n"
        "```bash\nhypercorn main:app\n```\n\n<p>raw <b>HTML</b></p>\n\n[ref]: https://ref.io\n"
    )
    (doc,) = _read(_write(tmp_path / "deployment.md", text))
    assert doc.title == "Deployment"
    assert doc.text == (
        "Intro before any heading.\n\nDeployment\n\nServe it with Hypercorn or Uvicorn (), "
        "see fastapi run.\ndiagram of workers\n\nWorkers\n\none two\nthree\n\n"
        "server | kind\nDaphne | ASGI\n\nhypercorn main:app\n\nraw HTML"
    )


def test_markdown_links_reach_the_offline_extractor_and_bm25(tmp_path: Path) -> None:
    """'Hypercorn' inside [Hypercorn](https://…) is an entity and a BM25 term of its passage."""
    from rag.operators.openie.patterns import PatternOpenIE

    path = _write(
        tmp_path / "docs" / "server.md",
        "You can run the app with [Hypercorn](https://hypercorn.readthedocs.io/en/latest/) "
        "instead of Uvicorn.\n",
    )
    (passage,) = chunk_documents(_read(path), ChunkSettings())
    assert "https" not in passage.text and "readthedocs" not in passage.text
    assert "Hypercorn" in PatternOpenIE().extract_one(passage).entities
    assert "hypercorn" in passage.text.lower().split()


def test_markdown_front_matter_names_the_page_and_is_not_text(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "p.md", "---\ntitle: Release notes\ntags: [a]\n---\n# 0.110\n\nFixes.\n"
    )
    (doc,) = _read(path)
    assert (doc.title, doc.text) == ("Release notes", "0.110\n\nFixes.")


def test_untitled_files_of_a_docs_site_are_titled_by_their_path(tmp_path: Path) -> None:
    """docs/*/index.md without a heading are not all 'index' (issue 21, item 8)."""
    docs = tmp_path / "docs"
    _write(docs / "deployment" / "index.md", "Deploying takes three steps.\n")
    _write(docs / "tutorial" / "first_steps" / "index.md", "Create a file main.py.\n")
    _write(docs / "tutorial" / "index.md", "# Tutorial - User Guide\n\nStep by step.\n")
    _write(docs / "release_notes.txt", "0.110: fixes.\n")
    titles = [d.title for src in discover_sources([docs]) for d in read_source(src)]
    assert titles == [
        "deployment/index",
        "release notes",
        "tutorial/first steps/index",
        "Tutorial - User Guide",
    ]
    # Named on its own, a file has no folder to be placed in: its name alone.
    (doc,) = _read(docs / "deployment" / "index.md")
    assert doc.title == "index"


def test_html_keeps_title_and_visible_text_only(tmp_path: Path) -> None:
    html = (
        "<html><head><title> The  Page </title><style>p {color: red}</style>"
        "<script>var hidden = 1;</script></head><body><h1>Header</h1>"
        "<p>First <b>bold</b> para.</p><p>Second para.</p><!-- a comment -->"
        "<script>alert('no')</script></body></html>"
    )
    (doc,) = _read(_write(tmp_path / "page.html", html))
    assert doc.title == "The Page"
    assert doc.text == "Header\nFirst bold para.\nSecond para."
    assert "title" not in doc.metadata


def test_pdf_gives_one_document_per_page(tmp_path: Path) -> None:
    path = _write(tmp_path / "paper.pdf", _pdf_bytes(["Hello from page one", "Page two text"]))
    docs = _read(path)
    assert [d.text.strip() for d in docs] == ["Hello from page one", "Page two text"]
    assert [d.metadata["page"] for d in docs] == [1, 2]
    assert docs[1].metadata["page_label"] == "2"
    assert all(d.source == str(path.resolve()) and d.title == "paper" for d in docs)


def test_pdf_without_text_and_corrupt_pdf_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"blank\.pdf: no extractable text"):
        _read(_write(tmp_path / "blank.pdf", _pdf_bytes([""])))
    with pytest.raises(InputError, match=r"broken\.pdf: cannot read"):
        _read(_write(tmp_path / "broken.pdf", b"%PDF-1.4 this is not a pdf"))


def test_binary_files_are_input_errors_and_latin_1_is_text(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nul\.txt: binary content"):
        _read(_write(tmp_path / "nul.txt", b"abc\x00\x01\x02def"))
    assert _read(_write(tmp_path / "latin.txt", "café".encode("latin-1")))[0].text == "café"


def test_empty_text_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"blank\.txt: empty document"):
        _read(_write(tmp_path / "blank.txt", "  \n\t\n"))


# --- reading JSON records --------------------------------------------------------------


def test_hipporag_corpus_list_gives_one_document_per_record(tmp_path: Path) -> None:
    records = [{"title": "Alpha", "text": "Alpha is a letter."}, {"title": "Beta", "text": "B."}]
    path = _write(tmp_path / "corpus.json", json.dumps(records))
    docs = _read(path)
    assert [(d.title, d.text) for d in docs] == [("Alpha", "Alpha is a letter."), ("Beta", "B.")]
    assert [d.source for d in docs] == [f"{path.resolve()}#0", f"{path.resolve()}#1"]
    assert docs[1].metadata == {"file_name": "corpus.json", "record": 1}


@pytest.mark.parametrize("key", ["data", "documents", "corpus"])
def test_json_object_with_record_list(tmp_path: Path, key: str) -> None:
    payload = {"version": 2, key: [{"id": "p1", "paragraph_text": "Some paragraph."}]}
    (doc,) = _read(_write(tmp_path / "wrapped.json", json.dumps(payload)))
    assert doc.text == "Some paragraph."
    assert doc.title is None
    assert doc.metadata["id"] == "p1"


def test_jsonl_records_use_the_first_text_field(tmp_path: Path) -> None:
    lines = [
        json.dumps({"title": "T", "content": "From content.", "body": "ignored"}),
        "",
        json.dumps({"passage": "From passage."}),
    ]
    path = _write(tmp_path / "recs.jsonl", "\n".join(lines) + "\n")
    docs = _read(path)
    assert [(d.title, d.text) for d in docs] == [("T", "From content."), (None, "From passage.")]
    assert docs[1].source.endswith("recs.jsonl#2")


def test_invalid_json_names_line_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path / "bad.json", '[\n  {"text": "ok"},\n  {"text": }\n]')
    with pytest.raises(InputError, match=r"bad\.json: invalid JSON at line 3, column 12"):
        _read(path)


def test_records_without_text_field_name_the_keys_found(tmp_path: Path) -> None:
    path = _write(tmp_path / "q.json", json.dumps([{"question": "?", "answer": "!"}]))
    with pytest.raises(InputError, match=r"q\.json: .*no text field.*found keys: answer, question"):
        _read(path)


def test_json_of_unexpected_shape_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"shape\.json: expected a list of records.*found keys: x"):
        _read(_write(tmp_path / "shape.json", json.dumps({"x": 1})))


def test_partially_bad_jsonl_skips_bad_lines_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lines = ['{"text": "good one"}', "{not json", '{"title": "no text"}', '{"text": "good two"}']
    path = _write(tmp_path / "mixed.jsonl", "\n".join(lines))
    with caplog.at_level(logging.WARNING, logger="rag.ingest"):
        docs = _read(path)
    assert [d.text for d in docs] == ["good one", "good two"]
    assert [d.source.rsplit("#", 1)[1] for d in docs] == ["0", "3"]
    (record,) = caplog.records
    assert "mixed.jsonl" in record.getMessage()
    assert "skipped 2 of 4 lines that are not usable" in record.getMessage()
    assert "line 2 is not valid JSON" in record.getMessage()


def test_wholly_bad_jsonl_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"all\.jsonl: no usable lines; line 1 is not valid JSON"):
        _read(_write(tmp_path / "all.jsonl", "oops\n{\n"))


# --- chunking ----------------------------------------------------------------------------


def test_long_document_chunks_carry_exact_offsets() -> None:
    sentences = [
        f"Sentence number {i} talks about topic {i % 7} at some length." for i in range(80)
    ]
    text = "Intro line.\n\n" + " ".join(sentences) + "\n\n\nClosing paragraph here."
    doc = Document(text=text, source="mem.txt", title="Doc", metadata={"k": "v"})
    passages = chunk_documents([doc], ChunkSettings(chunk_size=64, chunk_overlap=16))
    assert len(passages) > 5
    for passage in passages:
        assert passage.start is not None and passage.end is not None
        assert text[passage.start : passage.end] == passage.text
        assert passage.title == "Doc" and passage.source == "mem.txt"
        assert passage.metadata == {"k": "v"}
    spans = [(p.start or 0, p.end or 0) for p in passages]
    assert spans == sorted(spans)
    # Overlap: each chunk after the first begins before the previous one ends.
    assert all(nxt[0] < prev[1] for prev, nxt in itertools.pairwise(spans))


def test_short_record_is_one_unchanged_passage() -> None:
    doc = Document(text="  Keep  this   exact, spacing.\n", source="c.json#0", title="T")
    (passage,) = chunk_documents([doc], ChunkSettings())
    assert passage.text == "Keep  this   exact, spacing."
    assert (passage.start, passage.end) == (2, 30)
    assert passage.id == passage_id("Keep  this   exact, spacing.", "T")


def test_identical_passages_are_returned_once_and_ids_are_deterministic() -> None:
    docs = [
        Document(text="Same text.", source="a#0", title="A"),
        Document(text="Same text.", source="a#1", title="A"),
        Document(text="Same text.", source="a#2", title="B"),
    ]
    first = chunk_documents(docs, ChunkSettings())
    assert [p.source for p in first] == ["a#0", "a#2"]
    assert [p.id for p in first] == [p.id for p in chunk_documents(docs, ChunkSettings())]


def test_overlap_not_smaller_than_chunk_size_is_refused() -> None:
    with pytest.raises(ValidationError, match="chunk_overlap"):
        ChunkSettings(chunk_size=32, chunk_overlap=32)


def test_read_and_chunk_files_end_to_end(tmp_path: Path) -> None:
    _write(tmp_path / "a.txt", "Alpha text.")
    _write(tmp_path / "b.json", json.dumps([{"title": "B", "text": "Beta text."}]))
    docs = [d for s in discover_sources([tmp_path]) for d in read_source(s)]
    passages = chunk_documents(docs, ChunkSettings())
    assert [(p.title, p.text) for p in passages] == [("a", "Alpha text."), ("B", "Beta text.")]


@pytest.mark.skipif(not MUSIQUE_CORPUS.is_file(), reason=f"{MUSIQUE_CORPUS} not present")
def test_musique_corpus_gives_one_passage_per_record() -> None:
    records = json.loads(MUSIQUE_CORPUS.read_text(encoding="utf-8"))
    source = SourceFile(path=str(MUSIQUE_CORPUS), sha256="", size=0)
    passages = chunk_documents(read_source(source), ChunkSettings())
    assert len({p.id for p in passages}) == len(passages) == len(records) == 1890
    assert {(p.title, p.text) for p in passages} == {(r["title"], r["text"]) for r in records}


def test_file_removed_after_discovery_is_an_input_error(tmp_path: Path) -> None:
    path = _write(tmp_path / "gone.txt", "here for now")
    (source,) = discover_sources([path])
    path.unlink()
    with pytest.raises(InputError, match=r"gone\.txt: cannot read"):
        read_source(source)
