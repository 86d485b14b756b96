"""Read one source file into Documents: llama-index readers for text, HTML and PDF; JSON records."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import tenacity
from bs4 import BeautifulSoup
from bs4.builder import HTMLTreeBuilder
from llama_index.core import Document as LlamaDocument
from llama_index.core import SimpleDirectoryReader
from llama_index.core.readers.base import BaseReader

from rag.errors import InputError
from rag.ingest.decoding import decode_text
from rag.ingest.markdown import markdown_text
from rag.ingest.records import read_json, read_jsonl
from rag.ingest.sources import (
    HTML_SUFFIXES,
    MARKDOWN_SUFFIXES,
    PDF_SUFFIXES,
    TEXT_SUFFIXES,
    SourceFile,
)
from rag.types import Document

logger = logging.getLogger(__name__)

_INVISIBLE_TAGS = ["head", "script", "style", "noscript", "template"]
# bs4's own list of block elements, plus the line and table-cell breaks it leaves out.
_BLOCK_TAGS = sorted(HTMLTreeBuilder.DEFAULT_BLOCK_ELEMENTS | {"br", "caption", "td", "th", "tr"})
_TITLE_KEY = "title"


class PlainTextReader(BaseReader):
    """A llama-index reader for a text file in any common encoding, taken verbatim."""

    def load_data(
        self, file: Path, extra_info: dict[str, Any] | None = None, **_: Any
    ) -> list[LlamaDocument]:
        """Decode the whole file (BOM, UTF-8, or a detected encoding); binary is an error."""
        # Not FlatReader: it opens the file in binary mode despite its encoding argument, so a
        # bad byte surfaces as a pydantic error, and it adds filename/extension metadata again.
        text = decode_text(Path(file).read_bytes(), file)
        return [LlamaDocument(text=text, metadata=dict(extra_info or {}))]


class MarkdownTextReader(BaseReader):
    """A llama-index reader for Markdown as the text it shows, its title kept in metadata."""

    def load_data(
        self, file: Path, extra_info: dict[str, Any] | None = None, **_: Any
    ) -> list[LlamaDocument]:
        """Decode the file and render it as text: link text kept, URLs and markup dropped."""
        # Not llama-index's MarkdownReader: it keeps link URLs in the text and splits by header.
        read = markdown_text(decode_text(Path(file).read_bytes(), file))
        metadata = dict(extra_info or {})
        if read.title:
            metadata[_TITLE_KEY] = read.title
        return [LlamaDocument(text=read.text, metadata=metadata)]


class HTMLTextReader(BaseReader):
    """A llama-index reader for the visible text of an HTML page, its <title> kept in metadata."""

    def load_data(
        self, file: Path, extra_info: dict[str, Any] | None = None, **_: Any
    ) -> list[LlamaDocument]:
        """Parse the page with BeautifulSoup, dropping the head, scripts and styles."""
        soup = BeautifulSoup(Path(file).read_bytes(), "html.parser")
        title = " ".join(soup.title.get_text().split()) if soup.title else ""
        for tag in soup.find_all(_INVISIBLE_TAGS):
            tag.decompose()
        # Without a break at block boundaries "<p>a</p><p>b</p>" would read as "ab".
        for tag in soup.find_all(_BLOCK_TAGS):
            tag.insert_before("\n")
            tag.insert_after("\n")
        # Whitespace in HTML is layout, not content: collapse it within lines, drop blank lines.
        lines = (" ".join(line.split()) for line in soup.get_text().splitlines())
        metadata = dict(extra_info or {})
        if title:
            metadata[_TITLE_KEY] = title
        return [LlamaDocument(text="\n".join(line for line in lines if line), metadata=metadata)]


def _file_metadata(path: str) -> dict[str, Any]:
    """Metadata that depends only on the path, so re-reading a file gives identical passages."""
    return {"file_name": Path(path).name, "file_path": path}


@contextmanager
def _root_logger_untouched() -> Iterator[None]:
    """Keep an import from configuring the root logger: only the CLI may install handlers."""
    # llama_index.readers.file imports its slides reader, which calls logging.basicConfig at
    # import time; basicConfig does nothing while the root logger has a handler.
    root = logging.getLogger()
    guard = logging.NullHandler()
    root.addHandler(guard)
    try:
        yield
    finally:
        root.removeHandler(guard)


def _extractors() -> dict[str, BaseReader]:
    """The llama-index reader for each non-JSON extension."""
    with _root_logger_untouched():
        from llama_index.readers.file import PDFReader

    # Character offsets of Markdown and HTML passages point into the text as read, not the file.
    plain, html = PlainTextReader(), HTMLTextReader()
    readers: dict[str, BaseReader] = dict.fromkeys(TEXT_SUFFIXES, plain)
    readers.update(dict.fromkeys(MARKDOWN_SUFFIXES, MarkdownTextReader()))
    readers.update(dict.fromkeys(HTML_SUFFIXES, html))
    readers.update(dict.fromkeys(PDF_SUFFIXES, PDFReader()))
    return readers


def _root_cause(exc: BaseException) -> BaseException:
    """Unwrap llama-index's 'Error loading file' and tenacity's RetryError to the real error."""
    while True:
        if isinstance(exc, tenacity.RetryError) and exc.last_attempt.failed:
            inner = exc.last_attempt.exception()
        else:
            inner = exc.__cause__
        if inner is None:
            return exc
        exc = inner


def _describe(exc: BaseException) -> str:
    """A one-line description of a read failure."""
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8 text (invalid byte at offset {exc.start}); binary file?"
    message = " ".join(str(exc).split()) or "no details"
    return f"cannot read ({type(exc).__name__}: {message})"


def _load(src: SourceFile) -> list[LlamaDocument]:
    """Run SimpleDirectoryReader on one file, turning any reader failure into an InputError."""
    extractors = _extractors()
    try:
        reader = SimpleDirectoryReader(
            input_files=[src.path],
            file_extractor=extractors,
            file_metadata=_file_metadata,
            raise_on_error=True,
        )
        return reader.load_data()
    except ImportError:
        raise
    except Exception as exc:  # llama-index wraps every reader failure in a bare Exception
        root = _root_cause(exc)
        if isinstance(root, InputError):  # already names the file and the problem
            raise root from exc
        raise InputError(f"{src.path}: {_describe(root)}") from exc


def file_title(path: Path, root: Path | None = None) -> str:
    """A file's path below `root` as a passage title: no suffix, underscores as spaces.

    Without a root (a file named on its own), or outside it, the file's name alone.
    """
    parts = [path.stem]
    if root is not None and path.is_relative_to(root):
        # docs/deployment/index.md and docs/tutorial/index.md must not both be "index".
        parts = [*path.relative_to(root).parent.parts, path.stem]
    words = (" ".join(part.replace("_", " ").split()) for part in parts)
    return "/".join(w for w in words if w) or path.name


def read_source(src: SourceFile) -> list[Document]:
    """Read one file: one Document per file, per PDF page, or per JSON record."""
    path = Path(src.path)
    if src.suffix == ".json":
        return read_json(path)
    if src.suffix == ".jsonl":
        return read_jsonl(path)
    is_pdf = src.suffix in PDF_SUFFIXES
    docs: list[Document] = []
    for page, loaded in enumerate(_load(src), start=1):
        text = loaded.text
        # pypdf may emit NULs for unmapped glyphs; in a text or HTML file they mean binary data.
        if not is_pdf and "\x00" in text:
            raise InputError(f"{src.path}: binary content (NUL bytes), not text")
        if not text.strip():
            continue
        metadata = dict(loaded.metadata)
        # A file without a title of its own is named by its file: "which release added X" needs
        # the release notes' file name in the passage, and so do the reader's title words.
        root = Path(src.root) if src.root else None
        title = metadata.pop(_TITLE_KEY, None) or file_title(path, root)
        if is_pdf:
            metadata["page"] = page
        docs.append(Document(text=text, source=src.path, title=title, metadata=metadata))
    if not docs:
        problem = "no extractable text (scanned PDF?)" if is_pdf else "empty document (no text)"
        raise InputError(f"{src.path}: {problem}")
    logger.debug("%s: read %d documents", src.path, len(docs))
    return docs
