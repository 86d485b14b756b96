"""CoarseTagger: the attribute ruler's coarse tags by array masks, exactly as the ruler's."""

from __future__ import annotations

from typing import Any

import pytest

from rag.operators.openie.coarse_tags import compile_ruler
from rag.operators.openie.spacy_extractor import load_model
from tests.rag.openie.test_spacy_extractor import needs_spacy

TEXTS = [
    "There is a castle that was built in 1250, but it has not been restored.",
    "She said that he didn't do it, although everyone had done something.",
    "The album, which they recorded in Paris, was released by Columbia Records.",
    "Here are the results: 8,849 metres high, and well above the clouds.",
    "",
    "Whether or not   it rains, we'll have been there once.",
]


@pytest.fixture(scope="module")
def nlp() -> Any:
    """The memrag[nlp] pipeline with every component, the ruler included."""
    return load_model()


@needs_spacy
def test_the_compiled_ruler_sets_the_same_coarse_tags_as_the_ruler(nlp: Any) -> None:
    """Tags from the compiled patterns equal the ruler's on every token, empty Docs included."""
    tagger = compile_ruler(nlp.get_pipe("attribute_ruler"))
    assert tagger is not None
    expected = [[t.pos_ for t in doc] for doc in nlp.pipe(TEXTS)]
    with nlp.select_pipes(disable=["attribute_ruler"]):
        untagged = list(nlp.pipe(TEXTS))
    assert any(t.pos_ != "" for doc in untagged for t in doc) is False
    tagged = tagger(untagged)
    assert len(tagged) == len(TEXTS)
    assert [[t.pos_ for t in doc] for doc in tagged] == expected
    assert any(t.pos_ == "AUX" for doc in tagged for t in doc)


@needs_spacy
def test_a_pattern_form_it_cannot_read_keeps_the_ruler(nlp: Any) -> None:
    """A pattern on an attribute the tagger does not compile gives None (the ruler stays)."""
    ruler = nlp.get_pipe("attribute_ruler")

    class Ruler:
        """The real ruler's patterns plus one on a token's shape."""

        def __init__(self) -> None:
            """Copy the real ruler's vocab and patterns, and add the unreadable one."""
            self.vocab = ruler.vocab
            shape = {"patterns": [[{"SHAPE": "dd"}]], "attrs": {"POS": "NUM"}}
            self.patterns = [*ruler.patterns, shape]

    assert compile_ruler(Ruler()) is None
