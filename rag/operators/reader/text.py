"""Text helpers shared by the readers: a regex sentence splitter, word tokens and content words."""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from typing import NamedTuple

import Stemmer


def word_set(text: str) -> frozenset[str]:
    """Turn a whitespace-separated word list into a frozen set."""
    return frozenset(text.split())


STOPWORDS = word_set(
    """
    a an the and or but nor so yet if then than that this these those there here of in on at to
    for from by with without within into onto upon over under about above below after before
    between among through during since until till against toward towards across along around
    near off out up down as is are was were be been being am do does did done doing has have
    had having will would shall should can could may might must it its it's he him his she her
    hers they them their theirs we us our ours you your yours i me my mine who whom whose what
    which when where why how whoever whatever also not no only very too just more most much
    many some any each every all both either neither other another such same own one's s
    """
)

# Abbreviations after which a period does not end a sentence.
_ABBREVIATIONS = word_set(
    """
    mr mrs ms dr prof st mt ft jr sr sen gen col lt capt gov rev no vs etc inc ltd co corp bros
    jan feb mar apr jun jul aug sep sept oct nov dec est approx ca fig vol ed eds op al
    """
)

_BOUNDARY = re.compile(r"[.!?]+[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9À-Ý])")
_LAST_WORD = re.compile(r"(\S+)$")

_TOKEN = re.compile(
    r"(?:[A-Z]\.){2,}"  # acronyms such as U.S. keep their dots
    r"|[A-Z]\.(?=\s)"  # a lone initial such as the G. of G. Stanley Hall
    r"|(?:Mrs|Mr|Ms|Dr|St|Mt|Jr|Sr|Prof|Gen|Col|Lt|Capt|Gov|Rev|Sen)\.(?=\s)"
    r"|\$?\d+(?:[.,]\d+)*%?"
    r"|\w+(?:[-'’]\w+)*"
)


# PyStemmer's stemmers are not thread-safe: one per thread.
_STEMMERS = threading.local()
_HEADING = re.compile(r"^#{1,6}\s")
_END_PUNCTUATION = frozenset(".!?:;,)\"'”’")
#: A line this short without final punctuation, alone on its line, is a title.
_TITLE_WORDS = 8


class Token(NamedTuple):
    """A word of a text with its character offsets."""

    text: str
    start: int
    end: int


def text_blocks(text: str) -> list[str]:
    """The paragraphs of a text, without its headings: blank lines and headings end a block.

    A heading is a Markdown `#` line or a short line without final punctuation standing on its
    own line (an HTML or plain-text title); it names a topic rather than stating anything, so
    it is neither an answer's sentence nor part of one.
    """
    blocks: list[str] = []
    current: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        heading = _HEADING.match(stripped)
        title_like = (
            stripped
            and len(stripped.split()) <= _TITLE_WORDS
            and stripped[-1] not in _END_PUNCTUATION
        )
        if not stripped or heading or title_like:
            if current:
                blocks.append("\n".join(current).strip())
                current = []
            continue
        current.append(line.rstrip())  # joined as found, so quotes stay verbatim
    if current:
        blocks.append("\n".join(current).strip())
    return [b for b in blocks if b]


_MARKUP = [
    (re.compile(r"!?\[([^\]\n]*)\]\([^)\s]*\)"), r"\1"),  # [text](url) and ![alt](src)
    (re.compile(r"<[A-Za-z/][^<>\n]*>"), ""),  # stray HTML tags in Markdown
    (re.compile(r"(\*\*|__|~~)(?=\S)(.+?)(?<=\S)\1"), r"\2"),  # **bold**, __bold__, ~~gone~~
    (re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])"), r"\1"),  # *emphasis*
    (re.compile(r"(?<!\w)_(?=\S)([^_\n]+?)(?<=\S)_(?!\w)"), r"\1"),  # _emphasis_, not snake_case
    (re.compile(r"`+([^`\n]+?)`+"), r"\1"),  # `code`
    (re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)]|>+)\s+", re.MULTILINE), ""),  # bullets, quotes
]


