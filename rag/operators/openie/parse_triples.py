"""Triples from a dependency parse: subject, verb phrase and object, read off spaCy's tree.

The rules work on any spaCy `Doc` with a parser and NER (tokens with `dep_`, `pos_`, `head`,
`children`, `ent_iob_`); `rag.operators.openie.spacy_extractor` runs the model and calls
`passage_facts`. Arguments are named entities, else noun chunks, normalized by `clean_name`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from rag.operators.openie.arguments import Arguments
from rag.operators.openie.types import Triple

#: Dependency labels of a verb's subject and of its objects.
SUBJECTS = frozenset({"nsubj", "nsubjpass", "csubj"})
OBJECTS = frozenset({"dobj", "attr", "oprd", "dative", "acomp"})
# Clauses whose missing subject is their head verb's: "X was born in A and died in B".
_INHERITS_SUBJECT = frozenset({"conj", "xcomp", "advcl"})
_RELATIVE = frozenset({"who", "which", "that", "whom"})
_MAX_RELATION_WORDS = 6
_BE = frozenset({"is", "was", "are", "were", "be", "been", "being", "'s"})


class PassageFacts(NamedTuple):
    """What the rules read from one passage: entities, triples, and which names are values."""

    entities: list[str]
    triples: list[Triple]
    literals: list[str]


def passage_facts(doc: Any, title: str) -> PassageFacts:
    """The entities and triples of a parsed passage, its title standing in for pronouns."""
    args = Arguments(doc, title)
    triples: dict[Triple, None] = {}
    for token in doc:
        if token.pos_ in ("VERB", "AUX") and token.dep_ != "aux" and token.dep_ != "auxpass":
            triples.update((t, None) for t in verb_triples(token, args))
        if token.dep_ == "appos":
            triples.update((t, None) for t in apposition_triples(token, args))
        if token.dep_ == "poss":
            triples.update((t, None) for t in possessive_triples(token, args))
    kept = [t for t in triples if t[0] != t[2] and t[0] and t[2] and not args.is_literal(t[0])]
    entities = args.entities()
    covered = {part for t in kept for part in (t[0], t[2])}
    # An entity no triple names would never reach the graph; the title's passage mentions it.
    if title:
        kept += [(title, "mentions", e) for e in entities if e not in covered and e != title]
    objects = dict.fromkeys(t[2] for t in kept)
    literals = [name for name in objects if args.is_literal(name)]
    return PassageFacts(entities, kept, literals)


def verb_triples(verb: Any, args: Arguments) -> list[Triple]:
    """(subject, verb phrase [+ preposition], object) for each subject and object of a verb."""
    tokens = subject_tokens(verb)
    phrase = verb_phrase(verb)
    attribute = title_attribute(verb, tokens, args)
    if attribute:
        # "The current editor is X" in a journal's passage: the journal's editor is X.
        subjects, phrase = [args.title], f"{attribute} {phrase}"
    else:
        # "His father was X" is the possessive rule's (owner, father is, X), not (father, was, X).
        owned = [t for t in tokens if not any(c.dep_ == "poss" for c in t.children)]
        subjects = [s for t in owned if (s := args.name(t)) is not None]
    if not subjects:
        return []
    triples: list[Triple] = []
    for child in verb.children:
        if child.dep_ in OBJECTS:
            for obj in with_conjuncts(child):
                name = args.name(obj)
                if name is not None:
                    triples += [(s, phrase, name) for s in subjects]
                triples += [
                    (s, join_words(phrase, relation_noun(obj), prep.text.lower()), pobj)
                    for prep, pobj in preposition_objects(obj, args)
                    for s in subjects
                ]
        elif child.dep_ in ("prep", "agent"):
            triples += [
                (s, f"{phrase} {prep.text.lower()}", pobj)
                for prep, pobj in preposition_objects(verb, args, only=child)
                for s in subjects
            ]
    return [t for t in triples if len(t[1].split()) <= _MAX_RELATION_WORDS]


def subject_tokens(verb: Any) -> list[Any]:
    """The verb's subjects (with their conjuncts), else those it inherits from its clause."""
    own = [c for c in verb.children if c.dep_ in SUBJECTS]
    if own:
        found = [t for c in own for t in with_conjuncts(c)]
        # "the man who wrote it": the relative pronoun stands for the noun the clause modifies.
        return [verb.head if t.lower_ in _RELATIVE and verb.dep_ == "relcl" else t for t in found]
    if verb.dep_ in _INHERITS_SUBJECT and verb.head is not verb:
        return subject_tokens(verb.head)
    if verb.dep_ == "acl":
        # "a journal published by X": the participle's subject is the noun; when that noun is
        # the attribute of a copula ("Y is a journal published by X"), the copula's subject.
        noun = verb.head
        if noun.dep_ == "attr" and noun.head is not noun:
            return subject_tokens(noun.head) or [noun]
        return [noun]
    return []


