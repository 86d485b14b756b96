"""Which legacy code page a non-UTF-8 file is in, judged by whether its words are plausible.

Single-byte code pages decode any bytes, so the choice is made on the decoded text: in the right
code page each word's accented letters belong to one language's alphabet ('Skłodowska' is Polish),
in a wrong one they mix alphabets or hold symbols ('Sk³odowska', 'Ýstanbul' beside 'Boðaziçi').
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: Candidates in order of preference, which breaks ties: Western first, as the most common.
LATIN_CODE_PAGES = ("cp1252", "cp1250", "iso-8859-2", "cp1254", "cp1257", "iso-8859-15", "latin-1")

#: The letters beyond ASCII each language writes (lower case; upper case matches too).
ALPHABETS: dict[str, str] = {
    "French": "àâæçéèêëîïôœùûüÿ",
    "German": "äöüß",
    "Spanish": "áéíñóúüªº",
    "Portuguese": "áâãàçéêíóôõúªº",
    "Italian": "àèéìíîòóùªº",
    "Dutch": "áéíóúàèëïöü",
    "Danish/Norwegian": "æøåéó",
    "Swedish/Finnish": "åäöé",
    "Icelandic": "áðéíóúýþæö",
    "Catalan": "àçèéíïòóúü",
    "Polish": "ąćęłńóśźż",
    "Czech": "áčďéěíňóřšťúůýž",
    "Slovak": "áäčďéíĺľňóôŕšťúýž",
    "Hungarian": "áéíóöőúüű",
    "Croatian/Slovene": "čćđšž",
    "Romanian": "ăâîșțşţ",
    "Turkish": "çğıİöşüâîû",
    "Estonian": "äöõüšž",
    "Latvian": "āčēģīķļņšūž",
    "Lithuanian": "ąčęėįšųūž",
    "Albanian": "çë",
}
#: Punctuation that may stand inside a word (apostrophes, hyphens); any other symbol there means
#: a letter was decoded as a symbol.
_INTRA_WORD = frozenset("’‘'-‐‑·")
_NON_ASCII_TOKEN = re.compile(rb"\S*[\x80-\xff]\S*")
#: Enough words to judge by; a decision per file, not per line.
_SAMPLE_TOKENS = 5000


@dataclass(frozen=True)
class Verdict:
    """How plausible one decoding is: accented letters in plausible and implausible words."""

    encoding: str
    good: int
    bad: int
    single: int

    @property
    def score(self) -> int:
        """Plausible letters, plus those one language explains alone, minus thrice the rest."""
        return self.good + self.single - 3 * self.bad

    @property
    def plausible(self) -> bool:
        """Whether nearly every accented letter sits in a plausible word."""
        return self.bad <= 0.2 * (self.good + self.bad)


def _fits(letters: set[str], alphabet: str) -> bool:
    """Whether one language writes all these letters (either case)."""
    return all(ch in alphabet or ch.lower() in alphabet for ch in letters)


def _word_letters(token: str) -> set[str] | None:
    """The accented letters of a word, or None when it holds a symbol or mixes case oddly."""
    start, end = 0, len(token)
    while start < end and not token[start].isalpha():
        start += 1
    while end > start and not token[end - 1].isalpha():
        end -= 1
    letters: set[str] = set()
    previous = ""
    for ch in token[start:end]:
        if ord(ch) > 127:
            if not ch.isalpha():
                if ch not in _INTRA_WORD:
                    return None
            elif ch.isupper() and previous.islower():
                return None  # 'GdaÒsk': a capital inside a lower-case word
            else:
                letters.add(ch)
        previous = ch
    return letters


def judge(text: str, encoding: str) -> Verdict:
    """Score a decoded sample: letters in words some language writes, and in one language."""
    good = bad = 0
    counts: dict[str, int] = {}
    for token in text.split():
        if any(unicodedata.category(ch) == "Cc" for ch in token if ord(ch) > 127):
            bad += sum(ord(ch) > 127 for ch in token)  # C1 controls are never text
            continue
        letters = _word_letters(token)
        n = sum(ord(ch) > 127 and ch.isalpha() for ch in token) or (letters is None)
        if letters is None or (letters and not any(_fits(letters, a) for a in ALPHABETS.values())):
            bad += n
            continue
        good += n
        for name, alphabet in ALPHABETS.items():
            if letters and _fits(letters, alphabet):
                counts[name] = counts.get(name, 0) + n
    return Verdict(encoding, good, bad, max(counts.values(), default=0))


def best_latin(data: bytes) -> Verdict | None:
    """The Latin code page whose decoding of `data` reads most plausibly, None if none decodes."""
    sample = b" ".join(_NON_ASCII_TOKEN.findall(data)[:_SAMPLE_TOKENS])
    best: Verdict | None = None
    for encoding in LATIN_CODE_PAGES:
        try:
            text = sample.decode(encoding)
        except UnicodeDecodeError:
            continue
        verdict = judge(text, encoding)
        if best is None or verdict.score > best.score:
            best = verdict
    return best


#: Single-byte code pages of other alphabets, tried when no Latin one reads plausibly.
SCRIPT_CODE_PAGES: dict[str, tuple[str, ...]] = {
    "CYRILLIC": ("cp1251", "koi8-r", "koi8-u", "iso-8859-5", "cp866"),
    "GREEK": ("cp1253", "iso-8859-7"),
}


def _script_word(token: str, script: str) -> bool | None:
    """Whether a word's letters beyond ASCII are of `script` in a plausible case pattern.

    None for a word without such letters. In a wrong code page of the script the letters stay
    in it but their case flips ('нПУЛЧБ' for 'Москва') or they become box-drawing symbols.
    """
    if not any(ord(ch) > 127 for ch in token):
        return None
    inner = token.strip(".,;:!?()«»\"'")
    if any(ord(ch) > 127 and not ch.isalpha() and ch not in _INTRA_WORD for ch in inner):
        return False
    letters = [ch for ch in token if ch.isalpha()]
    if not all(ord(ch) < 128 or unicodedata.name(ch, "").startswith(script) for ch in letters):
        return False
    word = "".join(letters)
    return word.islower() or word.isupper() or (word[:1].isupper() and word[1:].islower())


def best_other_script(data: bytes) -> Verdict | None:
    """The Cyrillic or Greek code page whose words read as words, None if none is plausible."""
    sample = b" ".join(_NON_ASCII_TOKEN.findall(data)[:_SAMPLE_TOKENS])
    best: Verdict | None = None
    for script, encodings in SCRIPT_CODE_PAGES.items():
        for encoding in encodings:
            try:
                text = sample.decode(encoding)
            except UnicodeDecodeError:
                continue
            judged = [_script_word(token, script) for token in text.split()]
            verdict = Verdict(encoding, judged.count(True), judged.count(False), 0)
            if verdict.good and verdict.plausible and (best is None or verdict.score > best.score):
                best = verdict
    return best