def plain_text(text: str) -> str:
    """Text without Markdown or HTML markup and with single spaces: what answers and quotes show."""
    for pattern, replacement in _MARKUP:
        text = pattern.sub(replacement, text)
    return " ".join(text.split())


def split_sentences(text: str) -> list[str]:
    """Split text into sentences, never across a heading or a blank line; initials and common
    abbreviations stay whole."""
    if "\n" in text:
        return [s for block in text_blocks(text) for s in _split_block(block)]
    return _split_block(text)


def _split_block(text: str) -> list[str]:
    """Split one block of text into sentences with the boundary regex."""
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        before = text[start : match.start() + 1]
        last = _LAST_WORD.search(before)
        word = last.group(1).rstrip(".").lower() if last else ""
        # "G. Stanley Hall" and "Dr. Smith" must not be cut after the period.
        if match.group(0).startswith(".") and (
            len(word) == 1 or "." in word or word in _ABBREVIATIONS
        ):
            continue
        sentence = text[start : match.end()].strip()
        if sentence:
            sentences.append(sentence)
        start = match.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


def tokenize(text: str) -> list[Token]:
    """Return the word, number and initial tokens of text with their offsets."""
    return [Token(m.group(0), m.start(), m.end()) for m in _TOKEN.finditer(text)]


#: Irregular forms a suffix stemmer cannot join to their verb ("died"/"death", "wrote"/"write").
_IRREGULAR = {
    "death": "die", "dead": "die", "birth": "born", "birthplace": "born",
    "wrote": "write", "written": "write", "writer": "write", "author": "write",
    "built": "build", "builder": "build", "founder": "found", "foundation": "found",
    "creator": "creat", "creation": "creat", "inventor": "invent", "invention": "invent",
    "won": "win", "winner": "win", "made": "make", "maker": "make", "began": "begin",
    "begun": "begin", "led": "lead", "leader": "lead", "sang": "sing", "sung": "sing",
    "singer": "sing", "taught": "teach", "teacher": "teach", "held": "hold", "bought": "buy",
    "sold": "sell", "spoke": "speak", "spoken": "speak", "flew": "fly", "flown": "fly",
    "grew": "grow", "grown": "grow", "knew": "know", "known": "know", "fought": "fight",
    "chose": "choos", "chosen": "choos", "designer": "design", "director": "direct",
    "composer": "compos", "composition": "compos", "producer": "produc", "married": "marri",
    "wife": "marri", "husband": "marri", "spouse": "marri",
    # Kinship both ways: "Who was X's father?" is answered by "X was the child of Y".
    "father": "parent", "mother": "parent", "son": "parent", "daughter": "parent",
    "child": "parent", "children": "parent",
}  # fmt: skip


@functools.lru_cache(maxsize=65536)
def normalize_word(word: str) -> str:
    """Lowercase, strip accents and possessives, then stem (Snowball English) so that variants
    of one word match: "died", "dies" and "death" all become "die"."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    w = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("’", "'")
    w = w.removesuffix("'s").rstrip("'.")
    if w in _IRREGULAR:
        return _IRREGULAR[w]
    if not w.isalpha():
        return w  # numbers, hyphenated names and codes stay as written
    stemmer = getattr(_STEMMERS, "english", None)
    if stemmer is None:
        stemmer = _STEMMERS.english = Stemmer.Stemmer("english")
    stem = stemmer.stemWord(w)
    return _IRREGULAR.get(stem, stem)


def is_content_word(word: str) -> bool:
    """Tell whether a token carries meaning (not a stopword, not punctuation-only)."""
    lowered = word.lower().replace("’", "'")
    return lowered not in STOPWORDS and any(ch.isalnum() for ch in lowered)


def content_words(text: str) -> set[str]:
    """Return the normalized content words of text."""
    return {normalize_word(t.text) for t in tokenize(text) if is_content_word(t.text)}


def lexical_overlap(query_words: set[str], text: str) -> float:
    """Share of query_words that occur in text after normalization (0 when query_words is empty)."""
    if not query_words:
        return 0.0
    return len(query_words & content_words(text)) / len(query_words)
