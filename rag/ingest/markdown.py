"""Markdown read as the text a reader of the page sees: link text kept, URLs and markup dropped.

markdown-it-py parses (CommonMark plus tables and strikethrough); this module only walks its
tokens. Entity extraction and BM25 then see "Hypercorn" where the file says
`[Hypercorn](https://…)`, and the first heading names the document.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import yaml
from bs4 import BeautifulSoup
from markdown_it import MarkdownIt
from markdown_it.token import Token

_PARSER = MarkdownIt("commonmark").enable(["table", "strikethrough"])
_FRONT_MATTER = "---"
_LIST_EDGES = {"bullet_list_open", "bullet_list_close", "ordered_list_open", "ordered_list_close"}


@dataclass
class MarkdownText:
    """A Markdown document's visible text and its title (front matter's, else first heading)."""

    text: str
    title: str | None = None


@dataclass
class _Blocks:
    """Text blocks in reading order, each with the separator that goes before it."""

    parts: list[str] = field(default_factory=list)
    group_starts: bool = False

    def add(self, text: str, tight: bool = False) -> None:
        """Append a block; tight ones (list items, table rows) follow on the next line."""
        text = text.strip("\n")
        if not text.strip():
            return
        if self.parts:
            self.parts.append("\n" if tight and not self.group_starts else "\n\n")
        self.parts.append(text)
        self.group_starts = False

    def text(self) -> str:
        """The blocks joined."""
        return "".join(self.parts)


def _inline_text(children: Sequence[Token]) -> str:
    """The visible text of an inline run: link and image text kept, URLs and HTML tags not."""
    out: list[str] = []
    in_autolink = False
    for child in children:
        if child.type == "link_open":
            # An autolink's text is its URL, which says nothing a reader or BM25 can use.
            in_autolink = child.markup == "autolink"
        elif child.type == "link_close":
            in_autolink = False
        elif child.type in ("text", "code_inline") and not in_autolink:
            out.append(child.content)
        elif child.type == "image":
            out.append(child.content)  # the alt text
        elif child.type in ("softbreak", "hardbreak"):
            # Kept as line breaks, as in the file: the splitter and offsets see the same lines.
            out.append("\n")
    return "".join(out)


def _html_text(html: str) -> str:
    """The text inside a raw HTML block (comments and tags dropped)."""
    soup = BeautifulSoup(html, "html.parser")
    lines = (" ".join(line.split()) for line in soup.get_text().splitlines())
    return "\n".join(line for line in lines if line)


def _split_front_matter(source: str) -> tuple[str, str | None]:
    """The body without a leading YAML front matter block, and that block's title if any."""
    lines = source.splitlines(keepends=True)
    if not lines or lines[0].rstrip() != _FRONT_MATTER:
        return source, None
    end = next((n for n, line in enumerate(lines[1:], 1) if line.rstrip() == _FRONT_MATTER), 0)
    if not end:
        return source, None
    try:
        meta = yaml.safe_load("".join(lines[1:end]))
    except yaml.YAMLError:
        return source, None  # a thematic break and some text, not front matter
    if not isinstance(meta, dict):
        return source, None
    title = meta.get("title")
    return "".join(lines[end + 1 :]), title.strip() if isinstance(title, str) else None


def markdown_text(source: str) -> MarkdownText:
    """Render Markdown as plain text and find its title."""
    body, title = _split_front_matter(source)
    blocks = _Blocks()
    row: list[str] = []
    first_row = True
    first_heading: str | None = None
    tokens = _PARSER.parse(body)
    for n, token in enumerate(tokens):
        parent = tokens[n - 1] if n else None
        if token.type == "inline":
            text = _inline_text(token.children or [])
            if parent is not None and parent.type in ("th_open", "td_open"):
                row.append(" ".join(text.split()))
            elif parent is not None and parent.type == "heading_open":
                first_heading = first_heading or " ".join(text.split()) or None
                blocks.add(text)
            else:
                # A tight list's paragraphs are hidden: each item is one line.
                blocks.add(text, tight=parent is not None and parent.hidden)
        elif token.type in ("fence", "code_block"):
            blocks.add(token.content)
        elif token.type == "html_block":
            blocks.add(_html_text(token.content))
        elif token.type in _LIST_EDGES:
            blocks.group_starts = True  # a list is set off from the text around it
        elif token.type == "table_open":
            first_row = True
        elif token.type == "tr_open":
            row = []
        elif token.type == "tr_close":
            # A table reads as one block, a row per line, its cells between bars.
            blocks.add(" | ".join(row), tight=not first_row)
            first_row = False
    return MarkdownText(text=blocks.text(), title=title or first_heading)