def title_attribute(verb: Any, subjects: list[Any], args: Arguments) -> str:
    """The attribute a copula states of the title ("current editor"), else "".

    A lone, definite, common-noun subject with no complement of its own ("the current
    editor", not "the editor of Vogue") names an attribute of what the passage is about.
    """
    if not args.title or verb.lower_ not in _BE or len(subjects) != 1:
        return ""
    noun = subjects[0]
    complements = ("prep", "poss", "relcl", "acl")
    if noun.pos_ != "NOUN" or any(c.dep_ in complements for c in noun.children):
        return ""
    words = args.span_tokens(noun)
    if not words or words[0].lower_ != "the" or any(t.pos_ == "PROPN" for t in words):
        return ""
    return args.bare(noun).lower()


def verb_phrase(verb: Any) -> str:
    """The verb with its passive auxiliary, negation and particle, in text order, lowercased."""
    words = [c for c in verb.children if c.dep_ in ("auxpass", "neg", "prt")] + [verb]
    return " ".join(t.text.lower() for t in sorted(words, key=lambda t: t.i))


def relation_noun(noun: Any) -> str:
    """A noun object's own word for a relation through it ("capital" of "is the capital of")."""
    return str(noun.lower_) if noun.pos_ == "NOUN" else ""


def preposition_objects(head: Any, args: Arguments, only: Any = None) -> list[tuple[Any, str]]:
    """(preposition, object name) pairs of a head's prepositional phrases (or of one of them)."""
    preps = [only] if only is not None else [c for c in head.children if c.dep_ == "prep"]
    pairs = []
    for prep in preps:
        for pobj in (c for c in prep.children if c.dep_ == "pobj"):
            for obj in with_conjuncts(pobj):
                name = args.name(obj)
                if name is not None and not args.contains(head, obj):
                    pairs.append((prep, name))
    return pairs


def apposition_triples(appos: Any, args: Arguments) -> list[Triple]:
    """ "X, the Y of Z": (X, is, Y) and (X, Y of, Z)."""
    subject = args.name(appos.head)
    if subject is None:
        return []
    triples: list[Triple] = []
    described = args.name(appos)
    if described is not None:
        triples.append((subject, "is", described))
    triples += [
        (subject, join_words(relation_noun(appos), prep.text.lower()), pobj)
        for prep, pobj in preposition_objects(appos, args)
    ]
    return triples


def possessive_triples(owner: Any, args: Arguments) -> list[Triple]:
    """ "X's Y": (X, has, Y); "X's Y is Z" also gives (X, Y is, Z)."""
    name = args.name(owner)
    owned = owner.head
    if name is None or owned is owner:
        return []
    triples: list[Triple] = []
    thing = args.name(owned, keep_possessor=False)
    if thing is not None:
        triples.append((name, "has", thing))
    if owned.dep_ in ("nsubj", "nsubjpass") and owned.head.lower_ in _BE:
        for obj in (c for c in owned.head.children if c.dep_ in ("attr", "acomp")):
            value = args.name(obj)
            if value is not None:
                triples.append((name, f"{args.bare(owned).lower()} is", value))
    return triples


def join_words(*parts: str) -> str:
    """Non-empty parts joined by single spaces."""
    return " ".join(p for p in parts if p)


def with_conjuncts(token: Any) -> list[Any]:
    """A token and the tokens coordinated with it ("A, B and C")."""
    found = [token]
    for child in token.children:
        if child.dep_ == "conj":
            found += with_conjuncts(child)
    return found
