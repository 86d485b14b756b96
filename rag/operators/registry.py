"""One operator registry: every role, its named implementations, and one resolver.

A role is a job that may use an LLM (read an answer, extract triples, summarize, navigate a
tree, reason a step, draft clues, filter facts). Each has named implementations, and every
setting or step field that picks one speaks one vocabulary:

- `auto`: the role's `llm` implementation when an LLM is configured, else its offline default;
- `llm`: the LLM implementation (a ConfigError without an LLM);
- `offline`: the role's offline default, whether or not an LLM is configured;
- `<name>` (or `<name>:<argument>`, e.g. `cache:PATH`): that implementation.

Older words (`on`, `off`) still resolve, as aliases, with a deprecation note in the log. The
built-in entries are in `rag.operators.builtin`; `rag.operators.per_index` builds each operator
once per opened index.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.errors import ConfigError

if TYPE_CHECKING:
    from rag.embed.base import Embedder
    from rag.llm.base import LLM

logger = logging.getLogger(__name__)

AUTO, LLM_WORD, OFFLINE = "auto", "llm", "offline"
#: Words every role accepts besides its implementations' names.
RESOLVER_WORDS = (AUTO, LLM_WORD, OFFLINE)


@dataclass(frozen=True)
class BuildInputs:
    """What a builder may use: the LLM (for LLM implementations), the embedder, the argument
    after `name:`, the cache folder, and the options the implementation declares."""

    llm: LLM | None = None
    embedder: Embedder | None = None
    argument: str = ""
    cache_dir: Path | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


Builder = Callable[[BuildInputs], Any]


@dataclass(frozen=True)
class Implementation:
    """One named way of doing a role's job."""

    role: str
    name: str
    builder: Builder
    summary: str
    needs_llm: bool = False
    #: Options (step or settings values) the builder reads; they are part of its cache key.
    options: tuple[str, ...] = ()
    #: The argument the name requires after a colon (`PATH` of `cache:PATH`), if any.
    takes_argument: str = ""

    @property
    def spelled(self) -> str:
        """The name as a spec writes it (`cache:PATH`)."""
        return f"{self.name}:{self.takes_argument}" if self.takes_argument else self.name


@dataclass
class Role:
    """A job with named implementations, its offline default and the old words it accepts."""

    name: str
    offline: str
    summary: str
    implementations: dict[str, Implementation] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)

    def known(self) -> list[str]:
        """Every word this role accepts, resolver words first, then implementations, aliases."""
        names = [i.spelled for i in self.implementations.values()]
        # `llm` is both a resolver word and an implementation's name: list every word once.
        return list(dict.fromkeys([*RESOLVER_WORDS, *sorted(names), *sorted(self.aliases)]))


@dataclass(frozen=True)
class Resolved:
    """A spec resolved to one implementation (and its argument, if it takes one)."""

    implementation: Implementation
    argument: str = ""
    #: The word chosen, with `auto` resolved to `llm` or `offline` (what manifests record).
    word: str = ""

    @property
    def role(self) -> str:
        """The role's name."""
        return self.implementation.role

    @property
    def name(self) -> str:
        """The implementation's name."""
        return self.implementation.name

    @property
    def label(self) -> str:
        """The name with its argument, as manifests and traces record it (`cache:PATH`)."""
        return f"{self.name}:{self.argument}" if self.argument else self.name


_ROLES: dict[str, Role] = {}
_noted: set[tuple[str, str]] = set()
_lock = threading.Lock()


def define_role(name: str, offline: str, summary: str, aliases: Mapping[str, str] = {}) -> Role:
    """Declare a role; `offline` names the implementation `offline` (and `auto`) fall back to."""
    role = Role(name, offline, summary, aliases=dict(aliases))
    _ROLES[name] = role
    return role


def register(
    role: str,
    name: str,
    summary: str,
    *,
    needs_llm: bool = False,
    options: tuple[str, ...] = (),
    takes_argument: str = "",
) -> Callable[[Builder], Builder]:
    """Register the decorated builder as implementation `name` of `role`."""
    if name in RESOLVER_WORDS and name != LLM_WORD:
        raise ValueError(f"{name!r} is a resolver word, not an implementation name")

    def add(builder: Builder) -> Builder:
        entry = Implementation(role, name, builder, summary, needs_llm, options, takes_argument)
        _ROLES[role].implementations[name] = entry
        return builder

    return add


def role(name: str) -> Role:
    """The role called `name`, with the built-in entries registered."""
    import rag.operators.builtin  # noqa: F401  (registers the entries on first use)

    if name not in _ROLES:
        raise ConfigError(f"unknown operator role {name!r}; roles: {', '.join(sorted(_ROLES))}")
    return _ROLES[name]


def roles() -> list[Role]:
    """Every role, in the order they were defined."""
    import rag.operators.builtin  # noqa: F401

    return list(_ROLES.values())


def _unknown(r: Role, spec: str) -> ConfigError:
    """The error for a word the role does not know, naming the ones it does."""
    return ConfigError(f"unknown {r.name} {spec!r}; known: {', '.join(r.known())}")


def _named(r: Role, spec: str) -> Resolved:
    """An implementation named by `spec` (or its alias), with its argument."""
    name, colon, argument = spec.partition(":")
    if name in r.aliases and not colon:
        target = r.aliases[name]
        with _lock:
            first = (r.name, name) not in _noted
            _noted.add((r.name, name))
        if first:
            logger.warning("%s %r is deprecated; it means %r", r.name, name, target)
        name = target
    entry = r.implementations.get(name)
    if (
        entry is None
        or bool(entry.takes_argument) != bool(colon)
        or (colon and not argument.strip())
    ):
        raise _unknown(r, spec)
    return Resolved(entry, argument.strip())


def resolve(
    role_name: str, spec: str, *, llm_available: bool, require_llm: bool = True
) -> Resolved:
    """The implementation `spec` selects for a role, given whether an LLM is configured;
    `require_llm=False` names an LLM implementation without an LLM (to record, not to build)."""
    r = role(role_name)
    chosen = spec.strip()
    if chosen == AUTO:
        chosen = LLM_WORD if llm_available and LLM_WORD in r.implementations else OFFLINE
    resolved = _named(r, r.offline if chosen == OFFLINE else chosen)
    resolved = Resolved(resolved.implementation, resolved.argument, chosen)
    if resolved.implementation.needs_llm and not llm_available and require_llm:
        raise ConfigError(
            f"{r.name} {spec!r} needs an LLM: set llm.provider and llm.model "
            f"(or use '{AUTO}' or '{OFFLINE}')"
        )
    return resolved


def check_spec(role_name: str, spec: str) -> str:
    """`spec` if the role knows it (for settings validators), else a ValueError naming the
    known words; whether an LLM is needed is checked when it is resolved."""
    r = role(role_name)
    word = spec.strip()
    if word in RESOLVER_WORDS:
        return word
    try:
        _named(r, word)
    except ConfigError as exc:
        raise ValueError(str(exc)) from None
    return word


def describe(role_name: str) -> str:
    """One line naming the role's words, for field descriptions and error hints."""
    r = role(role_name)
    names = ", ".join(i.spelled for i in r.implementations.values())
    older = ", ".join(f"{old} = {new}" for old, new in r.aliases.items())
    return (
        f"auto (llm when an LLM is configured, else {r.offline}), llm, offline (= {r.offline}), "
        f"or an implementation by name ({names})" + (f"; older words: {older}." if older else ".")
    )
