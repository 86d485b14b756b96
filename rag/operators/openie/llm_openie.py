"""OpenIE with an LLM in two stages per passage, as in HippoRAG: entities, then triples."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

from tqdm.auto import tqdm

from rag.errors import LLMError
from rag.llm.base import LLM, ChatMessage
from rag.llm.structured import JsonOutput, limit_lists
from rag.llm.usage import in_this_context
from rag.operators.llm_json import parse_json_object
from rag.operators.openie.base import Extractor
from rag.operators.openie.prompts import (
    NER_OUTPUT,
    TRIPLES_OUTPUT,
    ner_messages,
    triples_messages,
)
from rag.operators.openie.types import Extraction, Triple, clean_entities, clean_triples
from rag.types import Passage

logger = logging.getLogger(__name__)

NER_STAGE = "openie.ner"
TRIPLES_STAGE = "openie.triples"
_SNIPPET = 80


class LLMOpenIE(Extractor):
    """Asks an LLM for a passage's named entities, then for triples that involve them.

    Replies are parsed tolerantly (code fences, prose around the object, truncated output
    repaired). A stage whose reply holds no usable JSON gives nothing for that stage and a
    logged reason, and marks the passage's extraction failed (`Extraction.failure`), so that a
    cache in front keeps none of it; malformed triples are dropped with a logged count.
    Nothing is invented. An LLMError (the backend failed after its retries) propagates, and
    so does one raised when every passage of a call failed with nothing found: that is a
    broken backend, not a corpus without entities.
    """

    def __init__(self, llm: LLM, *, max_workers: int = 4) -> None:
        """Keep the client; passages run on max_workers threads (the LLM caps concurrency)."""
        if max_workers < 1:
            raise ValueError(f"max_workers must be at least 1, got {max_workers}")
        self.llm = llm
        self.max_workers = max_workers
        self.name = f"llm:{llm.model}"

    @property
    def cache_key(self) -> str:
        """Name plus a hash of prompts, decoding parameters and endpoint: a change means new
        entries."""
        probe = ner_messages("x") + triples_messages("x", ["y"])
        endpoint = getattr(self.llm, "endpoint", None)
        material = json.dumps(
            [[m.role, m.content] for m in probe]
            + [self.llm.params, NER_OUTPUT.key, TRIPLES_OUTPUT.key, endpoint],
            sort_keys=True,
            default=str,
        )
        return f"{self.name}|{hashlib.sha256(material.encode()).hexdigest()[:12]}"

    def extract(
        self, passages: Sequence[Passage], *, show_progress: bool = False
    ) -> list[Extraction]:
        """Extract all passages concurrently; results keep the input order."""
        if not passages:
            return []
        workers = min(self.max_workers, len(passages))
        with (
            ThreadPoolExecutor(max_workers=workers, thread_name_prefix="memrag-openie") as pool,
            tqdm(
                total=len(passages), desc="openie", unit="passage", disable=not show_progress
            ) as bar,
        ):
            futures = [pool.submit(in_this_context(self.extract_one), p) for p in passages]
            try:
                for future in as_completed(futures):
                    future.result()
                    bar.update(1)
            except BaseException:
                # Fail fast: passages not yet started would only spend tokens on a lost batch.
                for future in futures:
                    future.cancel()
                raise
            results = [future.result() for future in futures]
        return self._checked(results)

    def _checked(self, results: list[Extraction]) -> list[Extraction]:
        """The results, unless every one failed and found nothing: a broken backend (LLMError).

        One passage whose reply was unusable is the model's slip; every passage of a call
        coming back empty from unusable replies is a server that does not answer.
        """
        failed = [r for r in results if r.failure]
        if failed and all(r.failure and not (r.entities or r.triples) for r in results):
            where = getattr(self.llm, "where", self.name)
            raise LLMError(
                f"OpenIE: no usable reply for any of {len(results)} passage(s) from {where} "
                f"(first: {failed[0].failure}); nothing was stored"
            )
        if failed:
            logger.warning(
                "OpenIE: %d of %d passage(s) got an unusable reply; their extractions are used "
                "now but not cached",
                len(failed),
                len(results),
            )
        return results

    def extract_one(self, passage: Passage) -> Extraction:
        """Both stages for one passage, which the LLM sees as title, newline, text."""
        text = passage.embedding_text
        failures: list[str] = []
        where = f"passage {passage.id}"
        entities = self.named_entities(text, where=where, failures=failures)
        triples = self.triples(text, entities, where=where, failures=failures)
        return Extraction(
            passage_id=passage.id,
            entities=entities,
            triples=triples,
            extractor=self.name,
            failure="; ".join(failures) or None,
        )

    def query_entities(self, text: str) -> list[str]:
        """The entity stage run on a question."""
        return self.named_entities(text, where="question")

    def named_entities(
        self, text: str, *, where: str, failures: list[str] | None = None
    ) -> list[str]:
        """Stage 1: the named entities the LLM finds in text, kept only if the text has them.

        Small models copy entities from the prompt's worked example; an entity the text does
        not contain (ignoring case and spacing) is dropped with a logged count. An unusable
        reply adds its reason to `failures`.
        """
        raw = self._ask(
            ner_messages(text), NER_OUTPUT, NER_STAGE, "named_entities", where, failures
        )
        entities = clean_entities(raw)
        haystack = _folded(text)
        grounded = [e for e in entities if _folded(e) in haystack]
        if len(grounded) < len(entities):
            logger.warning(
                "%s: dropped %d entit(ies) not in the text: %s",
                where,
                len(entities) - len(grounded),
                [e for e in entities if e not in grounded][:5],
            )
        return grounded

    def triples(
        self, text: str, entities: list[str], *, where: str, failures: list[str] | None = None
    ) -> list[Triple]:
        """Stage 2: triples about the passage, conditioned on its entities."""
        messages = triples_messages(text, entities)
        raw = self._ask(messages, TRIPLES_OUTPUT, TRIPLES_STAGE, "triples", where, failures)
        kept, dropped = clean_triples(raw, where=where)
        if dropped:
            logger.warning("%s: dropped %d malformed triple(s) of %s", where, dropped, self.name)
        return kept

    def _ask(
        self,
        messages: list[ChatMessage],
        output: JsonOutput,
        stage: str,
        key: str,
        where: str,
        failures: list[str] | None = None,
    ) -> Any:
        """The list under `key` in the LLM's JSON reply, or None (logged, and the reason added
        to `failures`) when there is none.

        Repeated items and items past the schema's limit are dropped with a logged count.
        """
        reply = self.llm.chat_json(messages, output, stage=stage).text
        obj, mode = parse_json_object(reply)
        if obj is None:
            reason = "empty reply" if not reply.strip() else "no JSON object in reply"
        elif not isinstance(obj.get(key), list):
            reason = f"reply has no {key!r} list"
        else:
            if mode == "repaired":
                logger.info("%s %s: repaired a truncated JSON reply", stage, where)
            obj, dropped = limit_lists(obj, output.schema)
            if dropped:
                logger.info("%s %s: dropped %d repeated or surplus item(s)", stage, where, dropped)
            return obj[key]
        logger.warning("%s %s: %s, nothing kept: %r", stage, where, reason, reply[:_SNIPPET])
        if failures is not None:
            failures.append(f"{stage}: {reason}")
        return None


def _folded(text: str) -> str:
    """Lower case with runs of whitespace as one space, for containment tests."""
    return " ".join(text.lower().split())
