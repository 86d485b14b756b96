"""SpeakerStep: raise the turns of a speaker the question names ("What did Caroline paint?").

Dialogue turns carry their speaker in metadata (`speaker`, comma-joined for a window of
several). The speakers of an index are the ones its passages name; a question names one when
the speaker's first name is one of its words. Each turn of a named speaker has its score
multiplied by 1 + `boost`; the others keep theirs. Over passages without speakers, or a
question naming none, the list is passed on unchanged.
"""

from __future__ import annotations

import re
import weakref

from pydantic import Field

from pipelines.state import QueryState
from pipelines.steps.rescore import RescoringStep
from rag.store import PassageStore
from rag.trace_outputs import FuseOutput

#: The passage metadata key holding who speaks in a turn.
SPEAKER_KEY = "speaker"

_SPEAKERS: weakref.WeakKeyDictionary[PassageStore, dict[str, set[str]]] = (
    weakref.WeakKeyDictionary()
)
_WORD = re.compile(r"[A-Za-z][\w'-]*")


def _speakers(store: PassageStore) -> dict[str, set[str]]:
    """Each passage's speakers by id (built on first use per opened store)."""
    found = _SPEAKERS.get(store)
    if found is None:
        found = {}
        for p in store.iter_passages():
            value = p.metadata.get(SPEAKER_KEY)
            if isinstance(value, str) and value.strip():
                found[p.id] = {s.strip() for s in value.split(",") if s.strip()}
        _SPEAKERS[store] = found
    return found


def named_speakers(question: str, speakers: set[str]) -> set[str]:
    """The speakers whose first name is a word of the question (case-insensitive)."""
    words = {w.lower().removesuffix("'s") for w in _WORD.findall(question)}
    return {s for s in speakers if s.split()[0].lower() in words}


class SpeakerStep(RescoringStep):
    """Multiply the scores of turns by a speaker the question names by 1 + boost."""

    type_name = "speaker"

    boost: float = Field(0.05, ge=0.0, description="Relative raise of a named speaker's turns.")
    output: str = Field("speaker", description="Name of the rescored hit list.")

    def _run(self, state: QueryState) -> QueryState:
        """Raise the named speakers' turns and re-sort; the current ranking becomes this list."""
        hits = state.results[self.input]
        by_passage = _speakers(state.resources.store)
        everyone = set().union(*by_passage.values()) if by_passage else set()
        named = named_speakers(state.query, everyone)
        factor = 1.0 + self.boost
        rescored = [
            h.model_copy(update={"score": h.score * factor})
            if named & by_passage.get(h.passage_id, set())
            else h
            for h in hits
        ]
        rescored.sort(key=lambda h: -h.score)
        state.results[self.output] = rescored
        state.hits = rescored
        state.record(
            inputs={"list": self.input, "boost": self.boost, "named": sorted(named)},
            outputs=FuseOutput(hits=[(h.passage_id, round(h.score, 5)) for h in rescored[:50]]),
        )
        return state
